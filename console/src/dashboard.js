// The dashboard, the console's first page (#/ and #/dashboard): the space's figures from
// GET /v1/kpis as tiles and charts, filtered by date range, granularity and channel, with the
// purchase model optionally fitted up to a chosen day (so its tracking plot has a holdout). Every change
// of a filter fetches again; an answer that comes back after a newer request went out is dropped,
// so what is drawn is always what the filters say. The root's data-state (loading, ready, error)
// and data-query (the request the figures answer) tell a test when the page has caught up.
import { api } from './api.js';
import { errorBox, formatTime, h } from './dom.js';
import { money, percent } from './lift.js';
import {
  ChartBoard, barSeries, daySeconds, figuresTable, fromZero, histogramOptions, lineSeries, markDay, rfmGrid, timeOptions,
} from './charts.js';

const NO_MODEL = 'No purchase model yet: it is fitted once customers have bought twice.';

const count = (value) => (value == null ? '—' : Number(value).toLocaleString('en-US'));
const orNone = (format) => (value) => (value == null ? '—' : format(value));
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

// The totals shown as tiles, in the order of the issue; `channel` marks the figures the channel
// filter narrows (the others count every channel, and the page says so when a channel is chosen).
const TILES = [
  { key: 'events', label: 'Events', format: count, channel: true },
  { key: 'active_profiles', label: 'Active profiles', format: count, channel: true },
  { key: 'new_profiles', label: 'New profiles', format: count, channel: true },
  { key: 'merges', label: 'Merges', format: count },
  { key: 'orders', label: 'Orders', format: count },
  { key: 'revenue', label: 'Revenue', format: orNone(money) },
  { key: 'average_order_value', label: 'Average order value', format: orNone(money) },
  { key: 'repeat_purchase_rate', label: 'Repeat-purchase rate', format: orNone(percent) },
];

const periodLabel = (period) => (period.start === period.end ? period.start : `${period.start} to ${period.end}`);

// The query string of a request, as data-query shows it.
export function describeQuery({ from, to, granularity, channel, modelAsOf }) {
  return [['from', from], ['to', to], ['granularity', granularity], ['channel', channel], ['model_as_of', modelAsOf]]
    .filter(([, value]) => value).map(([name, value]) => `${name}=${value}`).join('&');
}

// Every channel of the answer, including any that only appears in a period's breakdown.
export function channelsOf(answer) {
  const names = new Set(answer.channels || []);
  for (const period of answer.periods || []) for (const name of Object.keys(period.events_by_channel || {})) names.add(name);
  return [...names].sort();
}

