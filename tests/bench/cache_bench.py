#!/usr/bin/env python3
"""The packet cache (issue #18): what a hit costs, against dnspc's spoof path
and dnsdist 1.7's packet cache, and the hit rate under a Zipf load.

    cache_bench.py [--runs 3] [--duration 5] [--groups hot,zipf] [--zipf-names 1000000]
                   [--zipf-entries 100000] [--zipf-queries 2000000] [--json FILE] [--keep]

Each variant is its own process on its own port, all forwarding to one NSD
that answers every name under the benchmark's wildcards; dnsperf (at
saturation: no -Q) drives them in turn for --runs rounds, the order rotating
each round, and the balancer's CPU time (all threads, /proc/PID/stat) is read
around each run (tests/bench/run.py's functions do the work). One worker for
dnspc, one listener thread for dnsdist, as run.py.

Groups:

- hot: 1,000 names, every one hot (the query file is those names in a
  shuffled order; after the unrecorded warm-up run every query is a hit):
    spoof          rule all: spoof A 192.0.2.1 (no cache, no backend)
    cache          pool with `cache 10000`, every query forwarded to it
    dnsdist_cache  dnsdist with newPacketCache(10000) on its default pool
- zipf: --zipf-names names, --zipf-queries queries drawn from a Zipf
  distribution (exponent 1.0, rank 1 most frequent), through a cache of
  --zipf-entries entries:
    cache          dnspc, `cache N`
    dnsdist_cache  dnsdist, newPacketCache(N)
  The hit rate is read from each: dnspc's `ctl cache` (hits / (hits +
  misses)), dnsdist's web API statistics (cache-hits, cache-misses), both
  around each run.

Reported per variant (medians of the rounds): answered qps, loss, CPU µs per
answered query, hit rate; then cache/spoof and cache/dnsdist_cache (CPU per
query) and the QPS ratio.
"""

import argparse
import contextlib
import datetime
import json
import random
import shlex
import signal
import statistics
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import run  # tests/bench/run.py: NSD, dnsperf, the measurement
from reload_bench import ctl

HOT_NAMES = 1000
API_KEY = "cache-bench-key"


@dataclass
class Variant:
    name: str
    kind: str  # dnspc or dnsdist
    entries: int = 0  # cache entries; 0: spoof every query


def dnspc_policy(port, control, backend, v):
    out = [f"listen 127.0.0.1:{port};", "option workers 1;", f'control "{control}";',
           f"pool main {{ server 127.0.0.1:{backend} state up;"]
    if v.entries:
        out[-1] += f" cache {v.entries};"
    out[-1] += " }"
    if not v.entries:
        out.append("rule all: true => spoof A 192.0.2.1;")
    out.append("rule default: true => pool main;")
    return "\n".join(out) + "\n"


def dnsdist_conf(port, backend, v, web_port):
    return "\n".join([
        'setSecurityPollSuffix("")',
        f'setLocal("127.0.0.1:{port}")',
        'setACL({"127.0.0.0/8"})',
        f'newServer({{address="127.0.0.1:{backend}", checkName="{run.CHECK_NAME}", checkType="A"}})',
        f"pc = newPacketCache({v.entries}, {{maxTTL=86400, minTTL=0, temporaryFailureTTL=60, staleTTL=60}})",
        'getPool(""):setCache(pc)',
        f'webserver("127.0.0.1:{web_port}")',
        f'setWebserverConfig({{password="unused-{API_KEY}", apiKey="{API_KEY}", acl="127.0.0.0/8"}})',
    ]) + "\n"


def start(ctx, v, probe_name):
    port = run.free_port(ctx.ports)
    if v.kind == "dnsdist":
        web_port = run.free_port(ctx.ports)
        conf = ctx.workdir / f"{v.name}-{port}.conf"
        conf.write_text(dnsdist_conf(port, ctx.nsd_port, v, web_port))
        proc = run.start_process(ctx, f"{v.name}-{port}", ["dnsdist", "--supervised", "--disable-syslog", "-C", str(conf)])
        run.wait_answering(proc, port, "192.0.2.80")
        return proc, port, ("dnsdist", web_port)
    control = str(ctx.workdir / f"{v.name}-{port}.sock")
    policy = ctx.workdir / f"{v.name}-{port}.dp"
    policy.write_text(dnspc_policy(port, control, ctx.nsd_port, v))
    proc = run.start_process(ctx, f"{v.name}-{port}", [str(ctx.args.dnspc), "run", str(policy)])
    run.wait_answering(proc, port, "192.0.2.1" if not v.entries else "192.0.2.80")
    return proc, port, ("dnspc", control)


