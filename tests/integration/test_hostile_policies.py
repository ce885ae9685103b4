#!/usr/bin/env python3
"""Hostile or generated policies against a running instance, through the real
binary (`dnspc check`, `dnspc reload`, SIGHUP, `run --watch`):

- 37,000 nested parentheses crashed the parser (stack overflow), so `check`
  and a running instance on reload died; now deeper than 256 levels is the
  located error `nesting-too-deep`, the instance keeps running and answering,
  and long flat `or` chains (12,000 terms here) are accepted;
- set files were read without bounds: `/dev/zero` grew an instance to
  gigabytes on reload and a FIFO hung the reload for ever (a later good
  reload queued behind it, SIGTERM no longer stopped the instance); now only
  regular files are read (`bad-file`), so both are rejected at once.

Every reload and wait is bounded; the only timing asserted is "it did not
hang"."""

import os
import signal
import subprocess
import time
import unittest

from harness import DNSPC, Dnspc, Nsd, Workdir, ZONE, answer_a, dns, query, rss_kib, wait_until, who

MARKER = "192.0.2.1"

# The running policy: a marker answered by a spoof rule, the rest forwarded to NSD.
GOOD = """
listen 127.0.0.1:{port};
control "{control}";
option workers 2;
option udp_timeout 2s;

pool main { policy round_robin; server SERVER; }

rule marker: qname suffix "marker.test." => spoof A MARKER;
EXTRA
rule default: true => pool main;
"""

DEPTH = 37000
DEEP_RULE = "rule r: " + "(" * DEPTH + "rd" + ")" * DEPTH + " => drop;"
# Where the error is: the parenthesis one past the limit of 256, on DEEP_RULE's line.
DEEP_COL = len("rule r: ") + 256 + 1

CHAIN_TERMS = 12000
CHAIN_RULE = ("rule chain: " + " or ".join(f'qname == "a{i}.x."' for i in range(CHAIN_TERMS))
              + " => spoof A 192.0.2.77;")

RELOAD_TIMEOUT = 30  # "did not hang" for a reload that must be rejected at once
COMPILE_TIMEOUT = 60  # a reload that compiles a large policy to native code




def line_of(text, needle):
    """The 1-based line of text holding needle."""
    for n, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return n
    raise AssertionError(f"{needle[:40]!r} not in the policy")


