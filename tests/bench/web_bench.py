#!/usr/bin/env python3
"""What being watched costs dnspc, and how long its big documents take (issue #16).

    web_bench.py [--runs 6] [--duration 10] [--qps 10000] [--rules 1000,100000] [--json FILE] [--keep]

Part 1, the cost of being watched. One `dnspc run` (one worker, NSD behind,
the web server on, a password and an API key, 1,000 rules that do not match
the traffic) under dnsperf at --qps. Each round measures it twice, once
alone and once watched, in alternating order (alone first in odd rounds,
watched first in even ones), and reads its CPU time (utime+stime of all its
threads, /proc/PID/stat) around each run, as tests/bench/run.py does.
"Watched" is what the issue names, for the whole run:

- a Prometheus scraper: GET /metrics with X-API-Key once a second, on one
  kept-alive connection;
- an open page: the requests the page makes (runtime/web/page/app.js), one
  GET /api/v1/dashboard a second on one kept-alive connection with the
  session cookie, holding the series and each table when it is due (servers
  and latency every 4 s, dynblocks 6 s, the four top lists and a rules page
  16 s, policy 30 s, pools 60 s); the first request asks for everything.

A third run per round, "elsewhere", points the same watchers at a stand-in
Python HTTP server instead: dnspc serves nothing, so how far its figure
moves from "alone" is the noise of this shared machine plus the watchers'
own work. The order of the three rotates each round.

Reported: CPU µs per answered query in each (medians), the whole process's
added CPU as a share of its unwatched CPU (the issue's target: at most
2 %), and the main thread's CPU (schedstat, nanoseconds): the web server
runs there, so its difference is what serving the watchers costs, free of
the workers' noise.

Part 2, render times. For each --rules count N: a dnspc with N rules, where
every tenth rule has had hits (dnsperf sent a query for each), then each
request below timed --render-runs times from the client (loopback, a
kept-alive connection, the full body read): /metrics (rules with hits),
/metrics?all_rules=1, /api/v1/rules?limit=100, /api/v1/rules?offset=N-100
(the last page), /api/v1/rules with a filter that matches nothing (a scan of
every name), and a first-load dashboard. Reported: median and max seconds,
and the body size.
"""

import argparse
import base64
import contextlib
import datetime
import http.client
import json
import os
import shlex
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import run  # tests/bench/run.py: NSD, dnsperf, the measurement

PASSWORD = "bench password"
API_KEY = "bench api key"

# The page's tasks and their periods (runtime/web/page/app.js).
PAGE_TASKS = [("servers", 4), ("latency", 4), ("dynblocks", 6), ("top/queries", 16), ("top/clients", 16),
              ("top/servfail-names", 16), ("top/servfail-clients", 16), ("rules", 16), ("policy", 30),
              ("pools", 60)]


def hash_secret(dnspc, secret):
    r = subprocess.run([str(dnspc), "hash-password"], input=secret, capture_output=True, text=True,
                       timeout=60, check=True)
    return r.stdout.strip()


def policy_text(ctx, port, web_port, control, n_rules, hit_names):
    out = [f"listen 127.0.0.1:{port};",
           "option workers 1;",
           f'control "{control}";',
           f"web 127.0.0.1:{web_port};",
           f"pool main {{ server 127.0.0.1:{ctx.nsd_port} state up; }}"]
    # Rules that refuse names the measured traffic never asks for; the ones
    # in hit_names get a query each before part 2's timings.
    out += [f'rule r{i}: qname suffix "r{i}.hits.test." => refuse;' for i in range(n_rules)]
    out.append("rule default: true => pool main;")
    return "\n".join(out) + "\n"


class Client:
    """One kept-alive HTTP connection to dnspc's web server."""

    def __init__(self, port, headers):
        self.port = port
        self.headers = dict(headers)
        self.conn = None

    def get(self, target):
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                self.conn.request("GET", target, headers=self.headers)
                r = self.conn.getresponse()
                body = r.read()
                if r.status != 200:
                    raise RuntimeError(f"GET {target}: {r.status} {body[:200]!r}")
                cookie = r.getheader("Set-Cookie")
                if cookie:
                    self.headers["Cookie"] = cookie.split(";", 1)[0]
                    self.headers.pop("Authorization", None)
                return body
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        return b""

    def close(self):
        if self.conn:
            self.conn.close()


