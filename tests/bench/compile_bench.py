#!/usr/bin/env python3
"""Compile-side benchmarks: `dnspc check` and the decision structure.

    python3 tests/bench/compile_bench.py [--build build] [--sizes 10,1000,10000,100000]
                                         [--runs 3] [--dnsdist-sizes 1000,10000]
    python3 tests/bench/compile_bench.py --check-only --sizes 10000 --dnsdist-sizes 10000 --runs 5

For each size N it renders N rules of the standard mix (rules.py) as a dnspc
policy, and reports:
  - `dnspc check`: wall time (median of --runs) and peak RSS (GNU time);
  - the decision benchmark (build/tests/bench/decide/dnspc_decide_bench):
    compile phases, ns per decision for each engine, RSS after compiling;
  - for --dnsdist-sizes, `dnsdist --check-config` on the same rules.
Prints a Markdown table for docs/benchmarks.md. Not a test: the machine is
shared, so figures are indications; ratios taken in one run are the point.
--check-only skips the decision benchmark and prints the check comparison
alone, with the minimum over --runs (the least disturbed run) beside the
median; runs of dnspc and dnsdist alternate, so both see the same load.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import render_dnspc  # noqa: E402
import rules as neutral  # noqa: E402

NET = neutral.Network(listen_port=5300, backend_port=5301, check_name="bench.test.")


def timed(cmd, runs, may_fail=False):
    """Median wall seconds and max RSS (MiB) of `cmd` over `runs` runs;
    (None, None) when it fails and `may_fail`."""
    walls, rss = [], []
    for _ in range(runs):
        with tempfile.NamedTemporaryFile("r") as t:
            start = time.monotonic()
            r = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", t.name, *cmd],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            walls.append(time.monotonic() - start)
            rss.append(int(t.read().strip().splitlines()[-1]) / 1024)
            if r.returncode != 0:
                if may_fail:
                    return None, None
                raise SystemExit(f"{' '.join(cmd)} exited {r.returncode}")
    return statistics.median(walls), max(rss)


def check_only(args, sizes, dnsdist_sizes):
    """`dnspc check` against `dnsdist --check-config`, alternating runs."""
    dnspc = Path(args.build) / "cli" / "dnspc"
    print("| rules | dnspc check min s | median s | RSS MiB | dnsdist --check-config min s | median s | ratio (min) |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            rule_list = neutral.generate_nonmatching(n)
            policy = Path(tmp) / f"p{n}.dp"
            policy.write_text(render_dnspc.render_dnspc(rule_list, NET))
            conf = Path(tmp) / f"d{n}.conf"
            conf.write_text(neutral.render_dnsdist(rule_list, NET))
            ours, theirs, rss = [], [], 0
            for _ in range(args.runs):
                wall, peak = timed([str(dnspc), "check", str(policy)], 1)
                ours.append(wall)
                rss = max(rss, peak)
                if n in dnsdist_sizes:
                    wall, _ = timed(["dnsdist", "--check-config", "-C", str(conf)], 1, may_fail=True)
                    if wall is not None:
                        theirs.append(wall)
            d = f"{min(theirs):.3f} | {statistics.median(theirs):.3f} | {min(ours) / min(theirs):.2f}x" if theirs else "- | - | -"
            print(f"| {n} | {min(ours):.3f} | {statistics.median(ours):.3f} | {rss:.0f} | {d} |")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default="build")
    p.add_argument("--sizes", default="10,1000,10000,100000")
    p.add_argument("--dnsdist-sizes", default="1000,10000")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--json")
    p.add_argument("--check-only", action="store_true", help="only dnspc check vs dnsdist --check-config")
    args = p.parse_args()
    build = Path(args.build)
    dnspc = build / "cli" / "dnspc"
    decide = build / "tests" / "bench" / "decide" / "dnspc_decide_bench"
    sizes = [int(s) for s in args.sizes.split(",")]
    dnsdist_sizes = {int(s) for s in args.dnsdist_sizes.split(",") if s}
    if args.check_only:
        return check_only(args, sizes, dnsdist_sizes)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            rule_list = neutral.generate_nonmatching(n)
            policy = Path(tmp) / f"p{n}.dp"
            policy.write_text(render_dnspc.render_dnspc(rule_list, NET))
            row = {"rules": n}
            row["check_s"], row["check_rss_mb"] = timed([str(dnspc), "check", str(policy)], args.runs)
            out = subprocess.run([str(decide), str(policy), "--rounds", "3"], capture_output=True, text=True,
                                 check=True)
            row.update(json.loads(out.stdout))
            if n in dnsdist_sizes:
                conf = Path(tmp) / f"d{n}.conf"
                conf.write_text(neutral.render_dnsdist(rule_list, NET))
                # dnsdist cannot load more than about 65k rules (NOTES.md).
                row["dnsdist_check_s"], row["dnsdist_check_rss_mb"] = timed(
                    ["dnsdist", "--check-config", "-C", str(conf)], args.runs, may_fail=True)
            results.append(row)
            print(json.dumps(row), file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    engines = [k for k in ("interpreter_ns", "optimized_ns", "native_ns") if k in results[0]]
    print("| rules | check s | check RSS MiB | dnsdist --check-config s | " +
          " | ".join(e.replace("_ns", " ns/decision") for e in engines) + " | parse s | sema s | lower s | optimise s |")
    print("|---" * (8 + len(engines)) + "|")
    for r in results:
        d = "-"
        if "dnsdist_check_s" in r:
            d = "fails to load" if r["dnsdist_check_s"] is None else f"{r['dnsdist_check_s']:.2f}"
        print(f"| {r['rules']} | {r['check_s']:.2f} | {r['check_rss_mb']:.0f} | {d} | " +
              " | ".join(f"{r[e]:.0f}" for e in engines) +
              f" | {r['parse_s']:.2f} | {r['sema_s']:.2f} | {r['lower_s']:.2f} | {r['optimize_s']:.2f} |")


if __name__ == "__main__":
    main()
