// The dnspc page: polls the JSON API (docs/api.md) and draws it.
//
// Requests: one a second, GET /api/v1/dashboard, holding the series (the
// graphs and the figures of the last second; after the first load only the
// seconds it has not seen) and every slower document that is due, each of
// the tasks below with its own period. None while the tab is hidden; while
// dnspc does not answer, only the series, every five seconds after three
// failures. Typing in the rules search box, paging, or changing a selector
// asks at once.
import { $, DASH, clock, int, isNum, percent, rate, short, str, text, us, usShort } from "./dom.js";
import { HistogramChart, PALETTE, TimeChart } from "./charts.js";
import * as tables from "./tables.js";

const WINDOW = 300;          // seconds of samples kept and drawn
const TIMEOUT_MS = 5000;
const RULES_PAGE = 25;
const TOP_N = 10;
const HISTOGRAM_WINDOW_S = 60;
const started = performance.now();

const state = {
  samples: [],               // /series samples, oldest first, at most WINDOW
  lastSampleAt: 0,           // performance.now() when the newest sample arrived
  servers: null,             // the /servers document
  pools: null,               // the /pools document
  overrides: new Map(),      // server key -> /overrides entry
  latency: [],               // [{t, doc}] /latency snapshots of the last two minutes
  rules: { offset: 0, filter: "", previous: new Map(), total: null },
  labels: 0,
  policyHash: null,
  requests: { total: 0, failed: 0, byPath: {} },
  seriesOk: false,
  seriesError: "",
  failures: 0,               // series requests failed in a row
  ticks: 0,
};

// ---------------------------------------------------------------- fetching

class HttpError extends Error {}