class Watchers:
    """The scraper and the page, each in its own thread, once a second."""

    def __init__(self, web_port):
        self.web_port = web_port
        self.stop = threading.Event()
        self.errors = []
        self.requests = 0
        self.threads = [threading.Thread(target=self._loop, args=(self._scraper(),)),
                        threading.Thread(target=self._loop, args=(self._page(),))]

    def _scraper(self):
        c = Client(self.web_port, {"X-API-Key": API_KEY})
        while True:
            yield lambda: c.get("/metrics")

    def _page(self):
        basic = base64.b64encode(f"page:{PASSWORD}".encode()).decode()
        c = Client(self.web_port, {"Authorization": f"Basic {basic}"})
        last = {name: -1e9 for name, _ in PAGE_TASKS}
        while True:
            now = time.monotonic()
            due = [name for name, period in PAGE_TASKS if now - last[name] >= period]
            for name in due:
                last[name] = now
            target = (f"/api/v1/dashboard?include={','.join(['series'] + due)}&seconds=3&n=10"
                      f"&offset=0&limit=25")
            yield lambda t=target: c.get(t)

    def _loop(self, requests):
        next_at = time.monotonic()
        for req in requests:
            if self.stop.is_set():
                return
            try:
                req()
                self.requests += 1
            except Exception as e:  # noqa: BLE001 (reported, and the run is void)
                self.errors.append(str(e))
            next_at += 1.0
            self.stop.wait(max(0.0, next_at - time.monotonic()))

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join()


class StandIn:
    """A Python HTTP server that answers every GET with 200 and a body as big
    as dnspc's /metrics: the watchers pointed at it instead of dnspc measure
    what the watchers themselves (and the noise) cost the measured process."""

    def __init__(self):
        import http.server

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802
                body = b"x" * 26000
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()


def start_dnspc(ctx, name, n_rules, hit_names=()):
    port, web_port = run.free_port(ctx.ports), run.free_port(ctx.ports)
    control = str(ctx.workdir / f"{name}.sock")
    policy = ctx.workdir / f"{name}.dp"
    policy.write_text(policy_text(ctx, port, web_port, control, n_rules, hit_names))
    proc = run.start_process(ctx, name, [str(ctx.args.dnspc), "run", str(policy)])
    run.wait_answering(proc, port, dict(run.ZONE_HOSTS)["www"])
    return proc, port, web_port


def watched_cost(ctx):
    proc, port, web_port = start_dnspc(ctx, "watched", 1000)
    qps = int(ctx.args.qps)
    run.run_dnsperf(ctx, port, qps, 1, verbose=False)  # warm-up
    stand_in = StandIn()
    records = []
    whats = ["alone", "watched", "elsewhere"]
    for r in range(ctx.args.runs):
        k = r % len(whats)
        for what in whats[k:] + whats[:k]:  # the order rotates each round
            if what != "alone":
                with Watchers(web_port if what == "watched" else stand_in.port) as w:
                    time.sleep(1.5)  # the first (largest) page request is not in the window
                    before, t0 = w.requests, time.monotonic()
                    res = measure(ctx, proc, port, qps)
                    res["web_requests"], res["wall_s"] = w.requests - before, time.monotonic() - t0
                if w.errors:
                    raise RuntimeError(f"watchers failed: {w.errors[:3]}")
            else:
                t0 = time.monotonic()
                res = measure(ctx, proc, port, qps)
                res["wall_s"] = time.monotonic() - t0
            res.update(round=r + 1, what=what)
            records.append(res)
            run.log(f"  round {r + 1}/{ctx.args.runs} {what:8s} {res['qps']:8.0f} qps  "
                    f"loss {res['loss_pct']:5.2f}%  {run.fmt(res['cpu_us_per_q'], 3):>7s} us CPU/q  "
                    f"({run.fmt(res['cpu_util'], 1, 100)}% of a core)  threads "
                    + " ".join(f"{k}={v:.3f}s" for k, v in sorted(res["threads_cpu_s"].items())))
    proc.stop()
    stand_in.close()
    return records


