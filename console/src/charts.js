// The dashboard's charts: uPlot (bundled from npm by Vite, with its CSS; nothing is loaded from
// elsewhere) for every series, and an HTML grid for the RFM heat map, which is a table of cells,
// not a series. Each chart also carries its figures as a table under a disclosure, because a canvas
// says nothing to a screen reader, and as data-* attributes (points, series, sum) that the browser
// test reads.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h, table } from './dom.js';

const HEIGHT = 240;

// Colour-blind-safe (Okabe-Ito), darker first so two series stay apart on a white card.
export const PALETTE = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9', '#000000', '#f0e442'];
export const colour = (index) => PALETTE[index % PALETTE.length];

// The answer's days are calendar days of the space's time zone. They are drawn as UTC midnights and
// labelled in UTC, so a day reads the same whatever the browser's own zone is.
export const daySeconds = (day) => Date.parse(`${day}T00:00:00Z`) / 1000;
const dayText = (seconds) => (seconds == null ? '' : new Date(seconds * 1000).toISOString().slice(0, 10));
const utcDate = (seconds) => uPlot.tzDate(new Date(seconds * 1000), 'Etc/UTC');

// Counts start at zero: a bar or a line that starts mid-axis exaggerates small changes.
export const fromZero = (u, min, max) => uPlot.rangeNum(0, Math.max(max, 1), 0.1, true);

const integer = (value) => (value == null ? '—' : Math.round(value).toLocaleString('en-US'));
const decimal = (value) => (value == null ? '—' : Number(value).toLocaleString('en-US', { maximumFractionDigits: 2 }));

// uPlot merges a series' options over its defaults with Object.assign: a key present but undefined
// would replace the default (the scale "y"), so absent options are left out, not set to undefined.
const defined = (options) => Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));

export function lineSeries(label, index, { dash, scale, format = integer } = {}) {
  return defined({ label, stroke: colour(index), width: 2, dash, scale, value: (u, v) => format(v), points: { size: 5 } });
}

export function barSeries(label, index, { scale, format = integer } = {}) {
  const fill = colour(index);
  return defined({ label, stroke: fill, fill: `${fill}b3`, width: 1, scale, value: (u, v) => format(v),
    paths: uPlot.paths.bars({ size: [0.7, 48] }), points: { show: false } });
}

// Options for series over the answer's periods (x = each period's first day).
export function timeOptions(series, { scales = { y: { range: fromZero } }, axes, hooks } = {}) {
  return defined({
    height: HEIGHT,
    tzDate: utcDate,
    scales: { x: { time: true }, ...scales },
    series: [{ label: 'Period', value: (u, v) => dayText(v) }, ...series],
    axes: axes || [{}, { size: 56 }],
    cursor: { drag: { x: false, y: false } },
    hooks,
  });
}

// Options for a histogram of bins: x is the bin's index, labelled with its lower edge on the axis
// and its whole range in the legend.
export function histogramOptions(label, bins, index, formatEdge) {
  const short = bins.map((bin) => formatEdge(bin.from));
  const long = bins.map((bin) => `${formatEdge(bin.from)} to ${formatEdge(bin.to)}`);
  return {
    height: HEIGHT,
    scales: { x: { time: false, range: [-0.5, Math.max(bins.length, 1) - 0.5] }, y: { range: fromZero } },
    series: [{ label: 'Bin', value: (u, i) => long[i] ?? '' }, barSeries(label, index)],
    axes: [
      { splits: () => bins.map((_, i) => i), values: (u, splits) => splits.map((i) => short[i] ?? '') },
      { size: 56 },
    ],
    cursor: { drag: { x: false, y: false } },
  };
}

// A draw hook marking one day with a dashed vertical line and a label, the part after it shaded:
// the tracking plot's calibration end, after which the model's figures are predictions.
export function markDay(seconds, text) {
  return (u) => {
    const { ctx, bbox } = u;
    // Canvas pixels per CSS pixel (the instance's own only once it has been set on it).
    const pxRatio = u.pxRatio || uPlot.pxRatio || window.devicePixelRatio || 1;
    const x = Math.round(u.valToPos(seconds, 'x', true));
    if (!(x >= bbox.left && x <= bbox.left + bbox.width)) return;
    ctx.save();
    ctx.fillStyle = 'rgba(20, 33, 61, 0.05)';
    ctx.fillRect(x, bbox.top, bbox.left + bbox.width - x, bbox.height);
    ctx.strokeStyle = '#b00020';
    ctx.lineWidth = 2 * pxRatio;
    ctx.setLineDash([6 * pxRatio, 4 * pxRatio]);
    ctx.beginPath();
    ctx.moveTo(x, bbox.top);
    ctx.lineTo(x, bbox.top + bbox.height);
    ctx.stroke();
    ctx.fillStyle = '#b00020';
    ctx.font = `${Math.round(12 * pxRatio)}px system-ui, sans-serif`;
    // The axes leave their own alignment on the context.
    ctx.textAlign = 'left';
    ctx.textBaseline = 'alphabetic';
    const width = ctx.measureText(text).width;
    // The label goes left of the line when the line is near the right edge.
    const left = x + 6 * pxRatio + width > bbox.left + bbox.width ? x - 6 * pxRatio - width : x + 6 * pxRatio;
    ctx.fillText(text, left, bbox.top + 14 * pxRatio);
    ctx.restore();
  };
}