// One chart per entry: { id, title, caption, options, data, figures: [headers, rows] } for uPlot,
// { id, title, element } for the heat map, or { id, title, empty } with a sentence instead.
export function chartSpecs(answer) {
  const periods = answer.periods || [];
  const x = periods.map((period) => daySeconds(period.start));
  const labels = periods.map(periodLabel);
  const column = (field) => periods.map((period) => period[field] ?? 0);
  const per = answer.granularity || 'day';
  const narrowed = answer.channel ? ` on ${answer.channel}` : '';
  const specs = [];

  const channels = channelsOf(answer);
  const byChannel = channels.map((name) => periods.map((period) => period.events_by_channel?.[name] ?? 0));
  specs.push({
    id: 'events', title: `Events per ${per} by channel`,
    caption: answer.channel ? `Every channel, whatever the channel filter; the tiles count ${answer.channel} only.` : 'One line per channel.',
    options: timeOptions(channels.map((name, i) => lineSeries(name, i))),
    data: [x, ...byChannel],
    figures: [['Period', ...channels], labels.map((label, i) => [label, ...byChannel.map((values) => values[i])])],
  });
  specs.push({
    id: 'profiles', title: `Active and new profiles per ${per}`,
    caption: `Active: profiles with an event${narrowed} in the ${per}; new: profiles whose first event${narrowed} is in it.`,
    options: timeOptions([lineSeries('Active profiles', 0), lineSeries('New profiles', 1)]),
    data: [x, column('active_profiles'), column('new_profiles')],
    figures: [['Period', 'Active', 'New'], labels.map((label, i) => [label, periods[i].active_profiles, periods[i].new_profiles])],
  });
  specs.push({
    id: 'merges', title: `Merges per ${per}`,
    caption: 'Two profiles found to be one person, by the event that showed it.',
    options: timeOptions([barSeries('Merges', 2)]),
    data: [x, column('merges')],
    figures: [['Period', 'Merges'], labels.map((label, i) => [label, periods[i].merges])],
  });
  specs.push({
    id: 'revenue', title: `Revenue and orders per ${per}`,
    caption: 'Purchases on every channel, by the space\'s purchase rules. Revenue on the left axis, orders on the right.',
    options: timeOptions([barSeries('Revenue', 0, { scale: 'revenue', format: orNone(money) }), lineSeries('Orders', 1, { scale: 'orders' })], {
      scales: { revenue: { range: fromZero }, orders: { range: fromZero } },
      axes: [{}, { scale: 'revenue', size: 64 }, { scale: 'orders', side: 1, size: 48, grid: { show: false } }],
    }),
    data: [x, column('revenue'), column('orders')],
    figures: [['Period', 'Revenue', 'Orders', 'Customers', 'Repeat customers'],
      labels.map((label, i) => [label, periods[i].revenue, periods[i].orders, periods[i].customers, periods[i].repeat_customers])],
  });

  const audiences = answer.audiences || [];
  // Sizes are aligned with the periods; a shorter list leaves gaps rather than shifting the line.
  const sizes = audiences.map((audience) => periods.map((_, i) => audience.sizes?.[i] ?? null));
  specs.push(audiences.length === 0
    ? { id: 'audiences', title: 'Audience sizes', empty: 'No audiences yet: build one under Audiences.' }
    : {
      id: 'audiences', title: `Audience sizes at the end of each ${per}`,
      caption: `Members now: ${audiences.map((audience) => `${audience.name} ${count(audience.size)}`).join(', ')}.`,
      options: timeOptions(audiences.map((audience, i) => lineSeries(audience.name, i))),
      data: [x, ...sizes],
      figures: [['Period', ...audiences.map((audience) => audience.name)], labels.map((label, i) => [label, ...sizes.map((values) => values[i] ?? '—')])],
    });

  const rfm = answer.rfm || { profiles: 0, cells: [] };
  specs.push(rfm.profiles > 0
    ? { id: 'rfm', title: 'RFM grid', caption: 'Customers by recency (rows) and frequency (columns) score; darker holds more. Hover a cell for its monetary value.', element: rfmGrid(rfm) }
    : { id: 'rfm', title: 'RFM grid', empty: 'Nobody has bought yet: the grid scores customers.' });

  // Why there is no model, in the server's words when it gives them (model_error).
  const noModel = answer.model_error ? `${NO_MODEL} (${answer.model_error})` : NO_MODEL;
  const predictions = answer.predictions;
  if (!predictions) {
    specs.push({ id: 'p_alive', title: 'P(alive)', empty: noModel }, { id: 'clv', title: 'Customer lifetime value', empty: noModel });
  } else {
    const model = `model ${predictions.model?.version ?? ''}, as of ${predictions.model?.as_of ?? ''}`;
    const pAlive = predictions.p_alive || [];
    const clv = predictions.clv?.bins || [];
    specs.push({
      id: 'p_alive', title: 'P(alive)', caption: `Customers by the probability that they still buy (BG/NBD, ${model}).`,
      options: histogramOptions('Customers', pAlive, 0, (edge) => Number(edge).toFixed(1)),
      data: [pAlive.map((_, i) => i), pAlive.map((bin) => bin.profiles)],
      figures: [['P(alive)', 'Customers'], pAlive.map((bin) => [`${bin.from} to ${bin.to}`, bin.profiles])],
    }, {
      id: 'clv', title: 'Customer lifetime value',
      caption: `Customers by predicted value over the next ${predictions.clv?.horizon_days ?? '?'} days (BG/NBD and Gamma-Gamma, ${model}).`,
      options: histogramOptions('Customers', clv, 4, (edge) => compact.format(edge)),
      data: [clv.map((_, i) => i), clv.map((bin) => bin.profiles)],
      figures: [['CLV', 'Customers'], clv.map((bin) => [`${money(bin.from)} to ${money(bin.to)}`, bin.profiles])],
    });
  }

  const tracking = answer.tracking;
  if (!tracking) {
    specs.push({ id: 'tracking', title: 'Model tracking', empty: noModel, wide: true });
  } else {
    const weeks = tracking.weeks || [];
    const end = daySeconds(tracking.calibration_end);
    // The x range always reaches the calibration end, so its mark is drawn even past the last week.
    const range = (u, min, max) => {
      const low = Math.min(min ?? end, end);
      const high = Math.max(max ?? end, end);
      return low === high ? [low - 7 * 86400, high + 7 * 86400] : [low, high];
    };
    specs.push({
      id: 'tracking', title: 'Model tracking: cumulative repeat transactions by week', wide: true,
      caption: `Actual against predicted; the model was fitted on the purchases up to ${tracking.calibration_end} (dashed red line), after which its line is a forecast.`,
      options: timeOptions([lineSeries('Actual', 0), lineSeries('Predicted', 1, { dash: [8, 5], format: orNone((v) => Number(v).toFixed(1)) })], {
        scales: { x: { time: true, range }, y: { range: fromZero } },
        hooks: { draw: [markDay(end, `calibration end ${tracking.calibration_end}`)] },
      }),
      data: [weeks.map((week) => daySeconds(week.start)), weeks.map((week) => week.actual), weeks.map((week) => week.predicted)],
      figures: [['Week', 'Actual', 'Predicted'], weeks.map((week) => [week.start, week.actual, week.predicted])],
    });
  }
  return specs;
}