def cache_counts(handle):
    """(hits, misses) so far, or None for the spoof variant."""
    kind, where = handle
    if kind == "dnspc":
        pools = ctl(where, "cache", timeout=10)["pools"]
        return (pools[0]["hits"], pools[0]["misses"]) if pools else None
    req = urllib.request.Request(f"http://127.0.0.1:{where}/api/v1/servers/localhost/statistics",
                                 headers={"X-API-Key": API_KEY})
    with urllib.request.urlopen(req, timeout=10) as r:
        stats = {s["name"]: s["value"] for s in json.loads(r.read())}
    return int(stats["cache-hits"]), int(stats["cache-misses"])


def write_hot_file(path, seed):
    names = [f"h{i}.c.{run.ZONE}" for i in range(HOT_NAMES)]
    random.Random(seed).shuffle(names)
    path.write_text("".join(f"{n} A\n" for n in names))


def write_zipf_file(path, names, queries, seed):
    """`queries` lines drawn from a Zipf(1.0) distribution over `names` names."""
    rng = random.Random(seed)
    weights = [1.0 / (k + 1) for k in range(names)]
    total = sum(weights)
    cum, acc = [], 0.0
    for w in weights:
        acc += w / total
        cum.append(acc)
    import bisect
    with path.open("w") as f:
        for _ in range(queries):
            k = min(bisect.bisect_left(cum, rng.random()), names - 1)
            f.write(f"z{k}.c.{run.ZONE} A\n")


def run_group(ctx, group, variants, query_files):
    """query_files[0] for the warm-up, then round r reads query_files[(r + 1) % len]:
    dnsperf starts each run at the top of its file, so Zipf rounds each get a
    fresh sample (replaying one file would favour a cache that keeps the first
    names it saw and never evicts)."""
    records = []
    ctx.query_file = query_files[0]
    with contextlib.ExitStack() as stack:
        started = []
        for v in variants:
            proc, port, handle = start(ctx, v, None)
            stack.callback(proc.stop)
            started.append((v, proc, port, handle))
        for v, proc, port, handle in started:  # warm-up, unrecorded: fills the caches
            run.run_dnsperf(ctx, port, None, ctx.args.warmup, verbose=False)
        for r in range(ctx.args.runs):
            ctx.query_file = query_files[(r + 1) % len(query_files)]
            k = r % len(started)
            for v, proc, port, handle in started[k:] + started[:k]:
                before = cache_counts(handle) if v.entries else None
                res = run.measure(ctx, proc, port, None)
                after = cache_counts(handle) if v.entries else None
                if before and after:
                    hits, misses = after[0] - before[0], after[1] - before[1]
                    res["hit_rate"] = hits / (hits + misses) if hits + misses else None
                else:
                    res["hit_rate"] = None
                res.update(group=group, variant=v.name, round=r + 1)
                records.append(res)
                run.log(f"  [{group}] round {r + 1}/{ctx.args.runs} {v.name:14s} {res['qps']:9.0f} qps  "
                        f"loss {res['loss_pct']:5.2f}%  {run.fmt(res['cpu_us_per_q'], 2):>6s} us CPU/q  "
                        f"({run.fmt(res['cpu_util'], 0, 100)}% of a core, machine "
                        f"{run.fmt(res['machine_idle'], 0, 100)}% idle)  hit rate "
                        f"{run.fmt(res['hit_rate'], 1, 100)}%  rcodes {res['rcodes']}")
    return records


def median(vals):
    vals = [x for x in vals if x is not None]
    return statistics.median(vals) if vals else None


