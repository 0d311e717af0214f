// End-to-end test of the console's dashboard (its first page) in a real browser (Debian's
// chromium, headless, driven by playwright-core) against GET /v1/kpis of a real server.
//
// It starts Tessera with purchase rules (Order Completed, properties.revenue, USD), sends eight
// weeks of events ending yesterday, with explicit timestamps, through /v1/batch from three sources
// (web, app, pos): sign-ups, page views, app opens, 60 customers' orders at the till (drawn from
// the BG/NBD model itself, so that it can be fitted; more than half buy again), an order in EUR
// (an event, but no purchase under the rules), anonymous visitors, and an identify that merges a
// visitor's profile into a customer's; and defines two audiences. It counts (dashboard_expected.mjs)
// what every figure must be, per day and in total, with and without a channel, per week and per
// month, and checks that GET /v1/kpis agrees exactly (revenue to the cent). Once the resolver's
// sweep has fitted the purchase model, as a user would: signs in, lands on the dashboard, checks
// every tile and that every chart is drawn with the data, saves screenshots, changes the channel,
// the dates, the granularity and the model's calibration day, checking the figures follow, and
// shrinks the window to a phone's width.
//
// node tests/console/dashboard_test.mjs --tessera build/tools/tessera \
//      --modules build/console-web/node_modules --out build/console-screenshots
import assert from 'node:assert/strict';
import { browserTest, sendBatch, waitUntil } from './harness.mjs';
import { DAYS, addDays, dayAt, expectedKpis, mismatches, periodsOf, seedEvents, today } from './dashboard_expected.mjs';

const { step, shot, shotPath, startTessera, launchBrowser, run } = browserTest('dashboard');

const WRITE_KEYS = { web: 'dashboard-test-web', app: 'dashboard-test-app', pos: 'dashboard-test-pos' };
const READ_KEY = 'dashboard-test-read';
const ADMIN_KEY = 'dashboard-test-admin';

const config = {
  sources: Object.entries(WRITE_KEYS).map(([channel, key]) => ({ name: `${channel}-source`, write_key: key, space: 'default', channel })),
  read_keys: [READ_KEY],
  admin_keys: [ADMIN_KEY],
  purchases: [{ space: 'default', events: ['Order Completed'], value_properties: ['properties.revenue'], currency: 'USD' }],
};

let base = '';
const send = (channel, batch) => sendBatch(base, WRITE_KEYS[channel], batch, `${channel} events`);

