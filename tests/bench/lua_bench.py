#!/usr/bin/env python3
"""Lua hooks in `dnspc run`: what they cost per query (issue #15).

    lua_bench.py [--runs 3] [--duration 5] [--qps 10000,max] [--groups predicate,pool,workers]
                 [--variants NAME,...] [--no-dnsdist] [--json FILE] [--keep]

The same dnspc binary runs under different policies ("variants"), each its
own process on its own port, all forwarding to the same NSD; dnsperf drives
them in turn for --runs rounds at each offered load (A B C, then B C A, C A
B, ...: the order rotates so that no variant always comes first), and
the balancer's CPU time (utime+stime of all threads, /proc/PID/stat) is read
around each run, as tests/bench/run.py does (its functions do the work
here: NSD, dnsperf, the measurement). Every server is `state up`: no health
checks run, so nothing but the traffic costs CPU.

Groups of variants, measured together:

- predicate: a predicate evaluated on every query and false for all of it
  (the traffic asks for 2- and 3-label names):
    baseline       no rule but the catch-all
    native         rule r: qname.labels > 9 => refuse;
    lua            rule r: lua deep => refuse;          deep(q): q.labels > 9
    lua_unreached  rule r: qname suffix "elsewhere.test." and lua deep => refuse;
                   (the suffix test fails first: the hook is never called)
  and, as a reference, dnsdist 1.7 (one listener thread, its Lua is LuaJIT):
    dnsdist         no rule
    dnsdist_native  addAction(QNameLabelsCountRule(0, 9), RCodeAction(DNSRCode.REFUSED))
    dnsdist_lua     addAction(LuaRule(function(dq) return dq.qname:countLabels() > 9 end),
                              RCodeAction(DNSRCode.REFUSED))
- pool: one pool of 4 servers (one NSD listening on 4 ports):
    rr4   policy round_robin;
    lua4  policy lua rr;     rr: a round robin in Lua
- workers: `option workers 1` against `option workers 2`, with the Lua
  predicate and, as the control, the native one (what two workers cost
  without Lua); dnsperf uses --workers-clients source ports here so that
  SO_REUSEPORT spreads them over both workers (the report shows each
  worker thread's share of the CPU).

Reported per variant (medians of the rounds): answered qps, loss, CPU µs
per answered query (min-max over the rounds), answered queries per
CPU-second, and from dnspc's counters (`dnspc ctl stats`, read between
runs): Lua hook calls per answered query, dnspc's own mean time per call,
and datagrams (queries and backend answers) per recvmmsg batch: how much
a wake-up carried. Then the figures the issue's
targets are about: lua - native and lua_unreached - native (µs per query),
lua4 / rr4 (CPU per query), workers 2 / workers 1 (queries per CPU-second),
each as the difference (or ratio) of the medians and per round (the rounds'
runs ran one after the other).
"""

import argparse
import contextlib
import datetime
import json
import shlex
import signal
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

import run  # tests/bench/run.py: NSD, dnsperf, the measurement
import rules
from reload_bench import ctl

HOOKS_LUA = """\
-- lua_bench.py: the hooks under measurement
function deep(q) return q.labels > 9 end

local n = 0
function rr(servers, q) n = n % #servers + 1; return n end
"""

DNSDIST_LUA_RULE = ("addAction(LuaRule(function(dq) return dq.qname:countLabels() > 9 end), "
                    "RCodeAction(DNSRCode.REFUSED))")
DNSDIST_NATIVE_RULE = "addAction(QNameLabelsCountRule(0, 9), RCodeAction(DNSRCode.REFUSED))"


@dataclass(frozen=True)
class Variant:
    name: str
    what: str  # one line for the table
    kind: str = "dnspc"  # or "dnsdist"
    rules: tuple = ()  # dnspc: rules before the catch-all; dnsdist: extra configuration lines
    workers: int = 1
    servers: int = 1  # dnspc: servers in the pool
    policy: str = ""  # dnspc: the pool's `policy` (empty: the default, round robin)


