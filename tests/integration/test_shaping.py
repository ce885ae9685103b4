#!/usr/bin/env python3
"""QPS shaping in `dnspc run`: a burst from one source against a per-source
bound passes about the bound (plus its burst), another source is
unaffected, sources in one prefix share a bucket, a global bound holds for
all sources together; the counters are read back from `dnspc ctl stats`."""

import os
import shutil
import socket
import subprocess
import time
import unittest

from harness import ZONE, Dnspc, Nsd, Workdir, build_query, dns


def burst(port, source, count, name=f"www.{ZONE}"):
    """Sends `count` queries from `source` at once; returns their rcodes
    (None for no answer), by query ID."""
    v6 = ":" in source
    with socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((source, 0))
        s.settimeout(1.0)
        for i in range(count):
            s.sendto(build_query(name, qid=i), ("::1" if v6 else "127.0.0.1", port))
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
listen 127.0.0.1:{{port}}, [::1]:{{port}};
acl 127.0.0.0/8, ::1, 2001:db8::/32;
control "{{control}}";
option workers 2;
pool p {{ server {cls.nsd.server()} state up; }}
rule per_client: qname suffix "{ZONE}" and qps > 5 per src => refuse;
rule per_net: qname suffix "net.test." and qps > 5 per src/24 => refuse;
rule per_net6: qname suffix "v6.test." and qps > 5 per src/32/64 => refuse;
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

    def check_one_bucket(self, first, same_prefix, other_prefix, name):
        """Two sources in one prefix share a bucket of 5; a third, in
        another prefix, has its own."""
        a = burst(self.d.port, first, 4, name)
        b = burst(self.d.port, same_prefix, 4, name)
        c = burst(self.d.port, other_prefix, 4, name)
        passed_ab = (a + b).count(dns.rcode.NOERROR)
        self.assertGreaterEqual(passed_ab, 5)
        self.assertLessEqual(passed_ab, 6)
        self.assertEqual(c.count(dns.rcode.NOERROR), 4)

    def test_sources_in_one_prefix_share_a_bucket(self):
        self.check_one_bucket("127.0.5.1", "127.0.5.2", "127.0.6.1", "x.net.test.")  # by /24

    def test_ipv6_sources_grouped_by_64(self):
        # Loopback has only ::1 for IPv6: this test gives lo three more
        # addresses (two in one /64) for its duration, which needs root.
        if os.geteuid() != 0 or not shutil.which("ip"):
            self.skipTest("needs root to add IPv6 addresses to lo (the case files cover /64 grouping)")
        added = []
        for a in ("2001:db8:5::1", "2001:db8:5::2", "2001:db8:6::1"):
            r = subprocess.run(["ip", "-6", "addr", "add", f"{a}/128", "dev", "lo", "nodad"],
                               capture_output=True, text=True)
            if r.returncode != 0 and "File exists" not in r.stderr:
                self.skipTest(f"cannot add {a} to lo: {r.stderr.strip()}")
            if r.returncode == 0:
                added.append(a)
        self.addCleanup(lambda: [subprocess.run(["ip", "-6", "addr", "del", f"{a}/128", "dev", "lo"],
                                                capture_output=True) for a in added])
        self.check_one_bucket("2001:db8:5::1", "2001:db8:5::2", "2001:db8:6::1", "x.v6.test.")  # by /64

    def test_global_bound_holds_for_all_sources_together(self):
        codes = []
        for i in range(4):
            codes += burst(self.d.port, f"127.0.7.{i + 1}", 10, "x.global.test.")
        passed = codes.count(dns.rcode.NOERROR)
        self.assertGreaterEqual(passed, 10)
        self.assertLessEqual(passed, 14)


if __name__ == "__main__":
    unittest.main(verbosity=2)
