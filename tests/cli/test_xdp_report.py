#!/usr/bin/env python3
"""What `dnspc check` and `dnspc explain` say about the kernel fast path
(docs/xdp.md): the rules the XDP program would own and, for the first one it
cannot, why and where. check reports it as a note (exit 0, also under
--werror); explain always has the section, with or without `xdp`.

The policies are the golden tests' (tests/check/xdp-prefix-*.dp), run from
that folder so that paths in the output are relative.
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

DNSPC = str(Path(sys.argv.pop(1)).resolve())
CHECK_DIR = Path(__file__).resolve().parent.parent / "check"


def run(*args, cwd=CHECK_DIR):
    env = dict(os.environ, NO_COLOR="1")
    return subprocess.run([DNSPC, *args], cwd=cwd, capture_output=True, text=True, timeout=60, env=env)


def section(stdout):
    """The explain section's lines, without the heading."""
    lines = stdout.splitlines()
    start = lines.index("kernel fast path (docs/xdp.md):")
    return lines[start + 1:]


class ExplainSection(unittest.TestCase):
    def test_all_rules_eligible(self):
        r = run("explain", "xdp-prefix-all.dp")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")  # the note is check's; explain has its section
        self.assertEqual(section(r.stdout), [
            "  xdp eth0 (native): all 6 rules run in the kernel (1 folded into name lookups, 1 into source "
            "lookups, 1 into qtype-and-name lookups, 1 into name-and-regex lookups, 2 as general code)",
            "  budgets used by general code: name bits 1/64, source bits 0/64, destination bits 0/64, "
            "regexes 0/32, rules 2/4,096, tests 3/8,192",  # randsub folds: shaped 2, default 1
            "  every UDP query the kernel parses is decided there; TCP queries are evaluated whole in user space",
        ])

    def test_ended_by_lua(self):
        r = run("explain", "xdp-prefix-lua.dp")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = section(r.stdout)
        self.assertEqual(lines[0],
                         "  xdp veth0 (generic): rules 1-2 of 4 run in the kernel (1 folded into name lookups, "
                         "1 as general code); rule 3 'silence' at xdp-prefix-lua.dp:7:6 stays in user space: "
                         "`lua silence` runs Lua, which the kernel cannot")
        self.assertEqual(lines[2], "  a UDP query the kernel does not decide goes up, and user space evaluates it "
                                   "from rule 3; TCP queries are evaluated whole in user space")

    def test_ended_by_a_modifier(self):
        lines = section(run("explain", "xdp-prefix-modifier.dp").stdout)
        self.assertTrue(lines[0].endswith("rule 2 'watched' at xdp-prefix-modifier.dp:5:6 stays in user space: "
                                          "the `log` modifier needs user space"), lines[0])

    def test_ended_by_a_budget(self):
        lines = section(run("explain", "xdp-prefix-budget.dp").stdout)
        self.assertEqual(lines[0],
                         "  xdp eth0 (native): rules 1-32 of 35 run in the kernel (32 as general code); rule 33 "
                         "'r32' at xdp-prefix-budget.dp:36:6 stays in user space: a 33rd regex outside a plain "
                         "match exceeds the kernel's budget of 32")
        self.assertIn("regexes 32/32, rules 32/4,096, tests 32/8,192", lines[1])

    def test_without_xdp_the_section_says_what_would_run(self):
        with tempfile.TemporaryDirectory() as d:
            Path(d, "p.dp").write_text('pool main { server 192.0.2.1; }\n'
                                       'rule a: qname suffix "a.example." => drop;\n'
                                       'rule default: true => pool main;\n')
            r = run("explain", "p.dp", cwd=d)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(section(r.stdout)[0],
                             "  off (no `xdp` statement); with one: rule 1 of 2 runs in the kernel (1 folded into "
                             "name lookups); rule 2 'default' at p.dp:3:6 stays in user space: `pool main` forwards "
                             "to a backend, which only user space does")
            # check says nothing about it: there is no fast path to report.
            c = run("check", "p.dp", cwd=d)
            self.assertEqual((c.returncode, c.stderr), (0, ""))


class CheckNote(unittest.TestCase):
    def test_a_note_never_fails_check(self):
        for name in ("xdp-prefix-all", "xdp-prefix-lua", "xdp-prefix-modifier", "xdp-prefix-budget"):
            r = run("check", "--werror", f"{name}.dp")
            self.assertEqual(r.returncode, 0, name + r.stderr)
            self.assertIn(": note: xdp ", r.stderr)
            self.assertRegex(r.stdout, rf"^{name}\.dp: ok: \d+ rules, \d pools?, \d servers?\n$")

    def test_json_carries_the_note_and_its_place(self):
        r = run("check", "--format", "json", "xdp-prefix-modifier.dp")
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual((doc["errors"], doc["warnings"], doc["notes"], doc["omitted"]), (0, 0, 1, 0))
        [d] = doc["diagnostics"]
        self.assertEqual((d["severity"], d["code"], d["line"], d["column"]), ("note", "xdp-prefix", 2, 1))
        self.assertEqual(d["message"],
                         "xdp eth0 (native): rule 1 of 3 runs in the kernel (1 folded into name lookups); rule 2 "
                         "'watched' at xdp-prefix-modifier.dp:5:6 stays in user space: the `log` modifier needs "
                         "user space")
        [n] = d["notes"]
        self.assertEqual((n["line"], n["column"], n["end_column"]), (5, 50, 53))

    def test_a_policy_with_errors_gets_no_note(self):
        with tempfile.TemporaryDirectory() as d:
            Path(d, "p.dp").write_text('xdp "eth0";\npool main { server 192.0.2.1; }\n'
                                       'rule a: qname suffix "a.example." => pool mian;\n'
                                       'rule default: true => pool main;\n')
            r = run("check", "p.dp", cwd=d)
            self.assertEqual(r.returncode, 1)
            self.assertIn("[unknown-pool]", r.stderr)
            self.assertNotIn("xdp-prefix", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
