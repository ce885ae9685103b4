#!/usr/bin/env python3
"""Lua hooks counted in instructions, not seconds (issue #15).

    lua_instructions.py [--qps 200] [--duration 10] [--repeats 2] [--variants NAME,...] [--json FILE]

On this shared 2-core machine the CPU time of a run at 10k qps moves by
more than the 1.5 µs a query the issue allows (lua_bench.py: a variant
that never calls its hook lands 2-3 µs away from the baseline). So this
counts what dnspc's user-space code executes per query instead: each
variant of lua_bench.py's predicate and pool groups runs under
`valgrind --tool=callgrind` (all threads), NSD behind it, dnsperf offering
--qps (slow enough for valgrind to keep up); after a warm-up the counts are
zeroed (`callgrind_control -z`), dnsperf runs --duration seconds, the counts
are dumped (`callgrind_control -d`) and divided by the queries dnspc's own
counter saw in that window. Instruction counts do not depend on what else
the machine runs: two repeats agree to a fraction of a percent.

Only the worker threads are counted (callgrind --separate-threads; the
main thread's timers run whatever the traffic, and would be spread over
the queries), user space only (the kernel's share is the same for every
variant). Reported per variant: instructions per query, and the
differences the issue's targets are about: lua - native, lua_unreached -
suffix (the same rule without its hook: the "nothing measurable" target),
lua4 / rr4.

Instructions are not seconds, so `--timer` turns them into time: for the
lua variant, callgrind_annotate gives the instructions inside
HookRuntime::Impl::call, the region dnspc's own per-hook timer measures
(two steady_clock reads, `ctl stats`); the same variant then runs without
valgrind at --timer-qps and that timer is read. The timer's µs per call,
scaled by (all the instructions lua adds) / (those inside the timed
region), is the added time per query on this machine.

Then `--futex`: the two-worker Lua variant at --futex-qps without valgrind,
with `strace -f -c -e trace=futex` attached for --duration seconds: a lock
shared by the workers' Lua states would show as futex calls once two
workers contend for it; none means none was waited for.
"""

import argparse
import contextlib
import datetime
import json
import re
import shlex
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import run  # tests/bench/run.py: NSD, dnsperf
from lua_bench import GROUPS, HOOKS_LUA, Variant, dnspc_policy
from reload_bench import ctl

# lua_unreached's own rule without the hook: what the suffix test costs, so
# that lua_unreached - suffix is what an unreached hook costs.
SUFFIX = Variant("suffix", 'qname suffix "elsewhere.test." (no Lua)',
                 rules=('rule r: qname suffix "elsewhere.test." => refuse;',))

VALGRIND_START_TIMEOUT = 240.0  # JIT start under valgrind takes 10-60 s


def queries(control):
    return ctl(control, "stats", timeout=60)["queries"]