class HostilePolicies(unittest.TestCase):
    """One instance for the class; each test starts from the good policy. The
    last test stops the instance."""

    @classmethod
    def setUpClass(cls):
        cls.work = Workdir()
        cls.addClassCleanup(cls.work.cleanup)
        cls.nsd = Nsd(cls.work.path, "backend").start()
        cls.addClassCleanup(cls.nsd.kill)
        cls.d = Dnspc(cls.work.path, cls.policy())
        cls.addClassCleanup(cls.d.stop)
        cls.good = cls.d.policy_path  # the file the instance started on

    @classmethod
    def policy(cls, extra=""):
        return (GOOD.replace("SERVER", cls.nsd.server()).replace("MARKER", MARKER)
                .replace("EXTRA", extra))

    @classmethod
    def write(cls, name, text):
        path = cls.work.path / name
        path.write_text(text.replace("{port}", str(cls.d.port)).replace("{control}", cls.d.control))
        return path

    def setUp(self):
        self.assertTrue(self.d.proc.alive(), "the instance died in an earlier test:\n" + self.d.log_text()[-3000:])
        self.good.write_text(self.write("good.dp", self.policy()).read_text())
        self.reload(self.good)
        self.assert_answers_as_before()

    def reload(self, path=None, expect=0, timeout=RELOAD_TIMEOUT):
        argv = [DNSPC, "reload", "--control", self.d.control] + ([str(path)] if path else [])
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            self.fail(f"`dnspc reload {path}` did not return within {timeout}s (hung); "
                      f"instance alive: {self.d.proc.alive()}\n{self.d.log_text()[-3000:]}")
        self.assertEqual(r.returncode, expect, r.stdout + r.stderr + "\n--- dnspc log:\n" + self.d.log_text()[-3000:])
        return r

    def reload_count(self):
        last = self.d.stats()["last_reload"]
        return last["reloads"] if last else 0

    def assert_answers_as_before(self):
        self.assertTrue(self.d.proc.alive(), self.d.log_text()[-3000:])
        self.assertEqual(answer_a(self.d.port, "marker.test."), MARKER)
        self.assertEqual(answer_a(self.d.port, "a.marker.test."), MARKER)
        self.assertEqual(who("127.0.0.1", self.d.port), "backend")  # forwarded to NSD
        self.assertEqual(answer_a(self.d.port, "www." + ZONE), "192.0.2.80")

    # ------------------------------------------------------------ nesting

    def test_1_deep_nesting_rejected_by_reload_command(self):
        text = self.policy(DEEP_RULE)
        bad = self.write("deep.dp", text)
        where = f"{bad}:{line_of(text, 'rule r:')}:{DEEP_COL}"
        r = self.reload(bad, expect=1)
        self.assertIn(where, r.stderr)
        self.assertIn("nesting-too-deep", r.stderr)
        self.assertLess(len(r.stderr), 20000, "the 74,000-character line is not echoed whole")
        last = self.d.stats()["last_reload"]
        self.assertFalse(last["ok"], last)
        self.assertIn("nesting-too-deep", last["diagnostics"])
        self.assertIn(where, last["diagnostics"])
        self.assert_answers_as_before()
        self.reload(self.good)  # and a good reload after it goes through
        self.assertTrue(self.d.stats()["last_reload"]["ok"])
        self.assert_answers_as_before()

    def test_2_deep_nesting_rejected_on_sighup(self):
        text = self.policy(DEEP_RULE)
        where = f"{self.good}:{line_of(text, 'rule r:')}:{DEEP_COL}"
        before = self.reload_count()
        self.good.write_text(self.write("tmp-deep.dp", text).read_text())
        os.kill(self.d.proc.pid, signal.SIGHUP)
        wait_until(lambda: not self.d.proc.alive() or self.reload_count() > before, RELOAD_TIMEOUT, 0.05,
                   "the SIGHUP reload's outcome in ctl stats")
        self.assertTrue(self.d.proc.alive(), "SIGHUP killed the instance:\n" + self.d.log_text()[-3000:])
        last = self.d.stats()["last_reload"]
        self.assertFalse(last["ok"], last)
        self.assertIn("nesting-too-deep", last["diagnostics"])
        self.assertIn(where, last["diagnostics"])
        self.assertIn("reload rejected", self.d.log_text())
        self.assert_answers_as_before()
        # The good text back in the running file: SIGHUP reloads it.
        self.good.write_text(self.write("good.dp", self.policy()).read_text())
        before = self.reload_count()
        os.kill(self.d.proc.pid, signal.SIGHUP)
        wait_until(lambda: self.reload_count() > before, RELOAD_TIMEOUT, 0.05, "the second SIGHUP reload")
        self.assertTrue(self.d.stats()["last_reload"]["ok"], self.d.stats()["last_reload"])
        self.assert_answers_as_before()

    def test_3_check_rejects_deep_nesting_without_crashing(self):
        text = self.policy(DEEP_RULE).replace("{port}", "53").replace("{control}", "/tmp/unused.sock")
        path = self.work.path / "check-deep.dp"
        path.write_text(text)
        r = subprocess.run([DNSPC, "check", str(path)], capture_output=True, text=True, timeout=RELOAD_TIMEOUT)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)  # an error, not a signal (negative)
        out = r.stdout + r.stderr
        self.assertIn(f"{path}:{line_of(text, 'rule r:')}:{DEEP_COL}", out)
        self.assertIn("nesting-too-deep", out)

    def test_4_long_or_chain_is_accepted(self):
        path = self.write("chain.dp", self.policy(CHAIN_RULE))
        self.reload(path, timeout=COMPILE_TIMEOUT)
        last = self.d.stats()["last_reload"]
        self.assertTrue(last["ok"], last)
        print(f"12,000-term or chain: compile_ms={last['compile_ms']:.0f}", flush=True)
        for name in ("a11999.x.", "a0.x.", "a6000.x."):
            self.assertEqual(answer_a(self.d.port, name), "192.0.2.77", name)
        self.assertEqual(answer_a(self.d.port, "a12000.x."), "REFUSED")  # NSD refuses a zone it lacks
        self.assert_answers_as_before()

    # ------------------------------------------------------------ set files

    def test_5_dev_zero_set_file_rejected_without_growing(self):
        rss_before = rss_kib(self.d.proc.pid)
        path = self.write("zero.dp", self.policy('netmasks z = file "/dev/zero";\nrule z: src in z => drop;'))
        r = self.reload(path, expect=1)
        self.assertIn("character device", r.stderr)
        self.assertIn("bad-file", r.stderr)
        last = self.d.stats()["last_reload"]
        self.assertFalse(last["ok"], last)
        self.assertIn("character device", last["diagnostics"])
        rss_after = rss_kib(self.d.proc.pid)
        print(f"VmRSS before the /dev/zero reload {rss_before} KiB, after {rss_after} KiB", flush=True)
        self.assertLess(rss_after - rss_before, 100 * 1024)
        self.assert_answers_as_before()

    def test_9_fifo_set_file_rejected_then_sigterm_stops(self):
        # Last: it stops the instance.
        fifo = self.work.path / "set.fifo"
        os.mkfifo(fifo)
        path = self.write("fifo.dp", self.policy(f'netmasks f = file "{fifo}";\nrule f: src in f => drop;'))
        t0 = time.monotonic()
        r = self.reload(path, expect=1)
        took = time.monotonic() - t0
        print(f"FIFO set file rejected in {took:.2f}s", flush=True)
        self.assertIn("FIFO", r.stderr)
        self.assertIn("bad-file", r.stderr)
        last = self.d.stats()["last_reload"]
        self.assertFalse(last["ok"], last)
        self.assertIn("FIFO", last["diagnostics"])
        self.assert_answers_as_before()
        # A good reload right after is not queued behind a hung one.
        other = self.write("other.dp", self.policy().replace(f"spoof A {MARKER}", "spoof A 192.0.2.2"))
        self.reload(other)
        self.assertEqual(answer_a(self.d.port, "marker.test."), "192.0.2.2")
        self.assertTrue(self.d.stats()["last_reload"]["ok"])
        rc, took = self.d.terminate(timeout=10)
        self.assertEqual(rc, 0, f"SIGTERM: exit {rc} after {took:.1f}s\n{self.d.log_text()[-3000:]}")


