#!/usr/bin/env python3
"""Health checks against NSD: a backend made silent with SIGSTOP (its whole
process group) stops getting traffic within about two check intervals and
gets it back when it recovers; the same when it is killed and restarted;
healthy rcodes, down_after / up_after, forced states."""

import os
import sys
import time
import unittest

from harness import Dnspc, Nsd, Responder, Workdir, ZONE, dns, query, wait_until

def report(text):
    if os.environ.get("DNSPC_VERBOSE"):
        print(text, file=sys.stderr, flush=True)


FAST = 'check "quickstart.test." check_type SOA every 300ms timeout 300ms'
POLICY = """
listen 127.0.0.1:{port}, [::1]:{port};
control "{control}";
option workers 2;
option udp_timeout 500ms;

pool main { server A FAST; server B FAST; }
pool slowcheck { server A check "quickstart.test." check_type SOA; }
pool patient { server A FAST down_after 3 up_after 2; }
pool forced { server A state up; }
pool strict { server B check "nope.quickstart.test." healthy NOERROR every 300ms timeout 300ms; }
pool lenient { server B check "nope.quickstart.test." every 300ms timeout 300ms; }
pool sick { server SICK check "quickstart.test." every 300ms timeout 300ms; }

rule default: true => pool main;
"""


class Health(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = Workdir()
        cls.addClassCleanup(cls.work.cleanup)
        cls.a = Nsd(cls.work.path, "nsd-a").start()
        cls.addClassCleanup(lambda: cls.a.kill())
        cls.b = Nsd(cls.work.path, "nsd-b").start()
        cls.addClassCleanup(lambda: cls.b.kill())
        cls.sick = Responder("sick")
        cls.sick.mode = "servfail"
        cls.addClassCleanup(cls.sick.close)
        policy = (POLICY.replace("FAST", FAST).replace("server A", f"server {cls.a.server()}")
                  .replace("server B", f"server {cls.b.server('::1')}").replace("SICK", cls.sick.server()))
        cls.d = Dnspc(cls.work.path, policy)
        cls.addClassCleanup(cls.d.stop)

    def state(self, pool, server):
        return self.d.servers()[f"{pool}/{server}"]["state"]

    def answered_by(self, n, prefix):
        """Who answered each of n queries (None for no answer)."""
        out = []
        for i in range(n):
            try:
                r = query("127.0.0.1", self.d.port, f"{prefix}{i}.who.{ZONE}", "TXT", timeout=0.25)
                out.append(r.answer[0][0].strings[0].decode() if r.answer else None)
            except dns.exception.Timeout:
                out.append(None)
        return out

    def wait_state(self, pool, server, state, timeout):
        t0 = time.monotonic()
        wait_until(lambda: self.state(pool, server) == state, timeout, 0.02, f"{pool}/{server} {state}")
        return time.monotonic() - t0

    def test_1_checks_and_healthy_rcodes(self):
        b6 = self.b.server("::1")
        # Every state settles after a few probes.
        time.sleep(1.0)
        self.assertEqual(self.state("strict", b6), "down")  # NXDOMAIN is not in `healthy NOERROR`
        self.assertEqual(self.state("lenient", b6), "up")   # default: anything but SERVFAIL
        self.assertEqual(self.state("sick", self.sick.server()), "down")
        sick = self.d.servers()[f"sick/{self.sick.server()}"]["health"]
        self.assertEqual(sick["last_failure"], "rcode SERVFAIL")
        self.assertGreaterEqual(self.d.servers()[f"main/{b6}"]["health"]["checks"], 3)
        # IPv6 backend, both backends serve.
        self.assertEqual(set(self.answered_by(6, "base")), {"nsd-a", "nsd-b"})

    def test_2_silent_backend_fails_over_and_recovers(self):
        a = self.a.server()
        self.assertEqual(self.state("main", a), "up")
        before = self.d.stats()
        checks_before = self.d.servers()[f"main/{a}"]["health"]["checks"]
        self.a.stop_signal()  # SIGSTOP to NSD's whole process group
        try:
            t0 = time.monotonic()
            down_after = self.wait_state("main", a, "down", 5)
            # Within two probes of the stop (the one in flight, or the next),
            # that is about two intervals (300 ms each, timeout 300 ms); the
            # wall-time bound leaves room for a busy machine.
            probes = self.d.servers()[f"main/{a}"]["health"]["checks"] - checks_before
            self.assertLessEqual(probes, 2, f"down after {probes} probes")
            self.assertLess(down_after, 1.6, f"down after {down_after:.2f}s")
            report(f"silent backend down after {down_after:.2f}s ({probes} probes, every 300ms)")
            self.assertEqual(self.state("forced", a), "up")  # forced up: no checks
            # A backend that must fail three times in a row takes longer.
            patient = self.wait_state("patient", a, "down", 3) + down_after
            self.assertGreater(patient, 0.6)
            # The default check (every 1 s, 1 s timeout): about two intervals.
            self.wait_state("slowcheck", a, "down", 5)
            slow = time.monotonic() - t0
            self.assertLess(slow, 3.0, f"default check: down after {slow:.2f}s")
            report(f"default check (every 1s): down after {slow:.2f}s")
            # From now on only B answers, and A gets nothing new.
            q_a = self.d.server_queries()[f"main/{a}"]
            self.assertEqual(set(self.answered_by(40, "stopped")), {"nsd-b"})
            self.assertEqual(self.d.server_queries()[f"main/{a}"], q_a)
            after = self.d.stats()
            self.assertGreaterEqual(after["servers"][f"main/{a}"]["timeouts"],
                                    before["servers"][f"main/{a}"]["timeouts"])
        finally:
            self.a.cont()
        up_after = self.wait_state("main", a, "up", 5)
        self.assertLess(up_after, 1.6)
        report(f"recovered backend up after {up_after:.2f}s")
        self.wait_state("patient", a, "up", 3)  # two successes
        got = self.answered_by(20, "back")
        self.assertIn("nsd-a", got)
        self.assertNotIn(None, got)

    def test_3_killed_backend_fails_over_and_recovers(self):
        a = self.a.server()
        self.wait_state("main", a, "up", 3)
        port = self.a.port
        self.a.kill()
        down_after = self.wait_state("main", a, "down", 5)
        self.assertLess(down_after, 1.6)
        report(f"killed backend down after {down_after:.2f}s")
        self.assertEqual(set(self.answered_by(20, "killed")), {"nsd-b"})
        # The same backend comes back on the same port.
        self.a = type(self).a = Nsd(self.work.path, "nsd-a", port=port).start()
        self.wait_state("main", a, "up", 3)
        got = self.answered_by(20, "restarted")
        self.assertIn("nsd-a", got)
        self.assertNotIn(None, got)


if __name__ == "__main__":
    unittest.main(verbosity=2)