def wait_answering(proc, port, expect, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited early; see {proc.log}:\n{proc.log.read_text()[-2000:]}")
        if run.probe(port, timeout=2) == (0, expect):
            return
        time.sleep(0.5)
    raise RuntimeError(f"{proc.name} did not answer within {timeout}s; see {proc.log}")


def totals(dump):
    text = dump.read_text(errors="replace")
    m = re.search(r"^totals:\s+(\d+)", text, re.M) or re.search(r"^summary:\s+(\d+)", text, re.M)
    if not m:
        raise RuntimeError(f"no totals in {dump}")
    return int(m.group(1))


def count_variant(ctx, v):
    port = run.free_port(ctx.ports)
    control = str(ctx.workdir / f"{v.name}.sock")
    policy = ctx.workdir / f"{v.name}.dp"
    policy.write_text(dnspc_policy(ctx, v, port, control))
    out = ctx.workdir / f"cg-{v.name}"
    out.mkdir()
    proc = run.start_process(ctx, f"cg-{v.name}", [
        "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/cg.%p", "--dump-instr=no",
        "--separate-threads=yes",
        str(ctx.args.dnspc), "run", str(policy)])
    try:
        wait_answering(proc, port, dict(run.ZONE_HOSTS)["www"], VALGRIND_START_TIMEOUT)
        # Two workers: enough source ports for SO_REUSEPORT to use both.
        clients = ctx.args.clients
        if v.workers > 1:
            ctx.args.clients = 16
        run.run_dnsperf(ctx, port, ctx.args.qps, 3, verbose=False)  # warm-up: caches, lazy paths
        results = []
        for rep in range(ctx.args.repeats):
            q0 = queries(control)
            subprocess.run(["callgrind_control", "-z", str(proc.pid)], capture_output=True, check=True, timeout=120)
            _, text = run.run_dnsperf(ctx, port, ctx.args.qps, ctx.args.duration, verbose=False)
            subprocess.run(["callgrind_control", "-d", str(proc.pid)], capture_output=True, check=True, timeout=120)
            q1 = queries(control)
            # One file per thread and dump: cg.PID.N-TT. Thread 01 is the
            # main thread (the control loop: its timers run whatever the
            # traffic); the others are the workers (and idle helpers).
            dumps = [p for p in out.glob(f"cg.{proc.pid}.{rep + 1}-*")]
            workers = [p for p in dumps if not p.name.endswith("-01")]
            if not workers:
                raise RuntimeError(f"callgrind wrote no worker dump in {out}: {sorted(out.iterdir())}")
            n = q1 - q0
            ir = sum(totals(p) for p in workers)
            lost = run.parse_dnsperf(text)
            timed = sum(t for t in (timed_share(p) for p in workers) if t) if v.name == "lua" else None
            results.append({"queries": n, "instructions": ir, "per_query": ir / n if n else None,
                            "timed_instructions": timed,
                            "dnsperf_lost": lost["lost"], "dnsperf_completed": lost["completed"]})
            split = sorted((totals(p) for p in workers), reverse=True)
            run.log(f"  {v.name:14s} repeat {rep + 1}: {n} queries, {ir} instructions, "
                    f"{ir / n:,.0f} per query (dnsperf lost {lost['lost']}; per thread {split})")
        ctx.args.clients = clients
        return results
    finally:
        proc.stop()


def timed_share(dump):
    """Instructions inside HookRuntime::Impl::call, the region dnspc's own
    per-hook timer measures (inclusive), from a worker's dump."""
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(dump)],
                          capture_output=True, text=True, check=True, timeout=300).stdout
    for line in text.splitlines():
        if "HookRuntime::Impl::call(" in line:
            return int(line.split()[0].replace(",", ""))
    return None


def hook_timer(ctx):
    """Without valgrind, at --timer-qps: dnspc's own mean time per Lua call
    (two steady_clock reads around HookRuntime::Impl::call, `ctl stats`)."""
    v = next(x for x in GROUPS["predicate"] if x.name == "lua")
    port = run.free_port(ctx.ports)
    control = str(ctx.workdir / "timer.sock")
    policy = ctx.workdir / "timer.dp"
    policy.write_text(dnspc_policy(ctx, v, port, control))
    proc = run.start_process(ctx, "timer", [str(ctx.args.dnspc), "run", str(policy)])
    try:
        run.wait_answering(proc, port, dict(run.ZONE_HOSTS)["www"])
        run.run_dnsperf(ctx, port, ctx.args.timer_qps, 1, verbose=False)
        out = []
        for _ in range(ctx.args.repeats):
            h0 = ctl(control, "stats", timeout=10)["lua"]["hooks"]["deep"]
            run.run_dnsperf(ctx, port, ctx.args.timer_qps, ctx.args.duration, verbose=False)
            h1 = ctl(control, "stats", timeout=10)["lua"]["hooks"]["deep"]
            out.append((h1["seconds"] - h0["seconds"]) * 1e6 / (h1["calls"] - h0["calls"]))
        run.log(f"  hook timer at {ctx.args.timer_qps} qps: " + ", ".join(f"{x:.3f}" for x in out) + " µs per call")
        return out
    finally:
        proc.stop()


