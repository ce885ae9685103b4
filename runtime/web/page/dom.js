// DOM and formatting helpers. Every string reaches the page as a text node
// or a property that is text (textContent, title, value): nothing here, or
// anywhere in the page, parses HTML, so a query name such as
// "<script>alert(1)</script>.example." shows as those characters.

export const DASH = "\u2014";

// el("td", {className: "num", title: "..."}, child...): children are nodes or
// text (strings and numbers); null/undefined/false children are skipped.
export function el(tag, props, ...children) {
  const node = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null) continue;
      if (k === "dataset") Object.assign(node.dataset, v);
      else if (k === "attrs") for (const [a, av] of Object.entries(v)) node.setAttribute(a, String(av));
      else node[k] = v;
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(node, c);
    else node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function $(id) {
  return document.getElementById(id);
}

// Replaces a node's children (tbody rows, a list) in one step.
export function fill(node, children) {
  node.replaceChildren(...children.filter((c) => c));
}

export function text(id, value) {
  const node = $(id);
  if (node) node.textContent = value === undefined || value === null ? DASH : String(value);
}

// ---------------------------------------------------------------- numbers

const intFormat = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

export function isNum(v) {
  return typeof v === "number" && Number.isFinite(v);
}

export function int(v) {
  return isNum(v) ? intFormat.format(v) : DASH;
}

// 1234 -> "1.2k", for axes and rates.
export function short(v) {
  if (!isNum(v)) return DASH;
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toFixed(a >= 1e10 ? 0 : 1) + "G";
  if (a >= 1e6) return (v / 1e6).toFixed(a >= 1e7 ? 0 : 1) + "M";
  if (a >= 1e4) return (v / 1e3).toFixed(0) + "k";
  if (a >= 1e3) return (v / 1e3).toFixed(1) + "k";
  if (a > 0 && a < 10 && !Number.isInteger(v)) return v.toFixed(1);
  return String(Math.round(v));
}

export function rate(v) {
  return isNum(v) ? short(v) + "/s" : DASH;
}

// Microseconds, readable: 850 µs, 1.2 ms, 3.40 s.
export function us(v) {
  if (!isNum(v)) return DASH;
  if (v < 1000) return `${v < 10 ? v.toFixed(1) : Math.round(v)} \u00b5s`;
  if (v < 1e6) return `${(v / 1000).toFixed(v < 1e4 ? 2 : v < 1e5 ? 1 : 0)} ms`;
  return `${(v / 1e6).toFixed(2)} s`;
}

// For axes: 100 µs, 1 ms, 2.5 s.
export function usShort(v) {
  if (!isNum(v)) return "";
  const trim = (x) => String(Number(x.toPrecision(2)));
  if (v < 1000) return `${trim(v)} \u00b5s`;
  if (v < 1e6) return `${trim(v / 1000)} ms`;
  return `${trim(v / 1e6)} s`;
}

export function ms(v) {
  if (!isNum(v)) return DASH;
  if (v < 1000) return `${Math.round(v)} ms`;
  const s = v / 1000;
  if (s < 120) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 7200) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

export function percent(part, whole) {
  if (!isNum(part) || !isNum(whole) || whole <= 0) return DASH;
  const p = (100 * part) / whole;
  return p >= 10 || p === 0 ? `${Math.round(p)}%` : `${p.toFixed(1)}%`;
}

export function str(v) {
  return v === undefined || v === null || v === "" ? DASH : String(v);
}

export function clock(date) {
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
}