GROUPS = {
    "predicate": (
        Variant("baseline", "no rule but the catch-all"),
        Variant("native", "qname.labels > 9 => refuse", rules=("rule r: qname.labels > 9 => refuse;",)),
        Variant("lua", "lua deep => refuse", rules=("rule r: lua deep => refuse;",)),
        Variant("lua_unreached", 'qname suffix "elsewhere.test." and lua deep',
                rules=('rule r: qname suffix "elsewhere.test." and lua deep => refuse;',)),
        Variant("dnsdist", "dnsdist, no rule", kind="dnsdist"),
        Variant("dnsdist_native", "dnsdist, QNameLabelsCountRule(0, 9)", kind="dnsdist",
                rules=(DNSDIST_NATIVE_RULE,)),
        Variant("dnsdist_lua", "dnsdist, LuaRule(countLabels() > 9)", kind="dnsdist",
                rules=(DNSDIST_LUA_RULE,)),
    ),
    "pool": (
        Variant("rr4", "4 servers, policy round_robin", servers=4, policy="round_robin"),
        Variant("lua4", "4 servers, policy lua rr", servers=4, policy="lua rr"),
    ),
    "workers": (
        Variant("native_w1", "qname.labels > 9, workers 1", rules=("rule r: qname.labels > 9 => refuse;",)),
        Variant("native_w2", "qname.labels > 9, workers 2", rules=("rule r: qname.labels > 9 => refuse;",),
                workers=2),
        Variant("lua_w1", "lua deep, workers 1", rules=("rule r: lua deep => refuse;",)),
        Variant("lua_w2", "lua deep, workers 2", rules=("rule r: lua deep => refuse;",), workers=2),
    ),
}

# Comparisons at each load: (label, group, a, b, how, metric, target)
#   how "diff": a - b of the metric; "ratio": a / b. TARGETS: the issue's
#   bounds on the difference (or ratio) of the medians.
COMPARISONS = (
    ("lua - native", "predicate", "lua", "native", "diff", "cpu_us_per_q", "at most +1.5 µs"),
    ("lua_unreached - native", "predicate", "lua_unreached", "native", "diff", "cpu_us_per_q",
     "nothing measurable"),
    ("lua_unreached - baseline", "predicate", "lua_unreached", "baseline", "diff", "cpu_us_per_q", ""),
    ("native - baseline", "predicate", "native", "baseline", "diff", "cpu_us_per_q", ""),
    ("lua - baseline", "predicate", "lua", "baseline", "diff", "cpu_us_per_q", ""),
    ("dnsdist_lua - dnsdist_native", "predicate", "dnsdist_lua", "dnsdist_native", "diff", "cpu_us_per_q", ""),
    ("dnsdist_lua - dnsdist", "predicate", "dnsdist_lua", "dnsdist", "diff", "cpu_us_per_q", ""),
    ("lua4 / rr4 (CPU per query)", "pool", "lua4", "rr4", "ratio", "cpu_us_per_q", "at most 1.5x"),
    ("lua_w2 / lua_w1 (queries per CPU-s)", "workers", "lua_w2", "lua_w1", "ratio", "q_per_cpu_s",
     "at least 1.0x"),
    ("native_w2 / native_w1 (queries per CPU-s)", "workers", "native_w2", "native_w1", "ratio", "q_per_cpu_s",
     "(control)"),
    ("lua_w1 - native_w1", "workers", "lua_w1", "native_w1", "diff", "cpu_us_per_q", ""),
    ("lua_w2 - native_w2", "workers", "lua_w2", "native_w2", "diff", "cpu_us_per_q", ""),
)


TARGETS = {
    "lua - native": lambda v: v <= 1.5,
    "lua4 / rr4 (CPU per query)": lambda v: v <= 1.5,
    "lua_w2 / lua_w1 (queries per CPU-s)": lambda v: v >= 1.0,
}


# ---------------------------------------------------------------- starting the variants


def dnspc_policy(ctx, v, port, control):
    servers = [ctx.nsd_port] + ctx.nsd_extra_ports
    assert len(servers) >= v.servers, "NSD listens on too few ports"
    out = [f"listen 127.0.0.1:{port};",
           f"option workers {v.workers};",
           f'control "{control}";',
           f'lua "{ctx.workdir / "hooks.lua"}";',
           "pool main {"]
    if v.policy:
        out.append(f"  policy {v.policy};")
    out += [f"  server 127.0.0.1:{p} state up;" for p in servers[:v.servers]]
    out.append("}")
    out += list(v.rules)
    out.append("rule default: true => pool main;")
    return "\n".join(out) + "\n"