class WatchedFile(unittest.TestCase):
    """`run --watch`: a deeply nested policy written to the watched file is
    rejected; the instance keeps answering and keeps watching."""

    def test_deep_nesting_in_watched_file(self):
        work = Workdir()
        self.addCleanup(work.cleanup)
        policy = """
listen 127.0.0.1:{port};
control "{control}";
rule marker: qname suffix "marker.test." => spoof A 192.0.2.7;
rule default: true => drop;
"""
        w = Dnspc(work.path, policy, extra_args=["--watch"])
        self.addCleanup(w.stop)
        self.assertEqual(answer_a(w.port, "marker.test."), "192.0.2.7")
        good_text = w.policy_path.read_text()

        def reloads():
            last = w.stats()["last_reload"]
            return last["reloads"] if last else 0

        before = reloads()
        deep_text = good_text.replace("rule default:", DEEP_RULE + "\nrule default:")
        w.policy_path.write_text(deep_text)
        wait_until(lambda: not w.proc.alive() or reloads() > before, RELOAD_TIMEOUT, 0.1,
                   "the --watch reload's outcome in ctl stats")
        self.assertTrue(w.proc.alive(), "the --watch reload killed the instance:\n" + w.log_text()[-3000:])
        last = w.stats()["last_reload"]
        self.assertFalse(last["ok"], last)
        self.assertIn("nesting-too-deep", last["diagnostics"])
        self.assertIn(f"{w.policy_path}:{line_of(deep_text, 'rule r:')}:{DEEP_COL}", last["diagnostics"])
        self.assertEqual(answer_a(w.port, "marker.test."), "192.0.2.7")
        # Still watching: a good change is applied.
        w.policy_path.write_text(good_text.replace("192.0.2.7", "192.0.2.8"))
        wait_until(lambda: answer_a(w.port, "marker.test.") == "192.0.2.8", RELOAD_TIMEOUT, 0.1,
                   "the next --watch reload")
        self.assertTrue(w.stats()["last_reload"]["ok"])
        rc, _ = w.terminate(timeout=10)
        self.assertEqual(rc, 0, w.log_text()[-3000:])


if __name__ == "__main__":
    unittest.main(verbosity=2)