function tilesOf(answer) {
  const totals = answer.totals || {};
  return TILES.map((tile) => h('div', { class: 'tile' },
    h('dt', {}, tile.label, tile.channel && answer.channel ? ` (${answer.channel})` : ''),
    h('dd', { 'data-tile': tile.key, 'data-value': totals[tile.key] == null ? '' : String(totals[tile.key]) }, tile.format(totals[tile.key]))));
}

function rangeText(answer) {
  const days = answer.first_day ? `Events from ${answer.first_day} to ${answer.last_day} in all.` : 'No events yet: figures appear as they arrive.';
  return `Days ${answer.from} to ${answer.to} (${answer.time_zone}), per ${answer.granularity}, ` +
    `${answer.channel ? `channel ${answer.channel}` : 'all channels'}. ${days} Computed ${formatTime(answer.computed_at)}.`;
}

export function renderDashboard(main, { onUnauthorized } = {}) {
  const from = h('input', { id: 'kpi-from', name: 'from', type: 'date' });
  const to = h('input', { id: 'kpi-to', name: 'to', type: 'date' });
  const granularity = h('select', { id: 'kpi-granularity', name: 'granularity' },
    ['day', 'week', 'month'].map((value) => h('option', { value }, value)));
  const channel = h('select', { id: 'kpi-channel', name: 'channel' }, h('option', { value: '' }, 'All channels'));
  // Empty: the model the server keeps (fitted on everything up to its last refit).
  const modelAsOf = h('input', { id: 'kpi-model-as-of', name: 'model_as_of', type: 'date', 'aria-describedby': 'kpi-model-help' });
  const field = (input, label) => h('div', { class: 'field' }, h('label', { for: input.id }, label), input);
  const form = h('form', { class: 'filters card', id: 'kpi-filters', 'aria-label': 'Dashboard filters' },
    field(from, 'From'), field(to, 'To (inclusive)'), field(granularity, 'Per'), field(channel, 'Channel'),
    field(modelAsOf, 'Model fitted up to'),
    h('p', { id: 'kpi-model-help', class: 'help grow' },
      'Optional: fit the purchase model on the purchases up to that day, to compare its forecast with what happened after.'));
  const status = h('p', { id: 'kpi-status', class: 'help', role: 'status' }, 'Loading…');
  const tiles = h('dl', { class: 'metrics kpi-tiles', id: 'kpi-tiles' });
  const note = h('p', { id: 'kpi-channel-note', class: 'help', hidden: true });
  const charts = h('div', { class: 'kpi-charts', id: 'kpi-charts' });
  const root = h('div', { id: 'dashboard', 'data-state': 'loading' }, form, status, tiles, note, charts);
  main.replaceChildren(h('h1', {}, 'Dashboard'), root);

  const board = new ChartBoard();
  let latest = 0;
  let disposed = false;

  function fill(answer) {
    if (answer.from) from.value = answer.from;
    if (answer.to) to.value = answer.to;
    granularity.value = answer.granularity || 'day';
    const names = channelsOf(answer);
    if (answer.channel && !names.includes(answer.channel)) names.push(answer.channel);
    channel.replaceChildren(h('option', { value: '' }, 'All channels'),
      ...names.map((name) => h('option', { value: name, selected: name === answer.channel }, name)));
    channel.value = answer.channel || '';
  }

  function draw(answer) {
    board.clear();
    tiles.replaceChildren(...tilesOf(answer));
    note.hidden = !answer.channel;
    note.textContent = answer.channel ? `Events and profiles count ${answer.channel} only; merges, orders and revenue count every channel.` : '';
    const specs = chartSpecs(answer);
    const holders = [];
    charts.replaceChildren(...specs.map((spec) => {
      const holder = h('div', { class: 'chart-holder' });
      if (spec.options) holders.push([holder, spec]);
      return h('figure', { class: `card chart-card${spec.wide ? ' wide' : ''}`, 'data-chart': spec.id, 'data-state': spec.empty ? 'empty' : 'drawn' },
        h('h2', {}, spec.title),
        spec.empty ? h('p', { class: 'notice' }, spec.empty) : spec.element || holder,
        spec.caption ? h('figcaption', {}, spec.caption) : null,
        spec.figures ? figuresTable(spec.title, ...spec.figures) : null);
    }));
    // Mounted once in the document, so each plot takes its holder's laid-out width.
    for (const [holder, spec] of holders) board.mount(holder, spec.options, spec.data);
  }

  async function load() {
    const query = { from: from.value, to: to.value, granularity: granularity.value, channel: channel.value, modelAsOf: modelAsOf.value };
    const request = ++latest;
    root.dataset.state = 'loading';
    status.textContent = 'Loading…';
    try {
      const answer = await api.kpis(query);
      if (disposed || request !== latest) return;
      fill(answer);
      draw(answer);
      status.textContent = rangeText(answer);
      root.dataset.query = describeQuery(query);
      root.dataset.state = 'ready';
    } catch (error) {
      if (disposed || request !== latest) return;
      if (error.status === 401 && onUnauthorized) {
        onUnauthorized();
        return;
      }
      // The figures drawn belong to filters the form no longer has: they go with the error.
      board.clear();
      tiles.replaceChildren();
      charts.replaceChildren();
      note.hidden = true;
      status.replaceChildren(errorBox(error));
      root.dataset.query = describeQuery(query);
      root.dataset.state = 'error';
    }
  }

  form.addEventListener('change', load);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    load();
  });
  load();
  return () => {
    disposed = true;
    board.clear();
  };
}
