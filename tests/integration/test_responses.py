#!/usr/bin/env python3
"""Response rules on real answers: NSD (NXDOMAIN, a large TXT, A and AAAA)
and our responder (SERVFAIL, slow answers). Each action (drop, truncate,
rcode), tag/log rules that do not decide and the rules after them, latency,
over UDP and TCP, with counters read back from `dnspc ctl stats`."""

import unittest

from harness import BIG_TXT, ZONE, Dnspc, Nsd, Responder, Workdir, dns, query


class Responses(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = Workdir()
        cls.nsd = Nsd(cls.work.path, "resp", extra_records=[BIG_TXT]).start()
        cls.flaky = Responder("flaky")
        cls.flaky.mode = "servfail"
        cls.slow = Responder("slow")
        cls.slow.mode = "slow"
        cls.slow.delay = 0.3
        cls.d = Dnspc(cls.work.path, f"""
listen 127.0.0.1:{{port}};
control "{{control}}";
option workers 1;
pool nsd {{ server {cls.nsd.server()} state up; }}
pool flaky {{ server {cls.flaky.server()} state up; }}
pool slow {{ server {cls.slow.server()} state up; }}
rule to_flaky: qname suffix "flaky.test." => tag "flaky" pool flaky;
rule to_slow: qname suffix "slow.test." => pool slow;
rule default: true => pool nsd;
response rule hide_nx: rcode == NXDOMAIN and qname suffix "hide.{ZONE}" => drop;
response rule servfail_refused: rcode == SERVFAIL and tagged "flaky" => rcode REFUSED;
response rule too_big: response.size > 600 => truncate;
response rule slow_answer: latency > 200ms => rcode NXDOMAIN;
response rule seen: qname == "www.{ZONE}" => tag "seen" log;
response rule after_seen: tagged "seen" and qtype == AAAA => rcode NOTIMP;
""", log_format="json")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.nsd.kill()
        cls.flaky.close()
        cls.slow.close()
        cls.work.cleanup()

    def stats(self):
        return self.d.stats()

    def test_drop(self):
        before = self.stats()["response_actions"]["drop"]
        with self.assertRaises(dns.exception.Timeout):
            query("127.0.0.1", self.d.port, f"nothing.hide.{ZONE}", timeout=1.0)
        # An NXDOMAIN elsewhere passes.
        r = query("127.0.0.1", self.d.port, f"nothing.{ZONE}")
        self.assertEqual(r.rcode(), dns.rcode.NXDOMAIN)
        self.assertEqual(self.stats()["response_actions"]["drop"] - before, 1)

    def test_rcode_replaces_a_servfail(self):
        r = query("127.0.0.1", self.d.port, "x.flaky.test.")
        self.assertEqual(r.rcode(), dns.rcode.REFUSED)
        self.assertEqual(r.answer, [])
        self.assertGreaterEqual(self.stats()["response_actions"]["rcode"], 1)

    def test_truncate_over_udp_only(self):
        r = query("127.0.0.1", self.d.port, f"big.{ZONE}", "TXT", use_edns=0, payload=4096)
        self.assertTrue(r.flags & dns.flags.TC)
        self.assertEqual(r.answer, [])
        # Over TCP the rule does not decide: the whole answer comes.
        q = dns.message.make_query(f"big.{ZONE}", "TXT")
        r = dns.query.tcp(q, "127.0.0.1", port=self.d.port, timeout=3)
        self.assertFalse(r.flags & dns.flags.TC)
        self.assertEqual(len(r.answer[0][0].strings), 6)

    def test_latency(self):
        r = query("127.0.0.1", self.d.port, "a.slow.test.", timeout=3)
        self.assertEqual(r.rcode(), dns.rcode.NXDOMAIN)

    def test_tag_and_log_rules_do_not_decide_and_later_rules_see_their_tags(self):
        before = self.stats()["rules"]["seen"]
        r = query("127.0.0.1", self.d.port, f"www.{ZONE}", "A")
        self.assertEqual(r.answer[0][0].address, "192.0.2.80")  # passed on
        r = query("127.0.0.1", self.d.port, f"www.{ZONE}", "AAAA")
        self.assertEqual(r.rcode(), dns.rcode.NOTIMP)  # after_seen saw the tag
        q = dns.message.make_query(f"www.{ZONE}", "AAAA")
        r = dns.query.tcp(q, "127.0.0.1", port=self.d.port, timeout=3)
        self.assertEqual(r.rcode(), dns.rcode.NOTIMP)  # and over TCP
        st = self.stats()
        self.assertEqual(st["rules"]["seen"] - before, 3)
        self.assertGreaterEqual(st["tags"]["seen"], 3)
        lines = [ln for ln in self.d.log_text().splitlines() if '"msg":"response"' in ln]
        self.assertTrue(any('"rule":"seen"' in ln and '"tags":["seen"]' in ln for ln in lines), lines[-5:])

    def test_not_listed_as_not_applied(self):
        self.assertNotIn("response rule", self.d.log_text())


if __name__ == "__main__":
    unittest.main(verbosity=2)