// Holds the page's plots: sizes each to its holder's width (and again when that changes), and
// destroys them all (clear) when the view redraws or goes.
export class ChartBoard {
  constructor() {
    this.plots = new Map();
    this.frame = 0;
    this.observer = new ResizeObserver(() => {
      cancelAnimationFrame(this.frame);
      this.frame = requestAnimationFrame(() => this.resize());
    });
  }

  // Draws `data` ([x, ...series]) with `options` into `holder`, replacing what was there.
  mount(holder, options, data) {
    this.unmount(holder);
    const plot = new uPlot({ ...options, width: holder.clientWidth || 480 }, data, holder);
    this.plots.set(holder, plot);
    this.observer.observe(holder);
    holder.dataset.points = String(data[0].length);
    holder.dataset.series = String(data.length - 1);
    holder.dataset.sum = String(data.slice(1).flat().reduce((sum, v) => sum + (Number.isFinite(v) ? v : 0), 0));
    return plot;
  }

  unmount(holder) {
    const plot = this.plots.get(holder);
    if (!plot) return;
    this.observer.unobserve(holder);
    plot.destroy();
    this.plots.delete(holder);
  }

  resize() {
    for (const [holder, plot] of this.plots) {
      const width = holder.clientWidth;
      if (width > 0 && Math.abs(width - plot.width) > 1) plot.setSize({ width, height: plot.height });
    }
  }

  clear() {
    cancelAnimationFrame(this.frame);
    this.observer.disconnect();
    for (const plot of this.plots.values()) plot.destroy();
    this.plots.clear();
  }
}

// The figures behind a chart, as a table a screen reader (or a spreadsheet user) can read.
export function figuresTable(caption, headers, rows) {
  return h('details', { class: 'chart-figures' },
    h('summary', {}, 'Figures as a table'),
    table(caption, headers, rows.map((row) => row.map((cell) => (typeof cell === 'number' ? decimal(cell) : cell)))));
}

// The RFM grid: recency down (5, the most recent, on top), frequency across, each cell shaded by
// its share of the busiest cell. Colours are set through the CSSOM (element.style), which the
// console's Content-Security-Policy allows, unlike style attributes.
export function rfmGrid(rfm) {
  const cells = new Map((rfm.cells || []).map((cell) => [`${cell.recency}:${cell.frequency}`, cell]));
  const most = Math.max(1, ...[...cells.values()].map((cell) => cell.profiles));
  const scores = [1, 2, 3, 4, 5];
  const row = (recency) => h('tr', {},
    h('th', { scope: 'row' }, `R${recency}`),
    scores.map((frequency) => {
      const cell = cells.get(`${recency}:${frequency}`) || { profiles: 0, monetary: 0 };
      const share = cell.profiles / most;
      const td = h('td', {
        class: 'rfm-cell',
        'data-recency': recency,
        'data-frequency': frequency,
        'data-profiles': cell.profiles,
        title: `recency ${recency}, frequency ${frequency}: ${cell.profiles} profiles, monetary ${decimal(cell.monetary)}`,
      }, integer(cell.profiles));
      // From the card's white to the accent blue; the text turns white where the cell is dark.
      const mix = (from, to) => Math.round(from + (to - from) * share);
      td.style.backgroundColor = `rgb(${mix(246, 31)}, ${mix(248, 79)}, ${mix(252, 168)})`;
      td.style.color = share > 0.5 ? '#ffffff' : '#1b1d21';
      return td;
    }));
  return h('table', { class: 'rfm-grid' },
    h('caption', {}, `${integer(rfm.profiles)} customers scored; 5 is best`),
    h('thead', {}, h('tr', {}, h('td', {}), scores.map((f) => h('th', { scope: 'col' }, `F${f}`)))),
    h('tbody', {}, [5, 4, 3, 2, 1].map(row)));
}
