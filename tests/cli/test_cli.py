#!/usr/bin/env python3
"""The dnspc binary's contract: help, version, exit codes, honest refusals."""
import subprocess
import sys
import unittest

DNSPC = sys.argv.pop(1)


def run(*args):
    return subprocess.run([DNSPC, *args], capture_output=True, text=True, timeout=30)


class CliContract(unittest.TestCase):
    def test_version(self):
        r = run("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^dnspc \d+\.\d+\.\d+\n$")

    def test_help_lists_every_subcommand(self):
        r = run("--help")
        self.assertEqual(r.returncode, 0)
        for name in ("check", "test", "explain", "run", "ctl", "reload", "console"):
            self.assertIn(f"  {name} ", r.stdout)

    def test_no_arguments_is_usage_error(self):
        r = run()
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage:", r.stderr)

    def test_unknown_command_is_usage_error(self):
        r = run("frobnicate")
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown command 'frobnicate'", r.stderr)

    def test_every_subcommand_has_help(self):
        for name in ("check", "test", "explain", "run", "ctl", "reload", "console"):
            r = run(name, "--help")
            self.assertEqual(r.returncode, 0, name)
            self.assertTrue(r.stdout.startswith("usage: dnspc " + name), name)

    def test_unbuilt_subcommands_refuse_to_pretend(self):
        help_text = run("--help").stdout
        unbuilt = [line.split()[0] for line in help_text.splitlines() if "(not built yet)" in line]
        for name in unbuilt:
            r = run(name, "x")
            self.assertEqual(r.returncode, 2, name)
            self.assertIn("is not built yet", r.stderr)
            self.assertEqual(r.stdout, "")


if __name__ == "__main__":
    unittest.main(verbosity=2)
