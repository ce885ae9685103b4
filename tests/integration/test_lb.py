#!/usr/bin/env python3
"""Load balancing with two NSD backends: each policy's split over at least 400
queries within +-25% of its expected share, first_available's QPS limit
shared by the workers, hashed stickiness, no usable server (drop, SERVFAIL).
Traffic from dnsperf and dnspython; counts from `dnspc ctl stats`."""

import os
import re
import subprocess
import sys
import threading
import unittest

from harness import Dnspc, Nsd, Responder, Workdir, ZONE, dns, query

POLICY = """
listen 127.0.0.1:{port}, [::1]:{port};
control "{control}";
option workers 2;
option udp_timeout 1s;

pool rr { policy round_robin; server A CHECK; server B CHECK; }
pool lo { policy least_outstanding; server A CHECK order 1; server B CHECK order 2; }
pool lo2 { policy least_outstanding; server SLOW state up; server B CHECK; }
pool fa { policy first_available; server A CHECK qps 50; server B CHECK order 2; }
pool wr { policy weighted_random; server A CHECK weight 1; server B CHECK weight 3; }
pool hs { policy hashed; server A CHECK weight 1; server B CHECK weight 3; }
pool ch { policy consistent_hash; server A CHECK weight 1000; server B CHECK weight 1000; }
pool gone_sf { server A state down; on_no_server servfail; }
pool gone_drop { server A state down; }

rule rr: qname suffix "rr.who.quickstart.test." => pool rr;
rule lo: qname suffix "lo.who.quickstart.test." => pool lo;
rule lo2: qname suffix "lo2.who.quickstart.test." => pool lo2;
rule fa: qname suffix "fa.who.quickstart.test." => pool fa;
rule wr: qname suffix "wr.who.quickstart.test." => pool wr;
rule hs: qname suffix "hs.who.quickstart.test." => pool hs;
rule ch: qname suffix "ch.who.quickstart.test." => pool ch;
rule sf: qname suffix "sf.example." => pool gone_sf;
rule dr: qname suffix "dr.example." => pool gone_drop;
rule default: true => pool rr;
"""
CHECK = 'check "quickstart.test." check_type SOA'


def dnsperf(port, names, qps=None, seconds=None, clients=4, outstanding=20):
    """Runs dnsperf over the names (once through, or for `seconds` at `qps`);
    returns the number of completed queries."""
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("".join(f"{n} TXT\n" for n in names))
        path = f.name
    argv = ["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", path, "-c", str(clients), "-q", str(outstanding),
            "-t", "2"]
    argv += ["-l", str(seconds)] if seconds else ["-n", "1"]
    if qps:
        argv += ["-Q", str(qps)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60).stdout
    m = re.search(r"Queries completed:\s+(\d+)", out)
    assert m, out
    return int(m.group(1))