def thread_cpu(pid):
    """{"main": s, "others": s}: CPU seconds of the main thread (the control
    loop, where the web server runs) and of all the others (the workers, the
    password checker), from /proc/PID/task/TID/schedstat: nanoseconds, where
    /proc's stat counts 10 ms ticks, too coarse for a few milliseconds a
    second."""
    out = {"main": 0.0, "others": 0.0}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            ns = int((task / "schedstat").read_text().split()[0])
            if int(task.name) == pid:
                out["main"] += ns / 1e9
            else:
                out["others"] += ns / 1e9
                name = (task / "comm").read_text().strip()
                out[f"others:{name}"] = out.get(f"others:{name}", 0.0) + ns / 1e9
    return out


def measure(ctx, proc, port, qps):
    """run.measure, plus each thread's CPU (the main thread serves the web)."""
    t0 = thread_cpu(proc.pid)
    res = run.measure(ctx, proc, port, qps)
    t1 = thread_cpu(proc.pid)
    res["threads_cpu_s"] = {k: t1[k] - t0.get(k, 0.0) for k in t1}
    return res


def timed(client, target, runs):
    client.get(target)  # once unmeasured: the API key's first (slow) check, caches
    times, size = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        size = len(client.get(target))
        times.append(time.perf_counter() - t0)
    return {"target": target, "median_s": statistics.median(times), "max_s": max(times), "bytes": size}


def render_times(ctx, n):
    proc, port, web_port = start_dnspc(ctx, f"render{n}", n)
    # Every tenth rule gets hits: one query each.
    names = ctx.workdir / f"hits{n}.txt"
    names.write_text("".join(f"x.r{i}.hits.test. A\n" for i in range(0, n, 10)))
    subprocess.run(["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", str(names), "-n", "1",
                    "-c", "4", "-q", "100", "-t", "2"], capture_output=True, check=True, timeout=600)
    c = Client(web_port, {"X-API-Key": API_KEY})
    everything = ",".join(["series"] + [name for name, _ in PAGE_TASKS])
    targets = ["/metrics", "/metrics?all_rules=1", "/api/v1/rules?limit=100",
               f"/api/v1/rules?offset={max(0, n - 100)}&limit=100",
               "/api/v1/rules?limit=25&filter=nothing-holds-this",
               f"/api/v1/dashboard?include={everything}&seconds=300&n=10&offset=0&limit=25"]
    rows = []
    for t in targets:
        row = timed(c, t, ctx.args.render_runs)
        row["rules"] = n
        rows.append(row)
        run.log(f"  {n} rules  {t:70s} median {row['median_s'] * 1e3:8.2f} ms  max {row['max_s'] * 1e3:8.2f} ms  "
                f"{row['bytes']} bytes")
    c.close()
    proc.stop()
    return rows