async function get(path, params) {
  const query = params ? `?${new URLSearchParams(params)}` : "";
  state.requests.total += 1;
  state.requests.byPath[path] = (state.requests.byPath[path] || 0) + 1;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
  try {
    const r = await fetch(`/api/v1/${path}${query}`, { cache: "no-store", signal: abort.signal,
                                                      headers: { Accept: "application/json" } });
    let doc = null;
    try {
      doc = await r.json();
    } catch {
      doc = null;
    }
    if (!r.ok) throw new HttpError(doc && doc.error ? `${r.status}: ${doc.error}` : `HTTP ${r.status}`);
    if (!doc || typeof doc !== "object") throw new HttpError("not a JSON document");
    return doc;
  } catch (e) {
    state.requests.failed += 1;
    throw e instanceof HttpError ? e : new HttpError(e.name === "AbortError" ? "timed out" : "unreachable");
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------- graphs

const charts = {
  traffic: new TimeChart($("chart-traffic"), { height: 210 }),
  rcodes: new TimeChart($("chart-rcodes")),
  backendQps: new TimeChart($("chart-backend-qps")),
  backendLatency: new TimeChart($("chart-backend-latency"), { log: true, format: us, axisFormat: usShort }),
  histogram: new HistogramChart($("chart-histogram")),
};

const RCODE_ORDER = ["NOERROR", "NXDOMAIN", "REFUSED", "SERVFAIL", "FORMERR", "NOTIMP"];
const RCODE_COLOR = { NOERROR: "#59a14f", NXDOMAIN: "#f28e2b", REFUSED: "#b07aa1", SERVFAIL: "#e15759",
                      FORMERR: "#9c755f", NOTIMP: "#76b7b2" };
const MAX_QPS_LINES = 10;
const MAX_LATENCY_SERVERS = 6;
const serverColors = new Map();

function serverColor(key) {
  if (!serverColors.has(key)) serverColors.set(key, PALETTE[serverColors.size % PALETTE.length]);
  return serverColors.get(key);
}

function mergeSamples(samples) {
  if (!Array.isArray(samples)) return;
  const last = state.samples.length ? state.samples[state.samples.length - 1].time : -Infinity;
  let added = false;
  for (const s of samples) {
    if (s && isNum(s.time) && s.time > last + 0.001) {
      state.samples.push(s);
      added = true;
    }
  }
  if (state.samples.length > WINDOW) state.samples.splice(0, state.samples.length - WINDOW);
  if (added) state.lastSampleAt = performance.now();
}

const field = (s, path) => path.reduce((o, k) => (o && typeof o === "object" ? o[k] : undefined), s);
const column = (path) => state.samples.map((s) => (isNum(field(s, path)) ? field(s, path) : null));

function drawSeries() {
  const samples = state.samples;
  const x = samples.map((s) => s.time);

  charts.traffic.update(x, [
    { label: "queries", color: "#4e79a7", width: 2 },
    { label: "from backends", color: "#59a14f" },
    { label: "made locally", color: "#f28e2b" },
    { label: "dropped", color: "#e15759" },
    { label: "timeout SERVFAIL", color: "#b07aa1", dash: [4, 3] },
  ], [column(["queries"]), column(["answers", "backend"]), column(["answers", "local"]), column(["dropped"]),
      column(["answers", "timeout_servfail"])]);

  const rcodes = new Set();
  for (const s of samples) for (const k of Object.keys(s.rcodes || {})) rcodes.add(k);
  const rank = (r) => (RCODE_ORDER.includes(r) ? RCODE_ORDER.indexOf(r) : RCODE_ORDER.length);
  const rcodeList = [...rcodes].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  charts.rcodes.update(x,
    rcodeList.map((r, i) => ({ label: r, color: RCODE_COLOR[r] || PALETTE[(i + 6) % PALETTE.length] })),
    rcodeList.map((r) => samples.map((s) => (s.rcodes && isNum(s.rcodes[r]) ? s.rcodes[r] : 0))));

  // Servers in the window, busiest first; past MAX_QPS_LINES they are summed.
  const totals = new Map();
  for (const s of samples) {
    for (const [k, v] of Object.entries(s.servers || {})) {
      totals.set(k, (totals.get(k) || 0) + (isNum(v.queries) ? v.queries : 0));
    }
  }
  const order = serverOrder();
  const keys = [...totals.keys()].sort((a, b) => order(a) - order(b) || a.localeCompare(b));
  keys.forEach(serverColor);
  const busiest = [...keys].sort((a, b) => totals.get(b) - totals.get(a));
  const shown = keys.length > MAX_QPS_LINES ? keys.filter((k) => busiest.indexOf(k) < MAX_QPS_LINES - 1) : keys;
  const rest = keys.filter((k) => !shown.includes(k));
  const perServer = (k, f) => samples.map((s) => {
    const v = s.servers && s.servers[k];
    return v && isNum(v[f]) ? v[f] : null;
  });
  const names = serverLabels(keys);
  const qpsLines = shown.map((k) => ({ label: names.get(k), color: serverColor(k) }));
  const qpsColumns = shown.map((k) => perServer(k, "queries"));
  if (rest.length) {
    qpsLines.push({ label: `${rest.length} others`, color: "#bab0ac", dash: [2, 2] });
    qpsColumns.push(samples.map((s) => rest.reduce((a, k) => a + ((s.servers && s.servers[k] && s.servers[k].queries) || 0), 0)));
  }
  charts.backendQps.update(x, qpsLines, qpsColumns);

  // Latency of the busiest servers; a second without answers is a gap.
  const latencyKeys = keys.filter((k) => busiest.indexOf(k) < MAX_LATENCY_SERVERS);
  const quantile = (k, f) => samples.map((s) => {
    const v = s.servers && s.servers[k];
    return v && v.answers > 0 && v[f] > 0 ? v[f] : null;
  });
  charts.backendLatency.update(x,
    latencyKeys.flatMap((k) => [{ label: `${names.get(k)} p50`, color: serverColor(k) },
                                { label: "p99", color: serverColor(k), dash: [5, 4], width: 1.2 }]),
    latencyKeys.flatMap((k) => [quantile(k, "p50_us"), quantile(k, "p99_us")]));

  const last = samples[samples.length - 1];
  if (last) {
    const q = last.queries;
    const answers = Object.values(last.rcodes || {}).reduce((a, b) => a + (isNum(b) ? b : 0), 0);
    const servfail = last.rcodes ? last.rcodes.SERVFAIL || 0 : undefined;
    text("kpi-queries", rate(q));
    text("kpi-queries-sub", `${rate(answers)} answered`);
    text("kpi-backend", rate(field(last, ["answers", "backend"])));
    text("kpi-backend-sub", `${percent(field(last, ["answers", "backend"]), q)} of queries`);
    text("kpi-local", rate(field(last, ["answers", "local"])));
    text("kpi-local-sub", `${percent(field(last, ["answers", "local"]), q)} of queries`);
    text("kpi-dropped", rate(last.dropped));
    text("kpi-dropped-sub", `${percent(last.dropped, q)} of queries`);
    text("kpi-servfail", rate(servfail));
    text("kpi-servfail-sub", `${percent(servfail, answers)} of answers`);
    $("kpi-servfail").classList.toggle("bad", servfail > 0);
  }
}

// A server's line label: its address, or its key when two pools share it.
function serverLabels(keys) {
  const address = (k) => k.slice(k.indexOf("/") + 1);
  const seen = new Map();
  for (const k of keys) seen.set(address(k), (seen.get(address(k)) || 0) + 1);
  return new Map(keys.map((k) => [k, seen.get(address(k)) > 1 ? k : address(k)]));
}

// Servers in the order the /servers document lists them (the policy's).
function serverOrder() {
  const list = state.servers && Array.isArray(state.servers.servers) ? state.servers.servers : [];
  const index = new Map(list.map((s, i) => [s.key, i]));
  return (k) => (index.has(k) ? index.get(k) : list.length);
}

// ---------------------------------------------------------------- the latency histogram

function histogramOf(doc, source) {
  if (!doc) return null;
  if (source === "overall") return doc.overall;
  const [group, ...rest] = source.split(".");
  const key = rest.join(".");  // a server key may hold dots
  return doc[group] && doc[group][key];
}

function quantile(bounds, counts, q) {
  const total = counts.reduce((a, b) => a + b, 0);
  if (!total) return null;
  const want = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    if (seen + counts[i] >= want && counts[i] > 0) {
      const lo = i === 0 ? bounds[0] / 1.78 : bounds[i - 1];
      const hi = i < bounds.length ? bounds[i] : bounds[bounds.length - 1] * 1.78;
      return lo * (hi / lo) ** ((want - seen) / counts[i]);  // log-spaced buckets
    }
    seen += counts[i];
  }
  return bounds[bounds.length - 1];
}

function fillSourceChoices(doc) {
  const select = $("hist-source");
  const choices = [["overall", "all backends"]];
  for (const t of Object.keys(doc.transport || {})) choices.push([`transport.${t}`, `over ${t.toUpperCase()}`]);
  for (const k of Object.keys(doc.servers || {})) choices.push([`servers.${k}`, k]);
  const current = [...select.options].map((o) => o.value).join("\n");
  if (current === choices.map((c) => c[0]).join("\n")) return;
  const chosen = select.value;
  select.replaceChildren(...choices.map(([value, label]) => new Option(label, value)));
  select.value = choices.some((c) => c[0] === chosen) ? chosen : "overall";
}

function drawHistogram() {
  const snaps = state.latency;
  if (!snaps.length) return;
  const latest = snaps[snaps.length - 1];
  const bounds = Array.isArray(latest.doc.bounds_us) ? latest.doc.bounds_us : [];
  fillSourceChoices(latest.doc);
  const source = $("hist-source").value;
  const now = histogramOf(latest.doc, source);
  const nowBuckets = now && Array.isArray(now.buckets) ? now.buckets : bounds.map(() => 0).concat([0]);
  let counts = nowBuckets;
  let span = "since start";
  if ($("hist-window").value !== "all") {
    const base = snaps.find((s) => s.t <= latest.t - HISTOGRAM_WINDOW_S) || snaps[0];
    const before = base !== latest ? histogramOf(base.doc, source) : null;
    if (before && Array.isArray(before.buckets) && before.buckets.length === nowBuckets.length) {
      const diff = nowBuckets.map((v, i) => v - before.buckets[i]);
      if (diff.every((v) => v >= 0)) {  // else dnspc restarted: show what it has
        counts = diff;
        span = `last ${Math.round(latest.t - base.t)} s`;
      }
    }
  }
  charts.histogram.update(bounds, counts);
  const total = counts.reduce((a, b) => a + b, 0);
  const p50 = quantile(bounds, counts, 0.5);
  const p99 = quantile(bounds, counts, 0.99);
  text("hist-summary", total ? `${int(total)} answers, ${span}: p50 \u2248 ${us(p50)}, p99 \u2248 ${us(p99)}`
                             : `no answers, ${span}`);
  if (source === "overall") {
    text("kpi-latency", total ? us(p99) : DASH);
    text("kpi-latency-sub", total ? `p50 ${us(p50)}` : "");
    $("kpi-latency-sub").title = span;
  }
}

// ---------------------------------------------------------------- the tasks

function note(id, error, what) {
  const node = $(id);
  if (!node) return;
  node.textContent = error ? `${what} not updated: ${error}` : "";
  node.classList.toggle("error", Boolean(error));
}

function liveByServer() {
  const last = state.samples[state.samples.length - 1];
  const live = new Map();
  if (last && last.servers) {
    for (const [k, v] of Object.entries(last.servers)) {
      live.set(k, { qps: v.queries, p99: v.answers > 0 ? v.p99_us : undefined });
    }
  }
  return live;
}

function serverMap() {
  const list = state.servers && Array.isArray(state.servers.servers) ? state.servers.servers : [];
  return new Map(list.map((s) => [s.key, s]));
}

function drawServers() {
  if (!state.servers) return;
  const list = Array.isArray(state.servers.servers) ? state.servers.servers : [];
  tables.servers($("servers-body"), list, liveByServer(), state.overrides);
  const up = list.filter((s) => s.state === "up").length;
  text("kpi-servers", list.length ? `${up} / ${list.length}` : DASH);
  const pools = Array.isArray(state.servers.pools) ? state.servers.pools.length : undefined;
  text("kpi-servers-sub", isNum(pools) ? `in ${pools} pool${pools === 1 ? "" : "s"}` : "");
  $("kpi-servers").classList.toggle("bad", list.length > 0 && up < list.length);
  drawPools();
}

function drawPools() {
  const doc = state.pools || state.servers;
  if (doc) tables.pools($("pools-body"), doc.pools, serverMap());
}

// The seconds of samples to ask for: the whole window the first time, then
// what is new (with a margin).
function seriesSeconds() {
  return state.samples.length
    ? Math.min(WINDOW, Math.max(3, Math.ceil((performance.now() - state.lastSampleAt) / 1000) + 2))
    : WINDOW;
}

function applySeries(doc) {
  if (!doc || typeof doc !== "object") throw new HttpError("no series in the answer");
  if (doc.error) throw new HttpError(doc.error);
  mergeSamples(doc.samples);
  drawSeries();
  drawServers();  // its per-second columns
  state.seriesOk = true;
  state.seriesError = "";
  state.failures = 0;
}

const topKinds = [["queries", true], ["clients", false], ["servfail-names", true], ["servfail-clients", false]];

function topTask([kind, names]) {
  return {
    name: `top-${kind}`, part: `top/${kind}`, period: 16,
    // n and labels are shared by the lists of one request; labels apply to the name lists only.
    params: () => (state.labels > 0 ? { n: TOP_N, labels: state.labels } : { n: TOP_N }),
    apply: (doc) => {
      tables.top($(`top-${kind}-body`), doc, !names);
      if (kind === "queries" && isNum(doc.records)) {
        text("top-note", doc.records ? `from the last ${int(doc.records)} queries` : "no queries yet");
      }
    },
  };
}

// The slower documents, each with its period in seconds; `part` is its key in
// the dashboard answer (the path under /api/v1/ that gives it alone).
const tasks = [
  { name: "servers", part: "servers", period: 4, apply: (doc) => {
    state.servers = doc;
    drawServers();
    const forced = (doc.servers || []).some((s) => s.forced);
    if (!forced) state.overrides = new Map();
  } },
  { name: "overrides", part: "overrides", period: 10, note: "servers-note",
    when: () => state.servers && (state.servers.servers || []).some((s) => s.forced),
    apply: (doc) => {
      state.overrides = new Map((doc.servers || []).map((o) => [o.server, o]));
      drawServers();
    } },
  { name: "latency", part: "latency", period: 4, apply: (doc) => {
    const t = performance.now() / 1000;
    state.latency.push({ t, doc });
    while (state.latency.length > 2 && state.latency[1].t <= t - 2 * HISTOGRAM_WINDOW_S) state.latency.shift();
    drawHistogram();
  } },
  { name: "dynblocks", part: "dynblocks", period: 6, apply: (doc) => {
    tables.blocks($("dynblocks-body"), doc);
    text("kpi-blocks", Array.isArray(doc.blocks) ? int(doc.blocks.length) : DASH);
    const hits = Array.isArray(doc.totals) ? doc.totals.reduce((a, b) => a + (isNum(b.hits) ? b.hits : 0), 0) : undefined;
    text("kpi-blocks-sub", isNum(hits) ? `${short(hits)} blocked` : "");
  } },
  ...topKinds.map(topTask),
  { name: "rules", part: "rules", period: 16, params: rulesParams, apply: drawRules },
  { name: "policy", part: "policy", period: 30, apply: (doc) => {
    text("policy-file", doc.file);
    $("policy-file").title = str(doc.file);
    text("policy-hash", typeof doc.hash === "string" ? doc.hash.replace(/^[a-z0-9]+:/, "") : undefined);
    $("policy-hash").title = str(doc.hash);
    text("policy-compiled", doc.compiled_at ? new Date(doc.compiled_at).toLocaleString() : doc.loaded_at);
    const r = doc.last_reload;
    const reload = $("policy-reload");
    reload.textContent = r ? `${r.ok === false ? "rejected" : "ok"}${r.time ? ` at ${r.time}` : ""}` : "none";
    reload.title = r ? str(r.message) : "";
    reload.classList.toggle("bad", Boolean(r && r.ok === false));
    if (state.policyHash !== null && doc.hash !== state.policyHash) {
      for (const t of tasks) if (["pools", "rules", "servers"].includes(t.name)) t.last = -Infinity;  // reloaded
    }
    state.policyHash = doc.hash;
  } },
  { name: "pools", part: "pools", period: 60, apply: (doc) => {
    state.pools = doc;
    drawPools();
  } },
];
for (const t of tasks) {
  Object.assign(t, { last: -Infinity, status: "not run", note: t.note || `${t.name}-note` });
}

function applyPart(task, doc) {
  try {
    if (!doc || typeof doc !== "object") throw new HttpError("missing from the answer");
    if (doc.error) throw new HttpError(doc.error);
    task.apply(doc);
    task.status = "ok";
    note(task.note, "");
  } catch (e) {
    task.status = `error: ${e.message}`;
    note(task.note, e.message, task.name.replace("-", " "));
  }
}

function rulesParams() {
  const r = state.rules;
  const params = { offset: r.offset, limit: RULES_PAGE };
  if (r.filter) params.filter = r.filter;
  return params;
}

function drawRules(doc) {
  const r = state.rules;
  const now = performance.now() / 1000;
  tables.rules($("rules-body"), doc, r.previous, now);
  r.previous = new Map((doc.rules || []).map((x) => [`${x.kind}/${x.name}`, { hits: x.hits, t: now }]));
  const matching = isNum(doc.matching) ? doc.matching : doc.total;
  r.total = isNum(matching) ? matching : null;
  const shown = Array.isArray(doc.rules) ? doc.rules.length : 0;
  text("rules-count", isNum(doc.total) ? `${int(doc.total)} in the policy` : "");
  text("rules-page", isNum(matching)
    ? (shown ? `${int(r.offset + 1)}\u2013${int(r.offset + shown)} of ${int(matching)}${r.filter ? " matching" : ""}`
             : `0 of ${int(matching)}`)
    : DASH);
  $("rules-prev").disabled = r.offset === 0;
  $("rules-next").disabled = !isNum(matching) || r.offset + shown >= matching;
}

// ---------------------------------------------------------------- the loop

// One request a second: GET /api/v1/dashboard with the series and every
// slower document that is due. While dnspc does not answer, only the series,
// every fifth second after three failures.
let tickTimer = 0;
let inFlight = false;
let askAgain = false;

function tick() {
  clearTimeout(tickTimer);
  state.ticks += 1;
  const skip = state.failures >= 3 && state.ticks % 5 !== 0;
  if (!document.hidden && !skip) request();
  drawStatus();
  tickTimer = setTimeout(tick, 1000);
}

async function request() {
  if (inFlight) {
    askAgain = true;  // asked for while a request is out: once more after it
    return;
  }
  inFlight = true;
  const now = performance.now();
  const slow = state.failures > 0 ? [] : tasks.filter((t) =>
    (!t.when || t.when()) && now - t.last >= t.period * 1000);
  const params = { include: ["series", ...slow.map((t) => t.part)].join(","), seconds: seriesSeconds() };
  for (const t of slow) {
    Object.assign(params, t.params ? t.params() : {});
    t.last = now;
  }
  try {
    const doc = await get("dashboard", params);
    applySeries(doc.series);
    for (const t of slow) applyPart(t, doc[t.part]);
  } catch (e) {
    state.seriesOk = false;
    state.seriesError = e.message;
    state.failures += 1;
    for (const t of slow) {
      t.status = `error: ${e.message}`;
      t.last = -Infinity;  // again with the next request that gets through
    }
  } finally {
    inFlight = false;
    drawStatus();
    if (askAgain) {
      askAgain = false;
      request();
    }
  }
}

// A control changed what a task shows: it goes out now, not at its period.
function runNow(name) {
  const task = tasks.find((t) => t.name === name);
  if (!task) return;
  task.last = -Infinity;
  tick();
}

function drawStatus() {
  const status = $("status");
  const age = state.lastSampleAt ? (performance.now() - state.lastSampleAt) / 1000 : Infinity;
  let label;
  let kind;
  if (!state.seriesOk && state.seriesError) {
    label = `no data: ${state.seriesError}`;
    kind = "error";
  } else if (age > 5) {
    label = state.samples.length ? `stale: last sample ${Math.round(age)} s ago` : "connecting";
    kind = "stale";
  } else {
    const last = state.samples[state.samples.length - 1];
    label = `live \u00b7 ${clock(new Date(last.time * 1000))}`;
    kind = "live";
  }
  $("status-text").textContent = label;
  status.className = `status ${kind}`;
  const seconds = (performance.now() - started) / 1000;
  text("foot-requests", `${int(state.requests.total)} requests in ${Math.round(seconds)} s` +
       (state.requests.failed ? `, ${int(state.requests.failed)} failed` : "") +
       " \u00b7 one request a second: graphs every second, tables every 4\u201360 s \u00b7 paused while this tab is hidden");
}

// ---------------------------------------------------------------- controls

let filterTimer = 0;
$("rules-filter").addEventListener("input", (e) => {
  clearTimeout(filterTimer);
  filterTimer = setTimeout(() => {
    const value = e.target.value.replace(/\s+/g, "");  // rule names hold no spaces; the API refuses them
    if (value === state.rules.filter) return;
    state.rules.filter = value;
    state.rules.offset = 0;
    runNow("rules");
  }, 250);
});
$("rules-prev").addEventListener("click", () => {
  state.rules.offset = Math.max(0, state.rules.offset - RULES_PAGE);
  runNow("rules");
});
$("rules-next").addEventListener("click", () => {
  state.rules.offset += RULES_PAGE;
  runNow("rules");
});
$("top-labels").addEventListener("change", (e) => {
  state.labels = Number(e.target.value) || 0;
  runNow("top-queries");
  runNow("top-servfail-names");
});
$("hist-source").addEventListener("change", drawHistogram);
$("hist-window").addEventListener("change", drawHistogram);
matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
  for (const c of Object.values(charts)) c.restyle();
  drawSeries();
  drawHistogram();
});
document.addEventListener("visibilitychange", () => {
  if (!document.hidden) tick();
});

// ---------------------------------------------------------------- for tests (read-only)

Object.defineProperty(window, "dnspcPage", {
  value: Object.freeze({
    get charts() {
      const out = {};
      for (const [name, c] of Object.entries(charts)) out[name] = c.info();
      return Object.freeze(out);
    },
    get requests() {
      return Object.freeze({ total: state.requests.total, failed: state.requests.failed,
                             byPath: Object.freeze({ ...state.requests.byPath }) });
    },
    get samples() {
      return state.samples.length;
    },
    // Each slower document's last outcome: "ok", "error: ...", "not run" (overrides: only while a server is forced).
    get tasks() {
      return Object.freeze(Object.fromEntries(tasks.map((t) => [t.name, t.status])));
    },
    get series() {
      return state.seriesOk ? "ok" : state.seriesError ? `error: ${state.seriesError}` : "not run";
    },
  }),
  writable: false,
  configurable: false,
});

// ---------------------------------------------------------------- start

tick();  // the first request asks for everything
