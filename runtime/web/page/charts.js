// The graphs: thin wrappers over uPlot (served as /uplot.js, the global
// uPlot). A chart is rebuilt when its set of lines changes (a server or an
// rcode appears) or the colour scheme does, else only its data is replaced.
/* global uPlot */
import { short, us, usShort } from "./dom.js";

// Distinguishable in light and dark schemes.
export const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1",
                        "#ff9da7", "#9c755f", "#8cd17d", "#499894", "#d37295"];

function theme() {
  const css = getComputedStyle(document.documentElement);
  const v = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
  return { axis: v("--muted", "#666"), grid: v("--grid", "#e5e5e5"), accent: v("--accent", "#4e79a7"),
           font: `11px ${v("--font", "system-ui, sans-serif")}` };
}

function axis(t, extra) {
  return { stroke: t.axis, font: t.font, grid: { stroke: t.grid, width: 1 }, ticks: { stroke: t.grid, width: 1, size: 4 },
           ...extra };
}

class Chart {
  constructor(container, height) {
    this.container = container;
    this.height = height;
    this.plot = null;
    this.signature = "";
    this.resize = new ResizeObserver(() => {
      const w = this.width();
      if (this.plot && Math.abs(w - this.plot.width) > 1) this.plot.setSize({ width: w, height: this.height });
    });
    this.resize.observe(container);
  }

  width() {
    return Math.max(200, Math.floor(this.container.clientWidth));
  }

  // Rebuilds when the lines (or the scheme) changed, else replaces the data.
  show(signature, makeOptions, data) {
    if (!this.plot || signature !== this.signature) {
      if (this.plot) this.plot.destroy();
      this.container.replaceChildren();
      this.plot = new uPlot({ width: this.width(), height: this.height, ...makeOptions(theme()) }, data, this.container);
      this.signature = signature;
    } else {
      this.plot.setData(data);
    }
  }

  restyle() {
    this.signature = "";
  }

  info() {
    const d = this.plot ? this.plot.data : [[]];
    const x = d[0] || [];
    return Object.freeze({ points: x.length, firstX: x.length ? x[0] : null, lastX: x.length ? x[x.length - 1] : null,
                           series: this.plot ? this.plot.series.slice(1).map((s) => s.label) : [] });
  }
}

// Lines over time. lines: [{label, color, dash?, width?}]; columns: one array
// per line, aligned with x (Unix seconds); null leaves a gap.
// Whole steps for counts: 1, 2, 5, 10, 20, 50, ... (never 0.3 queries).
const COUNT_STEPS = [];
for (let e = 0; e < 12; e++) for (const m of [1, 2, 5]) COUNT_STEPS.push(m * 10 ** e);

const two = (n) => String(n).padStart(2, "0");
// Seconds between time ticks (uPlot's own list jumps from 1 to 5 minutes).
const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400];

// Time ticks in 24-hour local time, with seconds when ticks are closer than a minute.
function timeTicks(u, splits, axisIdx, space, incr) {
  return splits.map((t) => {
    const d = new Date(t * 1000);
    const hm = `${two(d.getHours())}:${two(d.getMinutes())}`;
    return incr < 60 ? `${hm}:${two(d.getSeconds())}` : hm;
  });
}

function timeLegend(u, t) {
  if (t == null) return "";
  const d = new Date(t * 1000);
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

// Powers of ten inside a log scale's range: one grid line a decade.
function decades(u, axisIdx, min, max) {
  const out = [];
  for (let e = Math.ceil(Math.log10(Math.max(min, 1e-9))); 10 ** e <= max * 1.0001; e++) out.push(10 ** e);
  return out.length ? out : [min, max];
}

// Lines over time. lines: [{label, color, dash?, width?}]; columns: one array
// per line, aligned with x (Unix seconds); null leaves a gap. format shows a
// value in the legend, axisFormat on the axis.
export class TimeChart extends Chart {
  constructor(container, { height = 190, format = short, axisFormat = short, log = false, group = "dnspc" } = {}) {
    super(container, height);
    this.format = format;
    this.axisFormat = axisFormat;
    this.log = log;
    this.group = group;
  }

  update(x, lines, columns) {
    const signature = lines.map((l) => `${l.label}|${l.color}|${l.dash || ""}`).join(";");
    const { format, axisFormat } = this;
    const yScale = this.log
      ? { distr: 3, log: 10,
          range: (u, min, max) => (min > 0 && max > 0 ? uPlot.rangeLog(min, max, 10, true) : [10, 10000]) }
      : { range: (u, min, max) => [0, max > 0 ? Math.max(max * 1.08, 4) : 4] };
    const yAxis = { size: 58, values: (u, vals) => vals.map((v) => axisFormat(v)) };
    if (this.log) yAxis.splits = decades;
    else yAxis.incrs = COUNT_STEPS;
    this.show(signature, (t) => ({
      cursor: { sync: { key: this.group }, points: { size: 6 } },
      legend: { live: true },
      scales: { x: { time: true }, y: yScale },
      axes: [axis(t, { space: 70, incrs: TIME_STEPS, values: timeTicks }), axis(t, yAxis)],
      series: [{ label: "time", value: timeLegend },
               ...lines.map((l) => ({ label: l.label, stroke: l.color, width: l.width || 1.5, dash: l.dash,
                                      points: { show: false }, spanGaps: false,
                                      value: (u, v) => (v == null ? "" : format(v)) }))],
    }), [x, ...columns]);
  }
}

// The latency histogram: one bar per bucket of bounds_us (and one more for
// slower answers), x = bucket index.
export class HistogramChart extends Chart {
  constructor(container, { height = 190 } = {}) {
    super(container, height);
    this.bounds = [];
  }

  label(i) {
    const b = this.bounds;
    if (i < 0 || i > b.length) return "";
    return i < b.length ? `\u2264 ${us(b[i])}` : `> ${us(b[b.length - 1])}`;
  }

  info() {
    const total = this.plot ? (this.plot.data[1] || []).reduce((a, b) => a + (b || 0), 0) : 0;
    return Object.freeze({ ...super.info(), total });
  }

  update(bounds, counts) {
    this.bounds = bounds;
    const x = counts.map((_, i) => i);
    const n = counts.length;
    // Decades: 10 us, 100 us, 1 ms, ... are every fourth bound.
    const ticks = x.filter((i) => i < bounds.length && Math.round(Math.log10(bounds[i])) === Math.log10(bounds[i]));
    this.show(`histogram|${n}`, (t) => ({
      cursor: { points: { show: false }, drag: { x: false, y: false } },
      legend: { live: true },
      scales: { x: { time: false, range: [-0.6, n - 0.4] }, y: { range: (u, min, max) => [0, Math.max(max * 1.1, 4)] } },
      axes: [axis(t, { splits: () => ticks, values: (u, vals) => vals.map((i) => usShort(bounds[i])), grid: { show: false } }),
             axis(t, { size: 56, incrs: COUNT_STEPS, values: (u, vals) => vals.map((v) => short(v)) })],
      series: [{ label: "bucket", value: (u, i) => (i == null ? "" : this.label(i)) },
               { label: "answers", fill: t.accent, stroke: t.accent, width: 0, points: { show: false },
                 paths: uPlot.paths.bars({ size: [0.82, 40], gap: 1 }), value: (u, v) => (v == null ? "" : short(v)) }],
    }), [x, counts]);
  }
}
