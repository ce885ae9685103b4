// The tables: each function turns one API document into rows. Missing
// fields show as a dash; every string is set as text (dom.js).
import { DASH, el, fill, int, isNum, ms, percent, rate, short, str, us } from "./dom.js";

function empty(tbody, columns, message) {
  fill(tbody, [el("tr", { className: "empty" }, el("td", { colSpan: columns }, message))]);
}

const num = (v, title) => el("td", { className: "num", title }, v);
const cell = (v, className, title) => el("td", { className, title }, v);

function badge(textValue, kind, title) {
  return el("span", { className: `badge ${kind}`, title }, textValue);
}

// ---------------------------------------------------------------- servers

// servers: the /servers document's list; live: key -> {qps, p50, p99} of the
// last second (from the series); overrides: key -> the /overrides entry.
export function servers(tbody, list, live, overrides) {
  if (!Array.isArray(list) || list.length === 0) return empty(tbody, 12, "No servers.");
  fill(tbody, list.map((s) => {
    const key = str(s.key);
    const now = live.get(s.key) || {};
    const h = s.health || {};
    const state = s.state === "up" || s.state === "down" ? s.state : "unknown";
    const o = overrides.get(s.key);
    let override = s.mode && s.mode !== "auto" ? badge(`policy ${s.mode}`, "muted", "the policy's state") : DASH;
    if (s.forced) {
      const since = o && o.since ? ` since ${o.since}` : "";
      const checked = o && o.checked ? `; checks say ${o.checked}` : "";
      override = badge(`forced ${s.forced}`, "forced", `forced by an operator${since}${checked}`);
    }
    let checks = isNum(h.checks) ? `${int(h.checks - (h.failures || 0))}/${int(h.checks)} ok` : DASH;
    if (h.checks === 0 && s.mode && s.mode !== "auto") checks = "not probed";
    return el("tr", { dataset: { key } },
      cell(el("span", { className: "mono" }, str(s.address)), "name", key),
      cell(str(s.pool)),
      cell(badge(state, state)),
      cell(override),
      num(int(s.weight)),
      num(rate(now.qps), "queries sent in the last second"),
      num(int(s.queries)),
      num(int(s.timeouts)),
      num(int(s.outstanding)),
      num(us(now.p99), "p99 of the last second's answers"),
      num(us(s.latency_avg_us), "smoothed average"),
      cell(h.last_failure ? el("span", { className: "warn" }, `${checks} \u00b7 ${h.last_failure}`) : checks, "health",
           isNum(h.last_rtt_us) ? `check ${str(h.check)}; last probe ${us(h.last_rtt_us)}` : undefined));
  }));
}

// ---------------------------------------------------------------- pools

export function pools(tbody, list, serverByKey) {
  if (!Array.isArray(list) || list.length === 0) return empty(tbody, 4, "No pools.");
  fill(tbody, list.map((p) => {
    const members = Array.isArray(p.servers) ? p.servers : [];
    const up = members.filter((k) => (serverByKey.get(k) || {}).state === "up").length;
    const known = members.some((k) => serverByKey.has(k));
    const policy = p.policy === "lua" && p.lua_policy ? `lua ${p.lua_policy}` : str(p.policy);
    const addresses = members.map((k) => {
      const s = serverByKey.get(k);
      return el("span", { className: `member ${s ? s.state : ""}`, title: k }, s ? str(s.address) : k.replace(/^[^/]*\//, ""));
    }).flatMap((node) => [" ", node]);  // spaces between, for copying
    return el("tr", {},
      cell(str(p.name), "name"),
      cell(policy),
      cell(str(p.on_no_server)),
      cell([el("span", { className: up === members.length || !known ? "" : "warn" },
                known ? `${up}/${members.length} up` : `${members.length}`), ...addresses], "members"));
  }));
}

// ---------------------------------------------------------------- dynamic blocks

export function blocks(tbody, doc) {
  const list = doc && Array.isArray(doc.blocks) ? doc.blocks : [];
  if (list.length === 0) return empty(tbody, 6, "No dynamic blocks in force.");
  fill(tbody, list.map((b) => el("tr", {},
    cell(el("span", { className: "mono" }, str(b.prefix)), "name"),
    cell(str(b.block)),
    cell(str(b.action)),
    cell(str(b.reason), "reason"),
    num(ms(b.expires_in_ms)),
    num(int(b.hits)))));
}

// ---------------------------------------------------------------- rules

// previous: name -> {hits, t} from the last page read, for hits per second.
export function rules(tbody, doc, previous, now) {
  const list = doc && Array.isArray(doc.rules) ? doc.rules : [];
  if (list.length === 0) return empty(tbody, 5, doc && doc.filter ? "No rule name holds this text." : "No rules.");
  fill(tbody, list.map((r) => {
    const before = previous.get(`${r.kind}/${r.name}`);
    let perSecond = DASH;
    if (before && isNum(r.hits) && now > before.t) perSecond = rate(Math.max(0, r.hits - before.hits) / (now - before.t));
    return el("tr", {},
      cell(str(r.name), "name mono"),
      cell(str(r.kind)),
      cell(str(r.action), "mono"),
      num(int(r.hits)),
      num(perSecond, "since the previous refresh"));
  }));
}

// ---------------------------------------------------------------- top lists

export function top(tbody, doc, mono) {
  const list = doc && Array.isArray(doc.top) ? doc.top : [];
  if (list.length === 0) return empty(tbody, 3, "Nothing in recent traffic.");
  const total = isNum(doc.total) && doc.total > 0 ? doc.total : list.reduce((a, e) => a + (e.count || 0), 0);
  fill(tbody, list.map((e) => {
    const share = isNum(e.count) && total > 0 ? e.count / total : 0;
    const bar = el("span", { className: "bar" });
    bar.style.width = `${Math.max(1, Math.round(share * 100))}%`;  // CSSOM, which the page's CSP allows
    return el("tr", {},
      cell(str(e.key), mono ? "name mono" : "name", str(e.key)),
      num(short(e.count), int(e.count)),
      cell([el("span", { className: "share" }, bar), percent(e.count, total)], "sharecell"));
  }));
}