def futex_check(ctx):
    v = next(x for x in GROUPS["workers"] if x.name == "lua_w2")
    port = run.free_port(ctx.ports)
    control = str(ctx.workdir / "futex.sock")
    policy = ctx.workdir / "futex.dp"
    policy.write_text(dnspc_policy(ctx, v, port, control))
    proc = run.start_process(ctx, "futex", [str(ctx.args.dnspc), "run", str(policy)])
    try:
        run.wait_answering(proc, port, dict(run.ZONE_HOSTS)["www"])
        summary = ctx.workdir / "strace.txt"
        tracer = subprocess.Popen(["strace", "-f", "-c", "-e", "trace=futex", "-o", str(summary),
                                   "-p", str(proc.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
        before = ctl(control, "stats", timeout=10)
        clients = ctx.args.clients
        ctx.args.clients = 16  # enough source ports for SO_REUSEPORT to use both workers
        run.run_dnsperf(ctx, port, ctx.args.futex_qps, ctx.args.duration, verbose=False)
        ctx.args.clients = clients
        after = ctl(control, "stats", timeout=10)
        tracer.send_signal(signal.SIGINT)
        tracer.wait(timeout=30)
        text = summary.read_text()
        m = re.search(r"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)(?:\s+(\d+))?\s+futex\s*$", text, re.M)
        calls = int(m.group(1)) if m else 0
        hooks = after.get("lua", {}).get("hooks", {})
        lua_calls = sum(h["calls"] for h in hooks.values()) - sum(
            h["calls"] for h in before.get("lua", {}).get("hooks", {}).values())
        run.log(f"  lua_w2 under strace: {after['queries'] - before['queries']} queries, {lua_calls} Lua calls, "
                f"{calls} futex calls")
        return {"queries": after["queries"] - before["queries"], "lua_calls": lua_calls, "futex_calls": calls,
                "strace": text}
    finally:
        proc.stop()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--qps", type=int, default=200, help="offered load under valgrind")
    ap.add_argument("--duration", type=int, default=10, help="seconds counted per repeat")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--variants", default="baseline,native,lua,suffix,lua_unreached,rr4,lua4,lua_w1,lua_w2")
    ap.add_argument("--futex", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--futex-qps", type=int, default=20000)
    ap.add_argument("--timer", action=argparse.BooleanOptionalAction, default=True,
                    help="also read dnspc's own per-call hook timer without valgrind")
    ap.add_argument("--timer-qps", type=int, default=10000)
    run.add_common_args(ap, timeout=5)
    args = run.finish_common_args(ap, ap.parse_args(argv))
    names = [x.strip() for x in args.variants.split(",") if x.strip()]
    variants = [v for g in ("predicate", "pool", "workers") for v in GROUPS[g] + ((SUFFIX,) if g == "predicate" else ())
                if v.kind == "dnspc" and v.name in names]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = datetime.datetime.now().astimezone()
    counts, futex, timer = {}, None, []
    with contextlib.ExitStack() as cleanup:
        ctx = run.prepare(args, cleanup, nsd_extra_ports=3)
        (ctx.workdir / "hooks.lua").write_text(HOOKS_LUA)
        for v in variants:
            counts[v.name] = count_variant(ctx, v)
        if args.futex:
            futex = futex_check(ctx)
        if args.timer and "lua" in names:
            timer = hook_timer(ctx)
    per_q = {k: statistics.median(r["per_query"] for r in rs) for k, rs in counts.items()}
    lines = ["| variant | what | instructions per query (repeats) |", "|---|---|---:|"]
    for v in variants:
        reps = ", ".join(f"{r['per_query']:,.0f}" for r in counts[v.name])
        lines.append(f"| {v.name} | {v.what} | {per_q[v.name]:,.0f} ({reps}) |")
    lines.append("")
    for label, a, b, how in (("lua - native", "lua", "native", "diff"),
                             ("lua_unreached - suffix", "lua_unreached", "suffix", "diff"),
                             ("native - baseline", "native", "baseline", "diff"),
                             ("lua4 / rr4", "lua4", "rr4", "ratio"),
                             ("lua_w2 / lua_w1", "lua_w2", "lua_w1", "ratio")):
        if a in per_q and b in per_q:
            value = per_q[a] - per_q[b] if how == "diff" else per_q[a] / per_q[b]
            lines.append(f"- {label}: {value:+,.0f} instructions per query" if how == "diff"
                         else f"- {label}: {value:.3f}x")
    inside = [r["timed_instructions"] / r["queries"] for r in counts.get("lua", []) if r.get("timed_instructions")]
    if inside and "native" in per_q:
        added = per_q["lua"] - per_q["native"]
        lines.append(f"- inside HookRuntime::Impl::call (what dnspc's hook timer measures): "
                     f"{statistics.median(inside):,.0f} instructions per query, "
                     f"{100 * statistics.median(inside) / added:.0f} % of what lua adds")
        if timer:
            t = statistics.median(timer)
            lines.append(f"- dnspc's hook timer without valgrind at {args.timer_qps} qps: {t:.3f} µs per call "
                         f"(repeats " + ", ".join(f"{x:.3f}" for x in timer) + "); scaled to all the added "
                         f"instructions: {t * added / statistics.median(inside):.2f} µs per query")
    if futex:
        lines.append(f"- lua_w2 (2 workers, Lua on every query) under strace for {args.duration} s: "
                     f"{futex['queries']} queries, {futex['lua_calls']} Lua calls, {futex['futex_calls']} futex calls")
    table = "\n".join(lines)
    print()
    print(table)
    if args.json:
        args.json.write_text(json.dumps({"command": shlex.join(["python3"] + sys.argv),
                                         "started": started.isoformat(timespec="seconds"),
                                         "machine": run.machine_facts(), "counts": counts, "futex": futex, "hook_timer_us": timer,
                                         "markdown": table}, indent=1))


if __name__ == "__main__":
    main()
