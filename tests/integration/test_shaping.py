#!/usr/bin/env python3
"""QPS shaping in `dnspc run`: a burst from one source against a per-source
bound passes about the bound (plus its burst), another source is
unaffected, sources in one prefix share a bucket, a global bound holds for
all sources together; the counters are read back from `dnspc ctl stats`."""

import socket
import time
import unittest

from harness import ZONE, Dnspc, Nsd, Workdir, build_query, dns


def burst(port, source, count, name=f"www.{ZONE}"):
    """Sends `count` queries from `source` at once; returns their rcodes
    (None for no answer), by query ID."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((source, 0))
        s.settimeout(1.0)
        for i in range(count):
            s.sendto(build_query(name, qid=i), ("127.0.0.1", port))
        out = {}
        deadline = time.monotonic() + 2
        while len(out) < count and time.monotonic() < deadline:
            try:
                wire = s.recv(4096)
            except socket.timeout:
                break
            m = dns.message.from_wire(wire)
            out[m.id] = m.rcode()
    return [out.get(i) for i in range(count)]


class Shaping(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = Workdir()
        cls.nsd = Nsd(cls.work.path, "shape").start()
        cls.d = Dnspc(cls.work.path, f"""
listen 127.0.0.1:{{port}};
control "{{control}}";
option workers 2;
pool p {{ server {cls.nsd.server()} state up; }}
rule per_client: qname suffix "{ZONE}" and qps > 5 per src => refuse;
rule per_net: qname suffix "net.test." and qps > 5 per src/24 => refuse;
rule global: qname suffix "global.test." and qps > 10 => refuse;
rule local: qname suffix "test." => spoof A 192.0.2.7;
rule default: true => pool p;
""")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.nsd.kill()
        cls.work.cleanup()

    def test_burst_of_20_against_qps_5(self):
        codes = burst(self.d.port, "127.0.0.21", 20)
        passed = codes.count(dns.rcode.NOERROR)
        refused = codes.count(dns.rcode.REFUSED)
        # Five tokens (the burst is one second's worth); maybe one more refilled
        # while the burst was in flight.
        self.assertGreaterEqual(passed, 5)
        self.assertLessEqual(passed, 7)
        self.assertEqual(passed + refused, 20)
        # A second source is unaffected.
        self.assertEqual(burst(self.d.port, "127.0.0.22", 3), [dns.rcode.NOERROR] * 3)
        self.assertGreaterEqual(self.d.stats()["rules"]["per_client"], refused)

    def test_sources_in_one_prefix_share_a_bucket(self):
        a = burst(self.d.port, "127.0.5.1", 4, "x.net.test.")
        b = burst(self.d.port, "127.0.5.2", 4, "x.net.test.")  # same /24: one bucket of 5
        c = burst(self.d.port, "127.0.6.1", 4, "x.net.test.")  # another /24
        passed_ab = (a + b).count(dns.rcode.NOERROR)
        self.assertGreaterEqual(passed_ab, 5)
        self.assertLessEqual(passed_ab, 6)
        self.assertEqual(c.count(dns.rcode.NOERROR), 4)

    def test_global_bound_holds_for_all_sources_together(self):
        codes = []
        for i in range(4):
            codes += burst(self.d.port, f"127.0.7.{i + 1}", 10, "x.global.test.")
        passed = codes.count(dns.rcode.NOERROR)
        self.assertGreaterEqual(passed, 10)
        self.assertLessEqual(passed, 14)


if __name__ == "__main__":
    unittest.main(verbosity=2)