def median(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def report(records, renders, qps):
    out = []
    if records:
        alone = [r for r in records if r["what"] == "alone"]
        watched = [r for r in records if r["what"] == "watched"]
        elsewhere = [r for r in records if r["what"] == "elsewhere"]
        per_round = []
        for r in sorted({x["round"] for x in records}):
            a = next(x for x in alone if x["round"] == r)
            w = next(x for x in watched if x["round"] == r)
            per_round.append(100.0 * (w["cpu_s"] / w["completed"] - a["cpu_s"] / a["completed"])
                             / (a["cpu_s"] / a["completed"]))
        a_us, w_us = median(x["cpu_us_per_q"] for x in alone), median(x["cpu_us_per_q"] for x in watched)
        out.append(f"Cost of being watched at {qps} qps (one scraper a second + one open page), medians of "
                   f"{len(per_round)} rounds:\n")
        out.append("| | answered qps | CPU µs/query | % of a core | web requests/s |")
        out.append("|---|---:|---:|---:|---:|")
        for name, rows in (("alone", alone), ("watched", watched), ("watchers elsewhere", elsewhere)):
            reqs = median(x["web_requests"] / x["wall_s"] if "web_requests" in x else None for x in rows)
            out.append(f"| {name} | {median(x['qps'] for x in rows):.0f} | {median(x['cpu_us_per_q'] for x in rows):.3f} "
                       f"| {100 * median(x['cpu_util'] for x in rows):.1f} | {run.fmt(reqs, 1)} |")
        e_us = median(x["cpu_us_per_q"] for x in elsewhere)
        out.append(f"\nWatchers elsewhere (the same requests to a stand-in server; dnspc serves nothing): "
                   f"{e_us - a_us:+.3f} µs/query against alone: what the noise and the watchers' own work "
                   f"move the figure by.")
        paired = []
        for r in sorted({x["round"] for x in records}):
            w = next(x for x in watched if x["round"] == r)
            e = next(x for x in elsewhere if x["round"] == r)
            a = next(x for x in alone if x["round"] == r)
            paired.append(100.0 * (w["cpu_us_per_q"] - e["cpu_us_per_q"]) / a["cpu_us_per_q"])
        out.append(f"\nWatched against watchers elsewhere, the same round (dnspc's serving, the machine's load "
                   f"alike): median {median(paired):+.2f} % of the unwatched CPU; rounds: "
                   + ", ".join(f"{p:+.2f}" for p in paired) + " %")
        out.append(f"\nWhole process, added CPU: {w_us - a_us:+.3f} µs/query, {100 * (w_us - a_us) / a_us:+.2f} % "
                   f"(median of the rounds: {median(per_round):+.2f} %; rounds: "
                   + ", ".join(f"{p:+.2f}" for p in per_round) + " %)\n")
        # The serving itself: the main thread (the web server's loop), from schedstat.
        def main_ms_per_s(rows):
            return median(1e3 * x["threads_cpu_s"]["main"] / x["wall_s"] for x in rows)
        def process_ms_per_s(rows):
            return median(1e3 * x["cpu_s"] / x["wall_s"] for x in rows)
        ma, mw, pa = main_ms_per_s(alone), main_ms_per_s(watched), process_ms_per_s(alone)
        out.append(f"Main thread (the web server's loop; also the series sampler and the control socket): "
                   f"{ma:.2f} ms of CPU a second alone, {mw:.2f} watched: {mw - ma:+.2f} ms/s, "
                   f"{100 * (mw - ma) / pa:+.2f} % of the unwatched process's {pa:.0f} ms/s.\n")
    if renders:
        out.append("Render times (client side, loopback, kept-alive connection, body read):\n")
        out.append("| rules | request | median ms | max ms | bytes |")
        out.append("|---:|---|---:|---:|---:|")
        for r in renders:
            target = r["target"] if len(r["target"]) < 60 else r["target"][:57] + "..."
            out.append(f"| {r['rules']} | `{target}` | {r['median_s'] * 1e3:.2f} | {r['max_s'] * 1e3:.2f} "
                       f"| {r['bytes']} |")
    return "\n".join(out)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=6, help="rounds of (alone, watched)")
    ap.add_argument("--duration", type=int, default=10, help="seconds per dnsperf run")
    ap.add_argument("--qps", default="10000", help="offered load for the watched-cost part")
    ap.add_argument("--rules", default="1000,100000", help="comma list of rule counts for the render times")
    ap.add_argument("--render-runs", type=int, default=5, help="timings per request")
    ap.add_argument("--parts", default="watched,render", help="comma list out of watched,render")
    run.add_common_args(ap)
    args = ap.parse_args(argv)
    args.rules = [int(x) for x in args.rules.split(",") if x.strip()]
    args.parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    if not args.qps.isdigit():
        ap.error("--qps: a number")
    return run.finish_common_args(ap, args)


def main(argv=None):
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started_at = datetime.datetime.now().astimezone()
    facts = run.machine_facts()
    os.environ["DNSPC_WEB_PASSWORD"] = hash_secret(args.dnspc, PASSWORD)
    os.environ["DNSPC_WEB_API_KEY"] = hash_secret(args.dnspc, API_KEY)
    records, renders = [], []
    with contextlib.ExitStack() as cleanup:
        ctx = run.prepare(args, cleanup)
        run.log(f"NSD on 127.0.0.1:{ctx.nsd_port}; {facts['cpus']} CPUs, load average {facts['loadavg_at_start']}")
        if "watched" in args.parts:
            run.log(f"cost of being watched at {args.qps} qps")
            records = watched_cost(ctx)
        if "render" in args.parts:
            for n in args.rules:
                run.log(f"render times at {n} rules")
                renders += render_times(ctx, n)
    table = report(records, renders, args.qps)
    print()
    print(table)
    if args.json:
        args.json.write_text(json.dumps({
            "command": shlex.join(["python3"] + sys.argv),
            "started": started_at.isoformat(timespec="seconds"),
            "finished": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "machine": facts, "runs": records, "renders": renders, "markdown": table,
        }, indent=1, default=str))
        run.log(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