def report(records):
    rows = {}
    for rec in records:
        rows.setdefault((rec["group"], rec["variant"]), []).append(rec)
    out = ["| group | variant | answered qps | loss % | CPU µs/query (min-max) | hit rate % |",
           "|---|---|---:|---:|---:|---:|"]
    med = {}
    for (group, variant), recs in rows.items():
        m = {k: median([r[k] for r in recs]) for k in ("qps", "loss_pct", "cpu_us_per_q", "hit_rate")}
        med[(group, variant)] = m
        cpus = [r["cpu_us_per_q"] for r in recs if r["cpu_us_per_q"]]
        out.append(f"| {group} | {variant} | {m['qps']:.0f} | {m['loss_pct']:.2f} | {m['cpu_us_per_q']:.2f} "
                   f"({min(cpus):.2f}-{max(cpus):.2f}) | {run.fmt(m['hit_rate'], 1, 100)} |")
    out.append("")
    for group in ("hot", "zipf"):
        c = med.get((group, "cache"))
        for other in ("spoof", "dnsdist_cache"):
            o = med.get((group, other))
            if c and o and o["cpu_us_per_q"]:
                out.append(f"- {group}: cache / {other}: CPU per query {c['cpu_us_per_q'] / o['cpu_us_per_q']:.2f}x, "
                           f"answered qps {c['qps'] / o['qps']:.2f}x")
    return "\n".join(out), {f"{g}/{v}": m for (g, v), m in med.items()}


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--duration", type=int, default=5, help="seconds per dnsperf run")
    ap.add_argument("--warmup", type=int, default=3, help="seconds of unrecorded warm-up per variant")
    ap.add_argument("--groups", default="hot,zipf")
    ap.add_argument("--zipf-names", type=int, default=1_000_000)
    ap.add_argument("--zipf-entries", type=int, default=100_000)
    ap.add_argument("--zipf-queries", type=int, default=2_000_000)
    ap.add_argument("--seed", type=int, default=18)
    ap.add_argument("--clients", type=int, default=4, help="dnsperf -c, as run.py")
    ap.add_argument("--outstanding", type=int, default=100, help="dnsperf -q, as run.py")
    ap.add_argument("--timeout", type=int, default=2, help="dnsperf -t, as run.py")
    ap.add_argument("--dnspc", type=Path, default=run.DEFAULT_DNSPC)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args(argv)
    args.groups = [g for g in args.groups.split(",") if g]
    args.transport, args.build_dir = "udp", None
    return args


def main(argv=None):
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started_at = datetime.datetime.now().astimezone()
    facts = run.machine_facts()
    # NSD answers every name under c.bench.test. (a wildcard) with 192.0.2.77, TTL 3600.
    run.ZONE_HOSTS.append(("*.c", "192.0.2.77"))
    records = []
    with contextlib.ExitStack() as cleanup:
        ctx = run.prepare(args, cleanup)
        run.log(f"NSD on 127.0.0.1:{ctx.nsd_port}; {facts['cpus']} CPUs, load average {facts['loadavg_at_start']}")
        if "hot" in args.groups:
            hot = ctx.workdir / "hot.txt"
            write_hot_file(hot, args.seed)
            records += run_group(ctx, "hot", [Variant("spoof", "dnspc"), Variant("cache", "dnspc", 10_000),
                                              Variant("dnsdist_cache", "dnsdist", 10_000)], [hot])
        if "zipf" in args.groups:
            files = []
            for r in range(args.runs + 1):  # the warm-up's, then one per round
                files.append(ctx.workdir / f"zipf-{r}.txt")
                write_zipf_file(files[-1], args.zipf_names, args.zipf_queries, args.seed + r)
            n = args.zipf_entries
            records += run_group(ctx, "zipf", [Variant("cache", "dnspc", n), Variant("dnsdist_cache", "dnsdist", n)],
                                 files)
    table, medians = report(records)
    print()
    print(table)
    if args.json:
        args.json.write_text(json.dumps({
            "command": shlex.join(["python3"] + sys.argv), "started": started_at.isoformat(timespec="seconds"),
            "machine": facts, "options": {k: str(v) for k, v in vars(args).items()},
            "medians": medians, "runs": records, "markdown": table}, indent=1))


if __name__ == "__main__":
    main()