def start_variant(ctx, v, port):
    """Started and answering; returns (proc, control socket or None)."""
    www = dict(run.ZONE_HOSTS)["www"]
    if v.kind == "dnsdist":
        conf = ctx.workdir / f"{v.name}.conf"
        net = rules.Network(port, ctx.nsd_port, run.CHECK_NAME)
        conf.write_text(rules.render_dnsdist([], net) + "".join(line + "\n" for line in v.rules))
        proc = run.start_process(ctx, f"{v.name}-{port}",
                                 ["dnsdist", "--supervised", "--disable-syslog", "-C", str(conf)])
        run.wait_answering(proc, port, www)
        return proc, None
    control = str(ctx.workdir / f"{v.name}.sock")
    policy = ctx.workdir / f"{v.name}.dp"
    policy.write_text(dnspc_policy(ctx, v, port, control))
    proc = run.start_process(ctx, f"{v.name}-{port}", [str(ctx.args.dnspc), "run", str(policy)])
    run.wait_answering(proc, port, www)
    return proc, control


def counters(control):
    """dnspc's counters that the report uses, summed over the workers: Lua
    hook calls and seconds (all hooks), datagrams read (queries from
    clients, answers from backends) and batches (each recvmmsg that returned
    datagrams, from a listener or a backend socket, and each timer tick);
    None without a control socket (dnsdist)."""
    if control is None:
        return None
    stats = ctl(control, "stats", timeout=10)
    hooks = stats.get("lua", {}).get("hooks", {}).values()
    return {"calls": sum(h["calls"] for h in hooks), "seconds": sum(h["seconds"] for h in hooks),
            "datagrams": stats["queries"] + stats["backend_answers"]["accepted"], "batches": stats["batches"]}


def thread_cpu(pid):
    """{tid: utime+stime seconds} of each thread but the main one."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        if int(task.name) == pid:
            continue
        with contextlib.suppress(FileNotFoundError):
            stat = (task / "stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            out[int(task.name)] = (int(fields[11]) + int(fields[12])) / run.CLK_TCK
    return out


# ---------------------------------------------------------------- measuring


def measure(ctx, v, proc, port, control, qps):
    # The control socket is read outside run.measure's window, so its
    # answers cost nothing that is counted.
    before = counters(control)
    threads0 = thread_cpu(proc.pid)
    res = run.measure(ctx, proc, port, qps)
    threads1 = thread_cpu(proc.pid)
    after = counters(control)
    d = {k: after[k] - before[k] for k in after} if control else {}
    res["q_per_cpu_s"] = res["completed"] / res["cpu_s"] if res["cpu_s"] else None
    res["lua_calls_per_q"] = d["calls"] / res["completed"] if d and res["completed"] else None
    res["hook_us_per_call"] = d["seconds"] * 1e6 / d["calls"] if d and d["calls"] else None
    # datagrams per recvmmsg: how much a wake-up carried
    res["dgrams_per_batch"] = d["datagrams"] / d["batches"] if d and d["batches"] else None
    # dnspc's threads but the main one are its workers: each one's share of
    # their CPU, busiest first (2 workers: 50/50 is an even spread).
    busy = sorted((threads1[t] - threads0.get(t, 0.0) for t in threads1), reverse=True)
    total = sum(busy)
    res["thread_split"] = [b / total for b in busy] if total and v.kind == "dnspc" and v.workers > 1 else []
    return res


def server_shares(control):
    """Each backend's share of the queries forwarded so far, in pool order."""
    servers = ctl(control, "stats", timeout=10).get("servers", {})
    total = sum(s["queries"] for s in servers.values())
    return [s["queries"] / total for s in servers.values()] if total else []


