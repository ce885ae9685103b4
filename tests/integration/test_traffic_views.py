#!/usr/bin/env python3
"""Recent traffic through the real binary: the rings behind `ctl top` and
`ctl grep` name the names and clients actually sent, count SERVFAIL and
NXDOMAIN makers (from NSD and from our own answers), group names by their
last labels, find the slowest backend answers, and stay bounded by
`ring_entries`. Clients come from several loopback addresses."""

import unittest

from harness import Dnspc, Nsd, Responder, Workdir, ZONE, dns


def query(host, port, name, source="127.0.0.1", timeout=2):
    return dns.query.udp(dns.message.make_query(name, "A"), host, port=port, source=source, timeout=timeout)

POLICY = """
listen 127.0.0.1:{port};
control "{control}";
option workers 2;
option ring_entries RING;
pool main { server NSD; }
pool slow { server SLOW; }
rule nx: qname suffix "nx.test." => rcode NXDOMAIN;
rule slow: qname suffix "slow.test." => pool slow;
rule default: true => pool main;
"""


class TrafficViews(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = Workdir()
        cls.addClassCleanup(cls.work.cleanup)
        cls.nsd = Nsd(cls.work.path, "nsd").start()
        cls.addClassCleanup(cls.nsd.kill)
        cls.slow = Responder("slow")
        cls.slow.mode = "slow"
        cls.slow.delay = 0.2
        cls.addClassCleanup(cls.slow.close)
        text = POLICY.replace("NSD", cls.nsd.server()).replace("SLOW", cls.slow.server())
        cls.d = Dnspc(cls.work.path, text.replace("RING", "10000"))
        cls.addClassCleanup(cls.d.stop)
        # 127.0.0.2: 30 x www (NOERROR); 127.0.0.3: 20 x nothere (NXDOMAIN from NSD);
        # 127.0.0.4: 12 x aN.nx.test. (our NXDOMAIN); 127.0.0.5: 2 slow answers.
        for _ in range(30):
            query("127.0.0.1", cls.d.port, f"www.{ZONE}", source="127.0.0.2", timeout=2)
        for _ in range(20):
            query("127.0.0.1", cls.d.port, f"nothere.{ZONE}", source="127.0.0.3", timeout=2)
        for i in range(12):
            query("127.0.0.1", cls.d.port, f"a{i % 4}.nx.test.", source="127.0.0.4", timeout=2)
        for _ in range(2):
            query("127.0.0.1", cls.d.port, "x.slow.test.", source="127.0.0.5", timeout=2)

    def top(self, args):
        r = self.d.ctl("top " + args)
        self.assertNotIn("error", r, r)
        return [(e["key"], e["count"]) for e in r["top"]]

    def test_top_queries_and_clients(self):
        self.assertEqual(self.top("queries 2"), [(f"www.{ZONE}", 30), (f"nothere.{ZONE}", 20)])
        self.assertEqual(self.top("clients 3"), [("127.0.0.2", 30), ("127.0.0.3", 20), ("127.0.0.4", 12)])
        self.assertIn(("127.0.0.5", 2), self.top("clients 10"))
        self.assertEqual(self.top("queries 2 --labels 2"), [(ZONE, 50), ("nx.test.", 12)])

    def test_nxdomain_makers_from_backend_and_from_rules(self):
        top = dict(self.top("nxdomain-names 10"))
        self.assertEqual(top[f"nothere.{ZONE}"], 20)  # NSD's
        self.assertEqual(sum(v for k, v in top.items() if k.endswith(".nx.test.")), 12)  # ours
        rcodes = dict(self.top("rcodes"))
        self.assertEqual(rcodes["NXDOMAIN"], 32)
        self.assertGreaterEqual(rcodes["NOERROR"], 32)

    def test_servfail_makers(self):
        self.slow.mode = "servfail"
        try:
            for _ in range(3):
                r = query("127.0.0.1", self.d.port, "y.slow.test.", source="127.0.0.6", timeout=2)
                self.assertEqual(r.rcode(), dns.rcode.SERVFAIL)
        finally:
            self.slow.mode = "slow"
        self.assertEqual(self.top("servfail-names 1"), [("y.slow.test.", 3)])
        self.assertEqual(self.top("servfail-clients 1"), [("127.0.0.6", 3)])

    def test_slowest_and_grep(self):
        slow = self.d.ctl("top slow 2")["top"]
        self.assertEqual([e["qname"] for e in slow], ["x.slow.test.", "x.slow.test."])
        self.assertTrue(all(e["latency_us"] >= 150_000 for e in slow), slow)
        self.assertTrue(all(e["server"].startswith("slow/") for e in slow), slow)
        matches = self.d.ctl("grep *.NX.test. 5")["matches"]
        self.assertEqual(len(matches), 5)
        self.assertTrue(all(m["qname"].endswith(".nx.test.") and m["rule"] == "nx" and m["source"] == "local"
                            for m in matches), matches)
        by_client = self.d.ctl("grep 127.0.0.3/32 100")["matches"]
        self.assertEqual(len(by_client), 20)
        self.assertTrue(all(m["rcode"] == "NXDOMAIN" for m in by_client))
        self.assertIn("error", self.d.ctl("grep 10.0.0.0/99"))


class RingBound(unittest.TestCase):
    def test_rings_keep_at_most_ring_entries_per_worker(self):
        work = Workdir()
        self.addCleanup(work.cleanup)
        nsd = Nsd(work.path, "nsd").start()
        self.addCleanup(nsd.kill)
        d = Dnspc(work.path, POLICY.replace("NSD", nsd.server()).replace("SLOW", nsd.server()).replace("RING", "50"))
        self.addCleanup(d.stop)
        for i in range(300):
            query("127.0.0.1", d.port, f"n{i}.nx.test.", timeout=2)
        r = d.ctl("top queries 1000")
        self.assertLessEqual(r["records"], 100)  # 50 per worker, 2 workers
        self.assertGreaterEqual(r["records"], 50)
        # The newest are kept.
        self.assertIn(("n299.nx.test.", 1), [(e["key"], e["count"]) for e in r["top"]])


if __name__ == "__main__":
    unittest.main(verbosity=2)
