#!/usr/bin/env python3
"""Latency distributions of backend answers (`dnspc ctl latency`): under
real traffic through two NSD backends, over UDP and TCP, the histograms'
counts add up to the answers accepted, per transport and per server, and
their quantiles are ordered and inside the buckets' range."""

import json
import unittest

from harness import Dnspc, Nsd, Workdir, ZONE, dns, query, run_dnspc

POLICY = """
listen 127.0.0.1:{port};
control "{control}";
option workers 2;
pool main { policy round_robin; server A; server B; }
rule default: true => pool main;
"""


class Latency(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = Workdir()
        cls.addClassCleanup(cls.work.cleanup)
        cls.a = Nsd(cls.work.path, "nsd-a").start()
        cls.addClassCleanup(cls.a.kill)
        cls.b = Nsd(cls.work.path, "nsd-b").start()
        cls.addClassCleanup(cls.b.kill)
        cls.d = Dnspc(cls.work.path, POLICY.replace("A;", cls.a.server() + ";", 1).replace("B;", cls.b.server() + ";", 1))
        cls.addClassCleanup(cls.d.stop)

    def test_histograms_add_up_to_the_answers(self):
        for i in range(200):
            self.assertEqual(query("127.0.0.1", self.d.port, f"www.{ZONE}", "A", timeout=2).rcode(), dns.rcode.NOERROR)
        for i in range(40):
            r = dns.query.tcp(dns.message.make_query(f"www.{ZONE}", "A"), "127.0.0.1", port=self.d.port, timeout=2)
            self.assertEqual(r.rcode(), dns.rcode.NOERROR)
        stats = self.d.stats()
        lat = self.d.ctl("latency")
        accepted = stats["backend_answers"]["accepted"]
        self.assertEqual(accepted, 240)
        self.assertEqual(lat["overall"]["count"], accepted)
        self.assertEqual(lat["transport"]["udp"]["count"], 200)
        self.assertEqual(lat["transport"]["tcp"]["count"], 40)
        servers = lat["servers"]
        self.assertEqual(len(servers), 2)
        self.assertEqual(sum(s["count"] for s in servers.values()), accepted)
        for key, s in servers.items():
            self.assertEqual(s["count"], stats["servers"][key]["answers"], key)
            self.assertGreater(s["count"], 50, key)  # round robin used both
        bounds = lat["bounds_us"]
        self.assertEqual(bounds[0], 10)
        self.assertEqual(bounds[-1], 10_000_000)
        for d in [lat["overall"], lat["transport"]["udp"], lat["transport"]["tcp"], *servers.values()]:
            self.assertEqual(len(d["buckets"]), len(bounds) + 1)
            self.assertEqual(sum(d["buckets"]), d["count"])
            self.assertTrue(0 < d["p50_us"] <= d["p90_us"] <= d["p99_us"] <= d["p999_us"] <= 10_000_000, d)
            self.assertGreater(d["sum_us"], 0)
        # `dnspc ctl latency` prints the same document.
        r = run_dnspc("ctl", "--control", self.d.control, "latency")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["overall"]["count"], accepted)


if __name__ == "__main__":
    unittest.main(verbosity=2)