def run_group(ctx, load, group):
    qps = None if load == "max" else int(load)
    variants = [v for v in GROUPS[group] if (v.kind == "dnspc" or ctx.args.dnsdist)
                and (not ctx.args.variants or v.name in ctx.args.variants)]
    if not variants:
        return []
    clients = ctx.args.clients
    if group == "workers":
        ctx.args.clients = ctx.args.workers_clients
    records = []
    try:
        with contextlib.ExitStack() as stack:
            started = []
            for v in variants:
                port = run.free_port(ctx.ports)
                proc, control = start_variant(ctx, v, port)
                stack.callback(proc.stop)
                started.append((v, proc, port, control))
            for v, proc, port, control in started:  # warm-up, unrecorded
                run.run_dnsperf(ctx, port, qps, 1, verbose=False)
            for r in range(ctx.args.runs):
                # The order rotates by one each round (A B C, B C A, C A B, ...):
                # no variant always runs first, or right after the same one.
                k = r % len(started)
                for v, proc, port, control in started[k:] + started[:k]:
                    res = measure(ctx, v, proc, port, control, qps)
                    res.update(load=load, group=group, variant=v.name, what=v.what, round=r + 1,
                               clients=ctx.args.clients)
                    records.append(res)
                    run.log(f"  [{load} qps, {group}] round {r + 1}/{ctx.args.runs} {v.name:15s} "
                            f"{res['qps']:9.0f} qps  loss {res['loss_pct']:5.2f}%  "
                            f"{run.fmt(res['cpu_us_per_q'], 2):>6s} us CPU/q  "
                            f"({run.fmt(res['cpu_util'], 0, 100)}% of a core, machine "
                            f"{run.fmt(res['machine_idle'], 0, 100)}% idle)  "
                            f"lua calls/q {run.fmt(res['lua_calls_per_q'], 2)}  "
                            f"datagrams/batch {run.fmt(res['dgrams_per_batch'], 1)}  "
                            f"threads {'/'.join(f'{s * 100:.0f}' for s in res['thread_split'])}  "
                            f"rcodes {res['rcodes']}")
                    if set(res["rcodes"]) - {"NOERROR"}:
                        run.log(f"  WARNING: {v.name} gave {set(res['rcodes']) - {'NOERROR'}}")
            for v, proc, port, control in started:
                if v.servers > 1:
                    run.log(f"  {v.name}: each server's share of the queries, warm-up included: "
                            + ", ".join(f"{s * 100:.1f}%" for s in server_shares(control)))
    finally:
        ctx.args.clients = clients
    return records


# ---------------------------------------------------------------- report

METRICS = ("qps", "loss_pct", "cpu_us_per_q", "cpu_util", "machine_idle", "q_per_cpu_s",
           "lua_calls_per_q", "hook_us_per_call", "dgrams_per_batch")


def _median(vals):
    vals = [x for x in vals if x is not None]
    return statistics.median(vals) if vals else None


def summarise(records):
    rows = []
    seen = []
    for r in records:
        key = (r["load"], r["group"], r["variant"])
        if key not in seen:
            seen.append(key)
    for load, group, variant in seen:
        runs = [r for r in records if (r["load"], r["group"], r["variant"]) == (load, group, variant)]
        row = {"load": load, "group": group, "variant": variant, "what": runs[0]["what"], "runs": len(runs)}
        for m in METRICS:
            row[m] = _median([r[m] for r in runs])
        cpu = [r["cpu_us_per_q"] for r in runs if r["cpu_us_per_q"] is not None]
        row["cpu_min"], row["cpu_max"] = (min(cpu), max(cpu)) if cpu else (None, None)
        # the busiest thread's share, median over the rounds (2 workers: 0.5 is an even split)
        splits = [r["thread_split"] for r in runs if r["thread_split"]]
        row["split"] = [_median([s[i] for s in splits if len(s) > i]) for i in range(max(map(len, splits)))] \
            if splits else []
        rows.append(row)
    return rows


def compare(records, rows):
    out = []
    loads = list(dict.fromkeys(r["load"] for r in rows))
    for load in loads:
        for label, group, a, b, how, metric, target in COMPARISONS:
            ra = next((r for r in rows if (r["load"], r["group"], r["variant"]) == (load, group, a)), None)
            rb = next((r for r in rows if (r["load"], r["group"], r["variant"]) == (load, group, b)), None)
            if not ra or not rb or ra[metric] is None or rb[metric] is None:
                continue
            op = (lambda x, y: x - y) if how == "diff" else (lambda x, y: x / y if y else None)
            per_round = []
            for rnd in sorted({r["round"] for r in records if r["load"] == load and r["group"] == group}):
                xa = next((r[metric] for r in records if (r["load"], r["group"], r["variant"], r["round"])
                           == (load, group, a, rnd)), None)
                xb = next((r[metric] for r in records if (r["load"], r["group"], r["variant"], r["round"])
                           == (load, group, b, rnd)), None)
                if xa is not None and xb is not None:
                    per_round.append(op(xa, xb))
            value = op(ra[metric], rb[metric])
            met = TARGETS[label](value) if label in TARGETS and value is not None else None
            out.append({"load": load, "comparison": label, "how": how, "metric": metric,
                        "a": ra[metric], "b": rb[metric], "value": value,
                        "per_round": per_round, "target": target, "met": met})
    return out


def _num(v, how):
    if v is None:
        return "-"
    return f"{v:+.2f} µs" if how == "diff" else f"{v:.2f}x"


