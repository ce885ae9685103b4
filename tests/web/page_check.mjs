// Loads dnspc's web page in Chromium (Debian's, driven by playwright-core
// from runtime/web/npm) and reports what it saw as one JSON document on
// stdout; tests/integration/test_web_page.py judges it.
//
//   node tests/web/page_check.mjs --url http://127.0.0.1:PORT/ --password PW \
//        --screenshot OUT.png [--user U] [--wait-ms 2000] [--marker TEXT] [--chromium PATH]
//
// What it does: loads the page with Basic credentials, waits until the
// first series and every slower document arrived (window.dnspcPage),
// notes the graphs' extents, waits --wait-ms, waits (at most 5 s more) for
// every time graph's last x to move, notes them again, reads the tables'
// text, looks for --marker among the page's text nodes and for script
// elements that the page did not ship, and saves a full-page screenshot.
// Console errors, page errors, dialogs (alert), failed requests and
// answers with status >= 400 are all collected. Exit 0 when it could
// report (whatever it saw), 2 when it could not.
import { createRequire } from "node:module";
import { parseArgs } from "node:util";

const require = createRequire(new URL("../../runtime/web/npm/package.json", import.meta.url));
const { chromium } = require("playwright-core");

const { values: opt } = parseArgs({
  options: {
    url: { type: "string" },
    user: { type: "string", default: "dnspc" },
    password: { type: "string" },
    screenshot: { type: "string" },
    "wait-ms": { type: "string", default: "2000" },
    marker: { type: "string", default: "<script>alert(1)</script>" },
    chromium: { type: "string", default: "/usr/bin/chromium" },
    width: { type: "string", default: "1440" },
  },
});
if (!opt.url || opt.password === undefined || !opt.screenshot) {
  console.error("usage: page_check.mjs --url URL --password PW --screenshot OUT.png [--user U] [--wait-ms MS]");
  process.exit(2);
}

const TIME_CHARTS = ["traffic", "rcodes", "backendQps", "backendLatency"];
const report = {
  url: opt.url, consoleErrors: [], pageErrors: [], dialogs: [], failedRequests: [], badResponses: [],
  documentHeaders: {}, timings: {},
};

const browser = await chromium.launch({ executablePath: opt.chromium, args: ["--no-sandbox"] });
try {
  const context = await browser.newContext({
    viewport: { width: Number(opt.width), height: 900 },
    // "always": the credentials go with the first request, so there is no 401 challenge to tell from a failure.
    httpCredentials: { username: opt.user, password: opt.password, origin: new URL(opt.url).origin, send: "always" },
  });
  const page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error") report.consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => report.pageErrors.push(String(e && e.stack ? e.stack : e)));
  page.on("dialog", (d) => {
    report.dialogs.push(`${d.type()}: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  page.on("requestfailed", (r) => report.failedRequests.push(`${r.url()}: ${r.failure() && r.failure().errorText}`));
  page.on("response", (r) => {
    if (r.status() >= 400) report.badResponses.push(`${r.status()} ${r.url()}`);
  });

  const t0 = Date.now();
  const response = await page.goto(opt.url, { waitUntil: "load" });
  report.documentStatus = response ? response.status() : null;
  report.documentHeaders = response ? await response.allHeaders() : {};

  const snapshot = () => page.evaluate(() => {
    const p = window.dnspcPage;
    return p ? { charts: p.charts, requests: p.requests, samples: p.samples, tasks: p.tasks, series: p.series,
                 at: performance.now() } : null;
  });
  try {
    await page.waitForFunction(() => {
      const p = window.dnspcPage;
      if (!p || p.samples === 0) return false;
      return Object.entries(p.tasks).every(([name, s]) => s !== "not run" || name === "overrides");
    }, null, { timeout: 20000, polling: 100 });
    report.timings.firstDataMs = Date.now() - t0;
  } catch (e) {
    report.timings.firstDataMs = null;
    report.loadError = String(e.message || e);
  }
  report.before = await snapshot();

  await page.waitForTimeout(Number(opt["wait-ms"]));
  const waitedFrom = Date.now();
  try {
    await page.waitForFunction(([before, names]) => {
      const now = window.dnspcPage.charts;
      return names.every((n) => now[n].lastX !== null && (before[n].lastX === null || now[n].lastX > before[n].lastX));
    }, [report.before ? report.before.charts : {}, TIME_CHARTS], { timeout: 5000, polling: 100 });
    report.timings.advanceExtraMs = Date.now() - waitedFrom;
  } catch {
    report.timings.advanceExtraMs = null;  // judged from before/after
  }
  report.after = await snapshot();
  report.timeCharts = TIME_CHARTS;

  report.tables = await page.evaluate(() => {
    const rows = (id) => [...document.querySelectorAll(`#${id} tr`)].map((tr) =>
      [...tr.children].map((td) => td.textContent.trim()));
    const ids = ["servers-body", "pools-body", "dynblocks-body", "rules-body", "top-queries-body", "top-clients-body",
                 "top-servfail-names-body", "top-servfail-clients-body"];
    return Object.fromEntries(ids.map((id) => [id.replace(/-body$/, ""), rows(id)]));
  });
  report.kpis = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll(".kpi-value")]
    .map((e) => [e.id, e.textContent])));
  report.status = await page.evaluate(() => document.getElementById("status-text").textContent);

  // Where the marker shows: text nodes holding it, and what holds them.
  report.marker = await page.evaluate((marker) => {
    const found = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (n.nodeValue.includes(marker)) found.push({ parent: n.parentElement.tagName, text: n.nodeValue });
    }
    const scripts = [...document.querySelectorAll("script")].map((s) => ({ src: s.getAttribute("src"),
      inline: s.textContent.length, type: s.type }));
    return { marker, textNodes: found, scripts, bodyHasMarkerAsText: document.body.textContent.includes(marker),
             scriptsInBody: document.querySelectorAll("body script").length };
  }, opt.marker);

  await page.screenshot({ path: opt.screenshot, fullPage: true });
  report.screenshot = opt.screenshot;
  // Late listeners' findings (the screenshot took time) are in too.
  await context.close();
} catch (e) {
  report.fatal = String(e && e.stack ? e.stack : e);
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(report, null, 1) + "\n");
process.exit(report.fatal ? 2 : 0);