class LoadBalancing(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = Workdir()
        cls.addClassCleanup(cls.work.cleanup)
        cls.a = Nsd(cls.work.path, "nsd-a").start()
        cls.addClassCleanup(cls.a.kill)
        cls.b = Nsd(cls.work.path, "nsd-b").start()
        cls.addClassCleanup(cls.b.kill)
        cls.slow = Responder("slow")
        cls.slow.mode = "slow"
        cls.slow.delay = 0.1
        cls.addClassCleanup(cls.slow.close)
        policy = (POLICY.replace("CHECK", CHECK).replace("server A", f"server {cls.a.server()}")
                  .replace("server B", f"server {cls.b.server()}").replace("SLOW", cls.slow.server()))
        cls.d = Dnspc(cls.work.path, policy)
        cls.addClassCleanup(cls.d.stop)

    def counts(self, pool, run):
        """Queries each server of `pool` got while run() ran."""
        before = self.d.server_queries()
        run()
        after = self.d.server_queries()
        got = {k.split("/", 1)[1]: after[k] - before[k] for k in after if k.startswith(pool + "/")}
        if os.environ.get("DNSPC_VERBOSE"):
            print(pool, got, file=sys.stderr, flush=True)
        return got

    def assert_share(self, got, server, expected_share, total=None):
        total = total if total is not None else sum(got.values())
        self.assertGreaterEqual(total, 400)
        expected = expected_share * total
        self.assertTrue(0.75 * expected <= got[server] <= 1.25 * expected,
                        f"{server}: {got[server]} of {total}, expected {expected:.0f} +-25% ({got})")

    def names(self, pool, n=800):
        return [f"q{i}.{pool}.who.{ZONE}" for i in range(n)]

    def test_round_robin(self):
        got = self.counts("rr", lambda: self.assertEqual(dnsperf(self.d.port, self.names("rr")), 800))
        self.assert_share(got, self.a.server(), 0.5)
        self.assert_share(got, self.b.server(), 0.5)

    def test_least_outstanding_ties_by_order(self):
        # One query at a time: nothing is outstanding, so order decides.
        def run():
            for i in range(400):
                query("127.0.0.1", self.d.port, f"s{i}.lo.who.{ZONE}", "TXT", timeout=1)
        got = self.counts("lo", run)
        self.assert_share(got, self.a.server(), 1.0)
        self.assertEqual(got[self.b.server()], 0)

    def test_least_outstanding_avoids_the_busy_server(self):
        # A slow server (100 ms) keeps queries outstanding; the fast one
        # (NSD) takes nearly everything.
        got = self.counts("lo2", lambda: dnsperf(self.d.port, self.names("lo2", 600), clients=4, outstanding=20))
        total = sum(got.values())
        self.assertGreaterEqual(total, 600)
        self.assertLess(got[self.slow.server()], 0.15 * total, got)

    def test_first_available_respects_the_shared_qps_limit(self):
        # 200 qps for 2 s through both workers: the first server takes its
        # burst (50) plus 50 per second, the second the rest.
        got = self.counts("fa", lambda: dnsperf(self.d.port, self.names("fa", 400), qps=200, seconds=2))
        total = sum(got.values())
        self.assertGreaterEqual(total, 380)
        expected_a = 50 + 50 * 2
        self.assertTrue(0.75 * expected_a <= got[self.a.server()] <= 1.25 * expected_a, got)
        self.assertEqual(got[self.a.server()] + got[self.b.server()], total)

    def test_weighted_random(self):
        got = self.counts("wr", lambda: dnsperf(self.d.port, self.names("wr")))
        self.assert_share(got, self.a.server(), 0.25)
        self.assert_share(got, self.b.server(), 0.75)

    def test_hashed_is_weighted_and_sticky(self):
        got = self.counts("hs", lambda: dnsperf(self.d.port, self.names("hs")))
        self.assert_share(got, self.a.server(), 0.25)
        self.assert_share(got, self.b.server(), 0.75)
        # One name (in any case) always lands on the same server.
        got = self.counts("hs", lambda: dnsperf(self.d.port, [f"Sticky.HS.who.{ZONE}", f"sticky.hs.who.{ZONE}"] * 50))
        self.assertEqual(sorted(got.values()), [0, 100], got)

    def test_consistent_hash(self):
        got = self.counts("ch", lambda: dnsperf(self.d.port, self.names("ch")))
        self.assert_share(got, self.a.server(), 0.5)
        self.assert_share(got, self.b.server(), 0.5)
        again = self.counts("ch", lambda: dnsperf(self.d.port, self.names("ch")))
        self.assertEqual(got, again, "the same names land on the same servers")

    def test_no_usable_server(self):
        before = self.d.stats()
        r = query("127.0.0.1", self.d.port, "x.sf.example.", timeout=1)
        self.assertEqual(r.rcode(), dns.rcode.SERVFAIL)
        with self.assertRaises(dns.exception.Timeout):
            query("127.0.0.1", self.d.port, "x.dr.example.", timeout=0.3)
        after = self.d.stats()
        self.assertEqual(after["no_server"]["servfail"] - before["no_server"]["servfail"], 1)
        self.assertEqual(after["no_server"]["dropped"] - before["no_server"]["dropped"], 1)
        states = self.d.servers()
        self.assertEqual(states[f"gone_sf/{self.a.server()}"]["state"], "down")
        self.assertEqual(states[f"gone_sf/{self.a.server()}"]["mode"], "down")
        self.assertEqual(states[f"rr/{self.a.server()}"]["state"], "up")


if __name__ == "__main__":
    unittest.main(verbosity=2)
