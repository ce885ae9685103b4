#!/usr/bin/env python3
"""Reload latency of `dnspc run`: trigger to every worker swapped.

    reload_bench.py [--dnspc PATH] [--rules 1000 100000] [--reloads 10] [--workers 2]

For each rule count, renders two policies of the benchmark's neutral rules
(render_dnspc.py; the second with another seed, so every reload changes
every rule), starts `dnspc run` on the first, then reloads alternately with
`dnspc reload FILE` and times each call: the command returns when every
worker has acknowledged the new policy, so its wall time is trigger to all
workers swapped. Also reported, from the answer: compile (parse, check,
native code, on the reload thread) and swap (publish to the last worker's
acknowledgement). Prints one Markdown table row per rule count.
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import rules as neutral
from render_dnspc import render_dnspc

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ctl(control, command):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(600)
        s.connect(control)
        s.sendall(command.encode() + b"\n")
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    return json.loads(b"".join(chunks))


def bench(dnspc, n, reloads, workers, work):
    port = free_port()
    control = str(work / f"control-{n}.sock")
    net = neutral.Network(listen_port=port, backend_port=free_port(), check_name="bench.test.")
    paths = []
    for k, seed in enumerate((neutral.DEFAULT_SEED, neutral.DEFAULT_SEED + 1)):
        path = work / f"policy-{n}-{k}.dp"
        path.write_text(render_dnspc(neutral.generate_nonmatching(n, seed), net, workers=workers, control=control))
        paths.append(path)
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
        walls, compiles, swaps = [], [], []
        for i in range(reloads):
            path = paths[(i + 1) % 2]
            t0 = time.monotonic()
            r = subprocess.run([dnspc, "reload", "--control", control, str(path)], capture_output=True, text=True)
            walls.append((time.monotonic() - t0) * 1000)
            if r.returncode != 0:
                raise RuntimeError(r.stdout + r.stderr)
            last = ctl(control, "stats")["last_reload"]
            compiles.append(last["compile_ms"])
            swaps.append(last["swap_ms"])
        return walls, compiles, swaps
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dnspc", default=os.environ.get("DNSPC_BIN") or str(ROOT / "build" / "cli" / "dnspc"))
    p.add_argument("--rules", type=int, nargs="+", default=[1000, 100000])
    p.add_argument("--reloads", type=int, default=10)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="dnspc-reload-bench-") as tmp:
        print("| rules | reloads | trigger to all swapped, median (min-max) | compile, median | swap, median (max) |")
        print("|---:|---:|---|---:|---|")
        for n in args.rules:
            walls, compiles, swaps = bench(args.dnspc, n, args.reloads, args.workers, Path(tmp))
            print(f"| {n} | {args.reloads} | {statistics.median(walls):.0f} ms ({min(walls):.0f}-{max(walls):.0f}) "
                  f"| {statistics.median(compiles):.0f} ms | {statistics.median(swaps):.2f} ms ({max(swaps):.2f}) |",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