def markdown(rows, comparisons):
    head = ("| load (qps) | variant | what | answered qps | loss % | CPU µs/query (min-max) | CPU % of a core "
            "| machine idle % | answered q per CPU-s | Lua calls/query | hook µs/call | datagrams/batch "
            "| worker CPU split % |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        split = "/".join(f"{s * 100:.0f}" for s in r["split"])
        lines.append("| " + " | ".join([
            r["load"], r["variant"], r["what"].replace("|", "\\|"), run.fmt(r["qps"], 0), run.fmt(r["loss_pct"], 2),
            f"{run.fmt(r['cpu_us_per_q'], 2)} ({run.fmt(r['cpu_min'], 2)}-{run.fmt(r['cpu_max'], 2)})",
            run.fmt(r["cpu_util"], 0, 100), run.fmt(r["machine_idle"], 0, 100), run.fmt(r["q_per_cpu_s"], 0),
            run.fmt(r["lua_calls_per_q"], 2), run.fmt(r["hook_us_per_call"], 3),
            run.fmt(r["dgrams_per_batch"], 1), split,
        ]) + " |")
    lines += ["", "| load (qps) | comparison | medians | of the medians | per round | target |",
              "|---|---|---|---|---|---|"]
    for c in comparisons:
        unit = " µs" if c["metric"] == "cpu_us_per_q" else ""
        digits = 2 if c["metric"] == "cpu_us_per_q" else 0
        lines.append("| " + " | ".join([
            c["load"], c["comparison"],
            f"{run.fmt(c['a'], digits)}{unit} vs {run.fmt(c['b'], digits)}{unit}",
            f"**{_num(c['value'], c['how'])}**",
            ", ".join(_num(x, c["how"]) for x in c["per_round"]),
            c["target"] + {True: ": met", False: ": **missed**", None: ""}[c["met"]],
        ]) + " |")
    return "\n".join(lines)


# ---------------------------------------------------------------- main


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="rounds per group (medians are reported)")
    ap.add_argument("--duration", type=int, default=5, help="seconds per dnsperf run")
    ap.add_argument("--qps", default="10000,max", help="comma list of offered loads; 'max': dnsperf without -Q")
    ap.add_argument("--groups", default=",".join(GROUPS), help=f"comma list out of {','.join(GROUPS)}")
    ap.add_argument("--variants", default="",
                    help="comma list: only these variants (default: every variant of each group)")
    ap.add_argument("--no-dnsdist", dest="dnsdist", action="store_false", help="leave dnsdist's variants out")
    ap.add_argument("--workers-clients", type=int, default=16,
                    help="dnsperf -c in the workers group: enough source ports for SO_REUSEPORT to "
                         "spread the traffic over two workers")
    run.add_common_args(ap)
    args = ap.parse_args(argv)
    args.qps = [q.strip() for q in args.qps.split(",") if q.strip()]
    args.groups = [g.strip() for g in args.groups.split(",") if g.strip()]
    args.variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    known = {v.name for g in GROUPS.values() for v in g}
    for v in args.variants:
        if v not in known:
            ap.error(f"--variants: unknown {v!r}")
    for q in args.qps:
        if q != "max" and not q.isdigit():
            ap.error(f"--qps: {q!r} is neither a number nor 'max'")
    for g in args.groups:
        if g not in GROUPS:
            ap.error(f"--groups: unknown {g!r}")
    if args.runs < 1 or args.duration < 1:
        ap.error("--runs and --duration must be at least 1")
    return run.finish_common_args(ap, args)


def main(argv=None):
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started_at = datetime.datetime.now().astimezone()
    facts = run.machine_facts()
    records = []
    with contextlib.ExitStack() as cleanup:
        ctx = run.prepare(args, cleanup, nsd_extra_ports=3)  # 4 NSD ports for the pool group
        (ctx.workdir / "hooks.lua").write_text(HOOKS_LUA)
        run.log(f"NSD on 127.0.0.1:{ctx.nsd_port} (and {ctx.nsd_extra_ports}); {facts['cpus']} CPUs, "
                f"load average {facts['loadavg_at_start']}")
        for load in args.qps:
            for group in args.groups:
                run.log(f"load {load}, group {group}")
                records += run_group(ctx, load, group)
    rows = summarise(records)
    comparisons = compare(records, rows)
    table = markdown(rows, comparisons)
    print()
    print(table)
    if args.json:
        args.json.write_text(json.dumps({
            "command": shlex.join(["python3"] + sys.argv),
            "started": started_at.isoformat(timespec="seconds"),
            "finished": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "machine": facts,
            "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
            "hooks_lua": HOOKS_LUA,
            "medians": rows, "comparisons": comparisons, "runs": records, "markdown": table,
        }, indent=1))
        run.log(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
