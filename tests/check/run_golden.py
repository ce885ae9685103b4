#!/usr/bin/env python3
"""Golden tests for `dnspc check`: each NAME.dp here is checked, and its exit
code and diagnostics must equal NAME.expected exactly.

    run_golden.py DNSPC [NAME...]        compare
    UPDATE_GOLDEN=1 run_golden.py DNSPC  rewrite the .expected files (review the diff!)

The .expected file holds "exit: N", then what check wrote to stderr. Paths
are relative to this folder, so the output does not depend on the checkout.
"""
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def check(dnspc: str, policy: Path) -> str:
    env = dict(os.environ, NO_COLOR="1")
    r = subprocess.run([dnspc, "check", policy.name], cwd=HERE, capture_output=True, text=True,
                       timeout=60, env=env)
    return f"exit: {r.returncode}\n{r.stderr}"


def main() -> int:
    dnspc = sys.argv[1]
    # check runs in this folder, so a relative path to dnspc must be made absolute.
    if os.sep in dnspc:
        dnspc = str(Path(dnspc).resolve())
    names = sys.argv[2:]
    policies = sorted(HERE.glob("*.dp")) if not names else [HERE / f"{n}.dp" for n in names]
    update = os.environ.get("UPDATE_GOLDEN") == "1"
    failures = 0
    for policy in policies:
        expected_file = policy.with_suffix(".expected")
        actual = check(dnspc, policy)
        if update:
            expected_file.write_text(actual)
            continue
        if not expected_file.exists():
            print(f"FAIL {policy.name}: no {expected_file.name}")
            failures += 1
            continue
        expected = expected_file.read_text()
        if actual != expected:
            failures += 1
            print(f"FAIL {policy.name}\n--- expected\n{expected}--- actual\n{actual}")
    print(f"{len(policies) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