async function apiGet(path, key = READ_KEY) {
  const response = await fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${key}` } });
  const text = await response.text();
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Kept as text for the message.
  }
  return { status: response.status, body };
}

async function kpis(query = '') {
  const { status, body } = await apiGet(`/v1/kpis${query ? `?${query}` : ''}`);
  assert.equal(status, 200, `GET /v1/kpis?${query}: ${JSON.stringify(body)}`);
  return body;
}

const waitFor = (what, condition, timeoutMs = 60_000) => waitUntil(what, condition, { timeoutMs, intervalMs: 200 });

// Waits until the answer to `query` agrees with what the test counted (the resolver applies the
// log in the background, and the server may cache its figures), then asserts it does, naming
// every figure that differs.
async function checkKpis(query, expected) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const answer = await kpis(query);
    const differences = mismatches(answer, expected);
    if (differences.length === 0) return answer;
    if (Date.now() > deadline) {
      assert.deepEqual(differences, [], `GET /v1/kpis?${query} disagrees with the events sent (first 20 differences shown)`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function defineAudience(name, condition) {
  const response = await fetch(`${base}/v1/audiences/${name}`, {
    method: 'PUT', headers: { Authorization: `Bearer ${ADMIN_KEY}` }, body: JSON.stringify({ description: name, condition }),
  });
  assert.equal(response.status, 200, `defining ${name}: ${await response.text()}`);
}

async function seed() {
  await defineAudience('buyers', { event: 'Order Completed' });
  await defineAudience('repeat_buyers', { event: 'Order Completed', op: 'gte', value: 2 });
  const { events, batches } = seedEvents();
  for (const { channel, batch } of batches) await send(channel, batch);
  return events;
}

// What the page shows for every chart: whether it is a uPlot with a painted canvas, and the data
// its holder was given.
function chartsOnPage(page) {
  return page.$$eval('#kpi-charts [data-chart]', (figures) => figures.map((figure) => {
    const holder = figure.querySelector('.chart-holder');
    const canvas = figure.querySelector('.uplot canvas');
    let painted = 0;
    if (canvas && canvas.width > 0 && canvas.height > 0) {
      const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted += 1;
    }
    return {
      id: figure.dataset.chart,
      state: figure.dataset.state,
      points: holder?.dataset.points === undefined ? null : Number(holder.dataset.points),
      series: holder?.dataset.series === undefined ? null : Number(holder.dataset.series),
      sum: holder?.dataset.sum === undefined ? null : Number(holder.dataset.sum),
      painted,
      cells: [...figure.querySelectorAll('td.rfm-cell')].map((cell) => Number(cell.dataset.profiles)),
      text: figure.textContent,
    };
  }));
}

const tileValue = (page, key) => page.getAttribute(`[data-tile="${key}"]`, 'data-value');
const close = (a, b) => Math.abs(a - b) < 0.005;

// Waits until the dashboard shows the answer to exactly `query` (data-query), then returns it.
async function shown(page, query) {
  await page.waitForFunction((want) => {
    const root = document.getElementById('dashboard');
    return root?.dataset.state === 'ready' && root.dataset.query === want;
  }, query, { timeout: 30_000 });
}

async function main() {
  ({ base } = await startTessera(config));
  step(`tessera on ${base}`);
  const events = await seed();
  step(`sent ${events.length} events`);

  // --- The API first: every figure per day (the default range), then with a channel, per week
  // and per month, against the counts made here.
  const daily = expectedKpis(events, { granularity: 'day' });
  const answer = await checkKpis('', daily);
  const [first, last] = [dayAt(0), dayAt(DAYS - 1)];
  assert.equal(answer.from, addDays(last, -89), 'from defaults to 89 days before the last day with an event');
  assert.equal(answer.to, last, 'to defaults to the last day with an event');
  assert.equal(answer.periods.length, 90, 'one period per day, none left out');
  assert.deepEqual(answer.channels, ['app', 'pos', 'web']);
  assert.equal(answer.first_day, first);
  assert.equal(answer.last_day, last);
  assert.equal(answer.time_zone, 'UTC');
  step(`GET /v1/kpis agrees: ${answer.totals.events} events, ${answer.totals.orders} orders, ${answer.totals.revenue} revenue, ${answer.totals.merges} merge`);
  await checkKpis('channel=pos', expectedKpis(events, { granularity: 'day', channel: 'pos' }));
  await checkKpis(`from=${dayAt(2)}&to=${dayAt(16)}&granularity=week`,
    expectedKpis(events, { from: dayAt(2), to: dayAt(16), granularity: 'week' }));
  await checkKpis(`from=${dayAt(20)}&to=${dayAt(20)}&granularity=month&channel=web`,
    expectedKpis(events, { from: dayAt(20), to: dayAt(20), granularity: 'month', channel: 'web' }));
  const bad = await apiGet('/v1/kpis?from=2025-13-01');
  assert.equal(bad.status, 400, `a bad from is refused: ${JSON.stringify(bad.body)}`);
  assert.equal(bad.body.field ?? bad.body.error?.field, 'from', `the refusal names the field: ${JSON.stringify(bad.body)}`);
  step('per channel, per week and per month agree; a bad date is refused');

  // --- Audiences: sizes now, and one size per period.
  const { buyers, repeatBuyers } = daily.audiences;
  await waitFor('both audiences evaluated', async () => {
    const all = await kpis('');
    const size = (name) => all.audiences.find((audience) => audience.name === name)?.size;
    return size('buyers') === buyers && size('repeat_buyers') === repeatBuyers;
  });

  // --- The purchase model: the resolver's sweep fits it; the dashboard shows it once it is there.
  const { customers } = daily.audiences;
  await waitFor('the purchase model', async () => {
    const { status, body } = await apiGet('/v1/models/purchase');
    return status === 200 && body.customers === customers;
  });
  let withModel = null;
  await waitFor('predictions in GET /v1/kpis', async () => {
    withModel = await kpis('');
    return withModel.predictions !== null && withModel.tracking !== null;
  });
  assert.equal(withModel.rfm.profiles, customers, 'every customer is scored');
  assert.equal(withModel.rfm.cells.length, 25, 'the RFM grid has 25 cells');
  assert.equal(withModel.rfm.cells.reduce((sum, cell) => sum + cell.profiles, 0), customers, 'the RFM cells hold every customer');
  assert.equal(withModel.predictions.p_alive.length, 10, 'ten P(alive) bins');
  assert.equal(withModel.predictions.p_alive.reduce((sum, bin) => sum + bin.profiles, 0), customers, 'P(alive) bins hold every customer');
  assert.equal(withModel.predictions.clv.bins.reduce((sum, bin) => sum + bin.profiles, 0), customers, 'CLV bins hold every customer');
  assert.ok(withModel.tracking.weeks.length > 0, 'the tracking plot has weeks');
  for (const audience of withModel.audiences) assert.equal(audience.sizes.length, withModel.periods.length, `${audience.name}: a size per period`);
  // Memberships are recorded when evaluated (today), not at the events' time: a range reaching
  // today ends with the sizes now, and the days before today had nobody.
  const untilToday = await kpis(`from=${first}&to=${today()}`);
  for (const audience of untilToday.audiences) {
    assert.equal(audience.sizes.at(-1), audience.size, `${audience.name}: the size at the end of today is the size now`);
    assert.equal(audience.sizes[0], 0, `${audience.name}: nobody was a member on the first day`);
  }
  step(`model ${withModel.predictions.model.version}: ${customers} customers, ${withModel.tracking.weeks.length} tracking weeks`);

  // --- The console: sign in, land on the dashboard.
  const context = await launchBrowser('chromium', { viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const outside = [];
  const problems = [];
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(`${base}/`) && !url.startsWith('data:') && !url.startsWith('blob:')) outside.push(url);
  });
  // Signing in with a read key asks GET /v1/audit, refused with 403: that is how the role is told.
  page.on('console', (message) => {
    if (message.type() === 'error' && !/status of 403/.test(message.text())) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));

  await page.goto(`${base}/console/`);
  await page.fill('#key', READ_KEY);
  await page.click('form button[type=submit]');
  await page.waitForSelector('h1:text("Dashboard")');
  assert.equal(await page.evaluate(() => location.hash), '#/dashboard', 'the dashboard is the first page');
  assert.equal(await page.getAttribute('#nav a[data-nav=dashboard]', 'aria-current'), 'page');
  await shown(page, 'granularity=day');  // The first request leaves the dates to the server.

  // --- Every tile shows the total the test counted.
  const totals = daily.totals;
  for (const key of ['events', 'active_profiles', 'new_profiles', 'merges', 'orders']) {
    assert.equal(Number(await tileValue(page, key)), totals[key], `tile ${key}`);
  }
  assert.ok(close(Number(await tileValue(page, 'revenue')), totals.revenue), 'tile revenue');
  assert.ok(close(Number(await tileValue(page, 'average_order_value')), totals.average_order_value), 'tile average order value');
  assert.ok(Math.abs(Number(await tileValue(page, 'repeat_purchase_rate')) - totals.repeat_purchase_rate) < 1e-9, 'tile repeat-purchase rate');
  assert.equal(await page.textContent('[data-tile=events]'), totals.events.toLocaleString('en-US'), 'the events tile reads as the count');
  assert.deepEqual(await page.$$eval('#kpi-channel option', (options) => options.map((option) => option.value)), ['', 'app', 'pos', 'web'],
    'the channel filter offers every channel of the answer');
  assert.equal(await page.inputValue('#kpi-from'), answer.from, 'the date inputs show the range used');
  assert.equal(await page.inputValue('#kpi-to'), answer.to);

  // --- Every chart is drawn, with the data of the answer.
  const charts = Object.fromEntries((await chartsOnPage(page)).map((chart) => [chart.id, chart]));
  assert.deepEqual(Object.keys(charts).sort(), ['audiences', 'clv', 'events', 'merges', 'p_alive', 'profiles', 'revenue', 'rfm', 'tracking'].sort());
  for (const id of ['events', 'profiles', 'merges', 'revenue', 'audiences', 'p_alive', 'clv', 'tracking']) {
    const chart = charts[id];
    assert.equal(chart.state, 'drawn', `${id} is drawn: ${chart.text}`);
    assert.ok(chart.painted > 1000, `${id}: the canvas is painted (${chart.painted} pixels)`);
    // Audiences were evaluated today, so up to yesterday they had no members: a flat line.
    assert.ok(chart.points > 0 && chart.series > 0 && (chart.sum > 0 || id === 'audiences'), `${id} has data: ${JSON.stringify(chart)}`);
  }
  assert.equal(charts.events.points, 90, 'the events chart has a point per day');
  assert.equal(charts.events.series, 3, 'a line per channel');
  assert.equal(charts.events.sum, totals.events, 'the events chart holds every event');
  assert.equal(charts.profiles.sum, totals.sumActive + totals.sumNew, 'the profiles chart holds the active and new profiles per day');
  assert.equal(charts.merges.sum, totals.merges, 'the merges chart holds the merge');
  assert.ok(close(charts.revenue.sum, totals.revenue + totals.orders), 'the revenue chart holds revenue and orders');
  assert.equal(charts.audiences.series, 2, 'a line per audience');
  assert.equal(charts.p_alive.points, 10, 'ten P(alive) bins');
  assert.equal(charts.p_alive.sum, customers, 'every customer in the P(alive) histogram');
  assert.equal(charts.clv.sum, customers, 'every customer in the CLV histogram');
  assert.equal(charts.tracking.points, withModel.tracking.weeks.length, 'a tracking point per week');
  assert.equal(charts.tracking.series, 2, 'actual and predicted');
  assert.equal(charts.rfm.cells.length, 25, 'the heat map has 25 cells');
  assert.equal(charts.rfm.cells.reduce((a, b) => a + b, 0), customers, 'the heat map holds every customer');
  await page.evaluate(() => document.activeElement.blur());  // No focus ring in the picture.
  await shot(page, '01-all-channels');
  step('every tile and chart matches; screenshot taken');

  // --- Filters: the channel narrows events and profiles, not orders.
  await page.selectOption('#kpi-channel', 'pos');
  await shown(page, `from=${answer.from}&to=${answer.to}&granularity=day&channel=pos`);
  const pos = expectedKpis(events, { granularity: 'day', channel: 'pos' }).totals;
  assert.notEqual(pos.events, totals.events, 'the test data has events off the pos channel');
  assert.equal(Number(await tileValue(page, 'events')), pos.events, 'the events tile counts pos only');
  assert.equal(Number(await tileValue(page, 'active_profiles')), pos.active_profiles, 'active profiles on pos');
  assert.equal(Number(await tileValue(page, 'orders')), totals.orders, 'orders count every channel');
  assert.match(await page.textContent('#kpi-channel-note'), /pos only/);

  // --- The date range: four weeks and a day, still on pos.
  const range = { from: dayAt(20), to: dayAt(48), channel: 'pos' };
  await page.fill('#kpi-from', range.from);
  await page.fill('#kpi-to', range.to);
  await shown(page, `from=${range.from}&to=${range.to}&granularity=day&channel=pos`);
  const posRange = expectedKpis(events, { ...range, granularity: 'day' }).totals;
  assert.equal(Number(await tileValue(page, 'events')), posRange.events, 'the events tile counts pos events of the range');
  assert.equal(Number(await tileValue(page, 'orders')), posRange.orders, 'orders of the range');
  assert.ok(close(Number(await tileValue(page, 'revenue')), posRange.revenue), 'revenue of the range');
  assert.equal((await chartsOnPage(page)).find((chart) => chart.id === 'events').points, 29, 'a point per day of the range');

  // --- Per week: the range widens to whole weeks, Monday to Sunday.
  await page.selectOption('#kpi-granularity', 'week');
  await shown(page, `from=${range.from}&to=${range.to}&granularity=week&channel=pos`);
  const weekly = expectedKpis(events, { ...range, granularity: 'week' });
  const weeks = periodsOf(range.from, range.to, 'week');
  assert.equal(await page.inputValue('#kpi-from'), weeks[0].start, 'from moves back to its week\'s Monday');
  assert.equal(await page.inputValue('#kpi-to'), weeks.at(-1).end, 'to moves forward to its week\'s Sunday');
  assert.equal(Number(await tileValue(page, 'events')), weekly.totals.events, 'pos events in the three weeks');
  const weekCharts = Object.fromEntries((await chartsOnPage(page)).map((chart) => [chart.id, chart]));
  assert.equal(weekCharts.events.points, weeks.length, 'a point per week');
  assert.equal(weekCharts.merges.sum, weekly.totals.merges, 'the merge is in these weeks');
  await page.evaluate(() => document.activeElement.blur());
  await shot(page, '02-pos-weekly');
  step(`filters: pos ${pos.events} events, ${range.from} to ${range.to} ${posRange.events}, per week ${weekly.totals.events}`);

  // --- The model fitted up to day 34: the tracking plot's calibration ends there, and the weeks
  // after it are a holdout.
  const calibrationEnd = dayAt(34);
  await page.fill('#kpi-model-as-of', calibrationEnd);
  const calibrated = `from=${weeks[0].start}&to=${weeks.at(-1).end}&granularity=week&channel=pos&model_as_of=${calibrationEnd}`;
  await shown(page, calibrated);
  const fitted = await kpis(calibrated);
  assert.equal(fitted.tracking?.calibration_end, calibrationEnd, `model_as_of sets the calibration end: ${JSON.stringify(fitted.tracking)}`);
  const tracking = (await chartsOnPage(page)).find((chart) => chart.id === 'tracking');
  assert.equal(tracking.state, 'drawn', `the tracking plot is drawn: ${tracking.text}`);
  assert.equal(tracking.points, fitted.tracking.weeks.length, 'a point per week of the fitted model');
  assert.ok(tracking.text.includes(`up to ${calibrationEnd}`), 'the caption names the calibration end');
  await page.locator('[data-chart=tracking]').screenshot({ path: shotPath('03-tracking-holdout') });

  // --- A phone-sized screen: the charts shrink to fit.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForFunction(() => [...document.querySelectorAll('.chart-holder .uplot')].every((plot) => plot.getBoundingClientRect().right <= window.innerWidth));
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the dashboard fits the phone's width (overflow ${overflow}px)`);
  await shot(page, '04-phone');

  assert.deepEqual(outside, [], 'no request may go anywhere but Tessera');
  assert.deepEqual(problems, [], 'no errors in the page (CSP violations included)');
  await context.close();
}

await run(main);
