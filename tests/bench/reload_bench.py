#!/usr/bin/env python3
"""Reload of `dnspc run`: compile time against `dnspc check`, and the main loop.

    reload_bench.py [--dnspc PATH] [--rules 1000 100000] [--reloads 10] [--workers 2]
                    [--check-runs 3] [--probe-ms 5]

For each rule count, renders two policies of the benchmark's neutral rules
(render_dnspc.py; the second with another seed, so every reload changes
every rule) and reports:

- check: the wall time of `dnspc check FILE` (median of --check-runs,
  alternating the two files): the same pipeline short of native code.
- compile: the reload's compile_ms (the loader on the reload thread, from
  the trigger to its result on the main loop), median; and, from the
  answer's compile_phases_ms, the part `check` also does (parse, sema,
  lower, optimise: "pipeline") and its native code (PolicyData, LLVM IR,
  O2, machine code).
- compile / (check + native): the issue's yardstick (issue 14: within 1.3x).
  check's figure includes starting and leaving a process; compile's includes
  the wake-up of the main loop. Both read the file from the page cache.
- trigger to all swapped: each `reload FILE` request over the control
  socket, timed until its answer, which comes when every worker has
  acknowledged the new policy (and the old one is released).
- worst main-loop stall: a probe thread sends `help` (a command whose answer
  does not depend on the policy) over the control socket every --probe-ms
  throughout each reload; the longest round trip is how long the main loop
  (which also runs health checks and the dynamic-block evaluator) was kept
  from serving it. Idle, a round trip takes well under a millisecond.
- main-loop steps: the longest of the answer's main_steps_ms (bind, publish,
  release), as the reloader timed them itself.

Prints one Markdown table row per rule count. Not a test: the machine is
shared, so figures are indications.
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import rules as neutral
from render_dnspc import render_dnspc

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ctl(control, command, timeout=600):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(control)
        s.sendall(command.encode() + b"\n")
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    return json.loads(b"".join(chunks))


class Probe:
    """Round trips of `help` over the control socket, one every `period_s`."""

    def __init__(self, control, period_s):
        self.control = control
        self.period_s = period_s
        self.worst_ms = 0.0
        self.worst_at = 0.0  # monotonic time the worst round trip started
        self.count = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self):
        while not self._stop.is_set():
            t0 = time.monotonic()
            ctl(self.control, "help", timeout=60)
            rtt = (time.monotonic() - t0) * 1000
            if rtt > self.worst_ms:
                self.worst_ms, self.worst_at = rtt, t0
            self.count += 1
            self._stop.wait(self.period_s)


def check_time(dnspc, paths, runs):
    walls = []
    for i in range(runs):
        t0 = time.monotonic()
        r = subprocess.run([dnspc, "check", str(paths[i % 2])], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        walls.append((time.monotonic() - t0) * 1000)
        if r.returncode != 0:
            raise RuntimeError(f"dnspc check {paths[i % 2]} exited {r.returncode}")
    return walls


def bench(dnspc, n, reloads, workers, check_runs, probe_ms, work):
    port = free_port()
    control = str(work / f"control-{n}.sock")
    net = neutral.Network(listen_port=port, backend_port=free_port(), check_name="bench.test.")
    paths = []
    for k, seed in enumerate((neutral.DEFAULT_SEED, neutral.DEFAULT_SEED + 1)):
        path = work / f"policy-{n}-{k}.dp"
        path.write_text(render_dnspc(neutral.generate_nonmatching(n, seed), net, workers=workers, control=control))
        paths.append(path)
    checks = check_time(dnspc, paths, check_runs)
    log = open(work / f"dnspc-{n}.log", "wb")
    proc = subprocess.Popen([dnspc, "run", str(paths[0])], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 600
        while True:
            try:
                ctl(control, "stats")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"dnspc did not start: see {log.name}")
                time.sleep(0.1)
        out = {"check": checks, "wall": [], "compile": [], "native": [], "pipeline": [], "swap": [],
               "stall": [], "step": [], "idle": []}
        with Probe(control, probe_ms / 1000) as idle:
            time.sleep(0.5)
        out["idle"].append(idle.worst_ms)
        for i in range(reloads):
            path = paths[(i + 1) % 2]
            with Probe(control, probe_ms / 1000) as probe:
                t0 = time.monotonic()
                answer = ctl(control, f"reload {path}")
                out["wall"].append((time.monotonic() - t0) * 1000)
                # Whatever the last step left behind runs on the loop too.
                time.sleep(0.2)
            if not answer.get("ok"):
                raise RuntimeError(json.dumps(answer))
            phases = answer.get("compile_phases_ms", {})
            out["compile"].append(answer["compile_ms"])
            out["native"].append(phases.get("native", float("nan")))
            out["pipeline"].append(phases.get("pipeline", float("nan")))
            out["swap"].append(answer["swap_ms"])
            out["stall"].append(probe.worst_ms)
            out["step"].append(max(answer.get("main_steps_ms", {"?": float("nan")}).values()))
            print(f"  {n} rules, reload {i + 1}: compile {answer['compile_ms']:.0f} ms {phases}, "
                  f"main steps {answer.get('main_steps_ms')}, worst probe {probe.worst_ms:.1f} ms "
                  f"at +{(probe.worst_at - t0) * 1000:.0f} ms ({probe.count} probes)", file=sys.stderr, flush=True)
        return out
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        log.close()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dnspc", default=os.environ.get("DNSPC_BIN") or str(ROOT / "build" / "cli" / "dnspc"))
    p.add_argument("--rules", type=int, nargs="+", default=[1000, 100000])
    p.add_argument("--reloads", type=int, default=10)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--check-runs", type=int, default=3)
    p.add_argument("--probe-ms", type=float, default=5.0)
    args = p.parse_args(argv)
    med = statistics.median
    with tempfile.TemporaryDirectory(prefix="dnspc-reload-bench-") as tmp:
        print("| rules | reloads | check, median | compile, median | of which pipeline | of which native "
              "| compile / (check + native) | trigger to all swapped, median (max) "
              "| worst probe round trip per reload, median (max; idle) | longest main-loop step | swap, median |")
        print("|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|")
        for n in args.rules:
            r = bench(args.dnspc, n, args.reloads, args.workers, args.check_runs, args.probe_ms, Path(tmp))
            ratio = med(r["compile"]) / (med(r["check"]) + med(r["native"]))
            print(f"| {n} | {args.reloads} | {med(r['check']):.0f} ms | {med(r['compile']):.0f} ms "
                  f"| {med(r['pipeline']):.0f} ms | {med(r['native']):.0f} ms | {ratio:.2f} "
                  f"| {med(r['wall']):.0f} ms ({max(r['wall']):.0f}) "
                  f"| {med(r['stall']):.1f} ms ({max(r['stall']):.1f}; {max(r['idle']):.1f}) | {max(r['step']):.1f} ms "
                  f"| {med(r['swap']):.2f} ms |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
