#!/usr/bin/env python3
"""The dnspc binary's contract: help, version, exit codes, honest refusals."""
import subprocess
import sys
import unittest

DNSPC = sys.argv.pop(1)


def run(*args, stdin=None):
    return subprocess.run([DNSPC, *args], capture_output=True, text=True, timeout=30, input=stdin)


class CliContract(unittest.TestCase):
    def test_version(self):
        r = run("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^dnspc \d+\.\d+\.\d+\n$")

    def test_help_lists_every_subcommand(self):
        r = run("--help")
        self.assertEqual(r.returncode, 0)
        for name in ("check", "test", "explain", "run", "ctl", "reload", "hash-password", "console"):
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
        for name in ("check", "test", "explain", "run", "ctl", "reload", "hash-password", "console"):
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

    def test_hash_password_reads_stdin_and_prints_a_hash(self):
        r = run("hash-password", stdin="s3cret\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^\$argon2id\$v=19\$m=65536,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+\n$")
        self.assertNotIn("s3cret", r.stdout + r.stderr)
        self.assertNotEqual(run("hash-password", stdin="s3cret").stdout, r.stdout)  # salted
        r = run("hash-password", stdin="")
        self.assertEqual(r.returncode, 1)
        self.assertIn("empty", r.stderr)
        self.assertEqual(r.stdout, "")
        r = run("hash-password", "s3cret")
        self.assertEqual(r.returncode, 2)
        self.assertIn("never the command line", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
