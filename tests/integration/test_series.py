#!/usr/bin/env python3
"""The per-second series (`dnspc ctl series`): under traffic that is
forwarded to NSD, refused by a rule and dropped by a rule, the samples of
each second add up to what was sent, by where the answers came from, by
rcode and per server; samples are a second apart."""

import time
import unittest

from harness import Dnspc, Nsd, Workdir, ZONE, dns, query, run_dnspc

POLICY = """
listen 127.0.0.1:{port};
control "{control}";
option workers 2;
pool main { server NSD; }
rule refused: qname suffix "refuse.test." => refuse;
rule dropped: qname suffix "drop.test." => drop;
rule default: true => pool main;
"""


class Series(unittest.TestCase):
    def test_samples_add_up(self):
        work = Workdir()
        self.addCleanup(work.cleanup)
        nsd = Nsd(work.path, "nsd").start()
        self.addCleanup(nsd.kill)
        d = Dnspc(work.path, POLICY.replace("NSD", nsd.server()))
        self.addCleanup(d.stop)
        forwarded = refused = dropped = 0
        end = time.monotonic() + 2.5
        while time.monotonic() < end:
            self.assertEqual(query("127.0.0.1", d.port, f"www.{ZONE}", timeout=2).rcode(), dns.rcode.NOERROR)
            forwarded += 1
            self.assertEqual(query("127.0.0.1", d.port, "a.refuse.test.", timeout=2).rcode(), dns.rcode.REFUSED)
            refused += 1
            with self.assertRaises(dns.exception.Timeout):
                query("127.0.0.1", d.port, "a.drop.test.", timeout=0.01)
            dropped += 1
            time.sleep(0.01)
        time.sleep(2.2)  # the second that holds the last query has been sampled
        samples = d.ctl("series 600")["samples"]
        self.assertGreaterEqual(len(samples), 3)
        total = lambda f: sum(f(s) for s in samples)  # noqa: E731
        self.assertEqual(total(lambda s: s["queries"]), forwarded + refused + dropped)
        self.assertEqual(total(lambda s: s["answers"]["backend"]), forwarded)
        self.assertEqual(total(lambda s: s["answers"]["local"]), refused)
        self.assertEqual(total(lambda s: s["dropped"]), dropped)
        self.assertEqual(total(lambda s: s["rcodes"].get("NOERROR", 0)), forwarded)
        self.assertEqual(total(lambda s: s["rcodes"].get("REFUSED", 0)), refused)
        server = f"main/{nsd.server()}"
        self.assertEqual(total(lambda s: s["servers"][server]["queries"]), forwarded)
        busy = [s for s in samples if s["servers"][server]["answers"] > 0]
        self.assertTrue(busy)
        for s in busy:
            self.assertTrue(0 < s["servers"][server]["p50_us"] <= s["servers"][server]["p99_us"], s)
        gaps = [b["time"] - a["time"] for a, b in zip(samples, samples[1:])]
        self.assertTrue(all(0.5 < g < 1.5 for g in gaps), gaps)
        self.assertEqual(len(d.ctl("series 2")["samples"]), 2)
        r = run_dnspc("ctl", "--control", d.control, "series")
        self.assertEqual(r.returncode, 0, r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
