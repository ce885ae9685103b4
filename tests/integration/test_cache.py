#!/usr/bin/env python3
"""The packet cache through the real binary with NSD behind (docs/cache.md):
a hit after a miss (NSD gets one query), TTLs going down with time, the
client's ID and name case back, DO / CD / RD kept apart, a TC=1 answer not
served over TCP and a large cached answer truncated for a small UDP client,
ECS queries not cached, negative answers capped and expiring, a name flood
that does not evict hot names, `no_cache`, response rules and the rings on
hits, purge by suffix / name / type, the cache kept across an unrelated
reload and replaced when its settings change, and stale answers while NSD
is stopped (SIGSTOP), counted. One dnspc and one NSD for those; a second
pair for `stale_on_timeout` (servers forced up, so queries are sent to the
stopped NSD and time out)."""

import random
import socket
import struct
import time
import unittest

from harness import BIG_TXT, ZONE, Dnspc, Nsd, Workdir, build_query, dns, query, raw_exchange, wait_until

POLICY = """
listen 127.0.0.1:{{port}};
control "{{control}}";
option workers 2;
pool main {{
  server {server} check "whoami.{zone}" every 200ms timeout 200ms;
  cache 4000 entry_size 4088 max_negative_ttl {neg} stale 60s;
}}
pool small {{ server {server} check "whoami.{zone}" every 200ms timeout 200ms; cache 64; }}
rule nocache: qname suffix "nocache.who.{zone}" => no_cache pool main;
rule flood: qname suffix "flood.{zone}" => pool small;
{extra}
rule default: true => pool main;
response rule refused: qname suffix "resp.who.{zone}" => rcode REFUSED;
"""


def ecs_query(name):
    q = dns.message.make_query(name, "A", use_edns=0)
    q.use_edns(0, 0, 1232, options=[dns.edns.ECSOption("192.0.2.0", 24)])
    return q


class Cache(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = Workdir()
        cls.addClassCleanup(cls.work.cleanup)
        cls.nsd = Nsd(cls.work.path, "nsd-cache", extra_records=[
            BIG_TXT, "short 1 IN A 192.0.2.9", "*.flood IN A 192.0.2.7", "ttl5 5 IN A 192.0.2.5"]).start()
        cls.addClassCleanup(cls.nsd.kill)
        cls.d = Dnspc(cls.work.path, cls.policy())
        cls.addClassCleanup(cls.d.stop)

    @classmethod
    def policy(cls, extra="", neg="2s"):
        return POLICY.format(server=cls.nsd.server(), zone=ZONE, extra=extra, neg=neg)

    # ---------------------------------------------------------------- helpers

    def forwarded(self):
        """Queries dnspc sent to NSD so far (both pools: the same server)."""
        return sum(self.d.server_queries().values())

    def pool_stats(self, pool="main"):
        return {p["pool"]: p for p in self.d.ctl("cache")["pools"]}[pool]

    def ask(self, name, rdtype="A", **kw):
        return query("127.0.0.1", self.d.port, name, rdtype, **kw)

    def fresh(self, label):
        return f"{label}-{random.randrange(1 << 30)}.who.{ZONE}"

    @staticmethod
    def ttls(msg):
        return [rrset.ttl for rrset in (msg.answer or msg.authority)]

    def reload(self, text):
        self.d.policy_path.write_text(text.replace("{port}", str(self.d.port)).replace("{control}", self.d.control))
        r = self.d.ctl("reload")
        self.assertTrue(r["ok"], r)

    # ---------------------------------------------------------------- tests

    def test_hit_after_miss_with_the_clients_id_and_case(self):
        name = self.fresh("hit")
        before = self.forwarded()
        first = self.ask(name, "TXT")
        self.assertEqual(self.forwarded(), before + 1)
        # The second client writes the name in its own case, with its own ID.
        spelt = "".join(c.upper() if i % 2 else c for i, c in enumerate(name))
        packet = build_query(spelt, qtype=16, qid=0x5A5A)
        raw = raw_exchange("127.0.0.1", self.d.port, packet)
        self.assertIsNotNone(raw)
        self.assertEqual(self.forwarded(), before + 1, "the hit did not reach NSD")
        self.assertEqual(struct.unpack("!H", raw[:2])[0], 0x5A5A)
        self.assertEqual(raw[12:12 + len(packet) - 16], packet[12:-4], "the question as the client spelt it")
        hit = dns.message.from_wire(raw)
        self.assertEqual(hit.answer[0].to_text().split()[-1], first.answer[0].to_text().split()[-1])
        self.assertTrue(hit.flags & dns.flags.RD)
        self.assertGreaterEqual(self.pool_stats()["hits"], 1)

    def test_ttl_goes_down_with_time(self):
        name = self.fresh("ttl")
        first = self.ask(name, "TXT")
        self.assertEqual(self.ttls(first), [300])
        time.sleep(2.1)
        before = self.forwarded()
        second = self.ask(name, "TXT")
        self.assertEqual(self.forwarded(), before)
        self.assertIn(self.ttls(second)[0], (297, 298))

    def test_do_cd_and_rd_are_kept_apart(self):
        name = self.fresh("bits")
        variants = [
            dict(),
            dict(use_edns=0, want_dnssec=True),
            dict(use_edns=0),
            dict(flags=dns.flags.RD | dns.flags.CD),
            dict(flags=0),
        ]
        for kw in variants:
            before = self.forwarded()
            self.ask(name, "TXT", **kw)
            self.assertEqual(self.forwarded(), before + 1, f"{kw}: a miss of its own")
        for kw in variants:
            before = self.forwarded()
            r = self.ask(name, "TXT", **kw)
            self.assertEqual(self.forwarded(), before, f"{kw}: a hit")
            self.assertEqual(bool(r.flags & dns.flags.CD), bool(kw.get("flags", dns.flags.RD) & dns.flags.CD))
            self.assertEqual(r.edns >= 0, "use_edns" in kw)
            if kw.get("want_dnssec"):
                self.assertTrue(r.ednsflags & dns.flags.DO)

    def test_tc_answer_not_served_over_tcp_and_large_hits_truncated(self):
        big = f"big.{ZONE}"
        # Without EDNS NSD answers TC=1: never kept, so TCP gets the whole answer.
        udp = self.ask(big, "TXT")
        self.assertTrue(udp.flags & dns.flags.TC)
        before = self.forwarded()
        self.ask(big, "TXT")
        self.assertEqual(self.forwarded(), before + 1, "a TC=1 answer is not kept")
        q = dns.message.make_query(big, "TXT")
        tcp = dns.query.tcp(q, "127.0.0.1", port=self.d.port, timeout=2)
        self.assertFalse(tcp.flags & dns.flags.TC)
        self.assertEqual(len(tcp.answer[0][0].strings), 6)
        # Over TCP it is kept; a hit over UDP without EDNS is over 512 bytes: TC=1, no records.
        before = self.forwarded()
        again = dns.query.tcp(q, "127.0.0.1", port=self.d.port, timeout=2)
        self.assertEqual(self.forwarded(), before)
        self.assertEqual(len(again.answer[0][0].strings), 6)
        self.assertTrue(self.ask(big, "TXT").flags & dns.flags.TC)

    def test_ecs_queries_are_not_cached(self):
        name = self.fresh("ecs")
        before = self.forwarded()
        for _ in range(3):
            dns.query.udp(ecs_query(name), "127.0.0.1", port=self.d.port, timeout=1)
        self.assertEqual(self.forwarded(), before + 3)

    def test_negative_answers_capped_then_expire(self):
        name = self.fresh("nx").replace(".who.", ".nx.")
        first = self.ask(name)
        self.assertEqual(first.rcode(), dns.rcode.NXDOMAIN)
        before = self.forwarded()
        hit = self.ask(name)
        self.assertEqual(self.forwarded(), before)
        self.assertEqual(hit.rcode(), dns.rcode.NXDOMAIN)
        self.assertLessEqual(self.ttls(hit)[0], 2, "SOA MINIMUM 300 capped at max_negative_ttl 2s")
        time.sleep(2.2)
        self.ask(name)
        self.assertEqual(self.forwarded(), before + 1, "expired")

    def test_a_name_flood_keeps_the_hot_names(self):
        # Pool small: 64 entries (8 buckets of 8). 4 hot names asked between
        # floods of 6 new names, 804 in all. A hot name is lost only when the
        # CLOCK hand goes round its whole bucket between two of its hits,
        # which takes about 8 new names in that bucket in one round; rounds
        # of 20 names made that happen now and then (the hash seed is random
        # per cache), rounds of 6 practically never.
        hot = [f"hot{i}.flood.{ZONE}" for i in range(4)]
        for h in hot:
            self.ask(h)
        start = self.pool_stats("small")
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.settimeout(1)
        flood = 0
        try:
            for round_ in range(134):
                for k in range(6):
                    sock.sendto(build_query(f"r{round_}-{k}.flood.{ZONE}"), ("127.0.0.1", self.d.port))
                    sock.recv(4096)
                    flood += 1
                for h in hot:
                    self.assertEqual(self.ask(h).answer[0][0].address, "192.0.2.7")
        finally:
            sock.close()
        end = self.pool_stats("small")
        self.assertEqual(end["misses"] - start["misses"], flood, "every flood name a miss, no hot name one")
        self.assertEqual(end["hits"] - start["hits"], 134 * len(hot))
        self.assertGreater(end["evictions"] - start["evictions"], flood - 64)
        self.assertLessEqual(end["entries"], 64)

    def test_no_cache_modifier(self):
        name = f"x{random.randrange(1 << 30)}.nocache.who.{ZONE}"
        before = self.forwarded()
        self.ask(name, "TXT")
        self.ask(name, "TXT")
        self.assertEqual(self.forwarded(), before + 2)

    def test_hits_go_through_response_rules_and_rings(self):
        name = f"x{random.randrange(1 << 30)}.resp.who.{ZONE}"
        self.assertEqual(self.ask(name, "TXT").rcode(), dns.rcode.REFUSED)
        before = self.forwarded()
        self.assertEqual(self.ask(name, "TXT").rcode(), dns.rcode.REFUSED, "the response rule ran on the hit")
        self.assertEqual(self.forwarded(), before, "the backend's NOERROR was kept, the rule applied again")
        name2 = self.fresh("ring")
        self.ask(name2, "TXT")
        self.ask(name2, "TXT")
        answers = self.d.ctl(f"grep {name2} 10")["matches"]
        self.assertIn("cache", [a["source"] for a in answers])
        self.assertIn("backend", [a["source"] for a in answers])
        latency = self.d.ctl("latency")["transport"]["cache"]
        self.assertGreaterEqual(latency["count"], 1)

    def test_purge_by_suffix_name_and_type(self):
        a, b, other = (f"{x}.purge.who.{ZONE}" for x in ("a", "b.c", "other"))
        other = f"keep.who.{ZONE}"
        for n in (a, b, other):
            self.ask(n, "TXT")
        self.ask(a, "A")
        r = self.d.ctl(f"cache-purge suffix purge.who.{ZONE}")
        self.assertTrue(r["ok"])
        self.assertEqual(r["purged"]["main"], 3)
        before = self.forwarded()
        self.ask(other, "TXT")
        self.assertEqual(self.forwarded(), before, "outside the suffix: kept")
        self.ask(a, "TXT")
        self.ask(b, "TXT")
        self.assertEqual(self.forwarded(), before + 2)
        self.ask(a, "A")
        self.assertEqual(self.d.ctl(f"cache-purge name {a} TXT")["purged"]["main"], 1)
        before = self.forwarded()
        self.ask(a, "A")
        self.assertEqual(self.forwarded(), before, "another type: kept")
        self.assertIn("error", self.d.ctl("cache-purge name bad..name"))
        self.assertIn("error", self.d.ctl("cache-purge sideways x"))

    def test_reload_keeps_the_cache_unless_its_settings_change(self):
        name = self.fresh("reload")
        self.ask(name, "TXT")
        self.reload(self.policy(extra=f'rule unrelated: qname suffix "unrelated.{ZONE}" => drop;'))
        before = self.forwarded()
        self.ask(name, "TXT")
        self.assertEqual(self.forwarded(), before, "kept across an unrelated reload")
        self.reload(self.policy(neg="3s"))
        self.assertEqual(self.pool_stats()["settings"]["max_negative_ttl_s"], 3)
        self.ask(name, "TXT")
        self.assertEqual(self.forwarded(), before + 1, "a new cache: its settings changed")
        self.reload(self.policy())

    def test_zz_stale_answers_while_nsd_is_stopped(self):  # last: it stops NSD
        name = f"short.{ZONE}"
        self.ask(name)  # TTL 1: fresh for a second, then stale for 60 s
        stale_before = self.pool_stats()["stale_served"]
        self.nsd.stop_signal()
        try:
            wait_until(lambda: all(s["state"] == "down" for s in self.d.servers().values()), 5, 0.05, "servers down")
            time.sleep(1.1)
            r = self.ask(name)
            self.assertEqual(r.answer[0][0].address, "192.0.2.9")
            self.assertLessEqual(r.answer[0].ttl, 30)
            self.assertEqual(self.pool_stats()["stale_served"], stale_before + 1)
            # A name never cached: nothing to serve, dropped (on_no_server drop).
            with self.assertRaises(dns.exception.Timeout):
                self.ask(self.fresh("never"), "TXT", timeout=0.3)
        finally:
            self.nsd.cont()
            wait_until(lambda: all(s["state"] == "up" for s in self.d.servers().values()), 5, 0.05, "servers up")


TIMEOUT_POLICY = """
listen 127.0.0.1:{{port}};
control "{{control}}";
option workers 1;
option udp_timeout 300ms;
option tcp_backend_timeout 300ms;
option timeout_answer servfail;
pool on {{ server {server} state up; cache 100 stale 60s stale_on_timeout on; }}
pool off {{ server {server} state up; cache 100 stale 60s; }}
rule off: qname suffix "off.{zone}" => pool off;
rule default: true => pool on;
"""


class StaleOnTimeout(unittest.TestCase):
    """`stale_on_timeout on`: NSD stopped while its servers stay up (forced),
    so the query is sent, times out, and the cache's answer is given instead
    of `timeout_answer`'s SERVFAIL; a pool without it answers SERVFAIL."""

    @classmethod
    def setUpClass(cls):
        cls.work = Workdir()
        cls.addClassCleanup(cls.work.cleanup)
        cls.nsd = Nsd(cls.work.path, "nsd-stale-timeout", extra_records=[
            "short 1 IN A 192.0.2.9", "short.off 1 IN A 192.0.2.10"]).start()
        cls.addClassCleanup(cls.nsd.kill)
        cls.d = Dnspc(cls.work.path, TIMEOUT_POLICY.format(server=cls.nsd.server(), zone=ZONE))
        cls.addClassCleanup(cls.d.stop)

    def pool_stats(self, pool):
        return {p["pool"]: p for p in self.d.ctl("cache")["pools"]}[pool]

    def test_stale_answer_on_a_backend_timeout(self):
        on, off = f"short.{ZONE}", f"short.off.{ZONE}"
        self.assertEqual(query("127.0.0.1", self.d.port, on).answer[0][0].address, "192.0.2.9")
        self.assertEqual(query("127.0.0.1", self.d.port, off).answer[0][0].address, "192.0.2.10")
        self.assertTrue(self.pool_stats("on")["settings"]["stale_on_timeout"])
        self.assertFalse(self.pool_stats("off")["settings"]["stale_on_timeout"])
        time.sleep(1.1)  # TTL 1: expired, inside the 60 s stale window
        self.nsd.stop_signal()
        try:
            self.assertTrue(all(s["state"] == "up" for s in self.d.servers().values()), "no-server path not taken")
            before, stale_before = self.d.stats(), self.pool_stats("on")["stale_served"]
            t0 = time.monotonic()
            r = query("127.0.0.1", self.d.port, on, timeout=3)
            waited = time.monotonic() - t0
            self.assertEqual(r.rcode(), dns.rcode.NOERROR)
            self.assertEqual(r.answer[0][0].address, "192.0.2.9")
            self.assertLessEqual(r.answer[0].ttl, 30)
            self.assertGreaterEqual(waited, 0.25, "answered after the backend timeout, not before")
            self.assertEqual(self.pool_stats("on")["stale_served"], stale_before + 1)
            after = self.d.stats()
            self.assertEqual(after["timeouts"]["total"] - before["timeouts"]["total"], 1)
            self.assertEqual(after["timeouts"]["servfail"], before["timeouts"]["servfail"])
            answers = self.d.ctl(f"grep {on} 10")["matches"]
            self.assertIn("cache", [a["source"] for a in answers])

            # Over TCP: tcp_backend_timeout, then the same entry.
            tcp = dns.query.tcp(dns.message.make_query(on, "A"), "127.0.0.1", port=self.d.port, timeout=3)
            self.assertEqual(tcp.answer[0][0].address, "192.0.2.9")
            self.assertLessEqual(tcp.answer[0].ttl, 30)
            self.assertEqual(self.pool_stats("on")["stale_served"], stale_before + 2)

            # A name never cached: the timeout as before (timeout_answer servfail).
            never = query("127.0.0.1", self.d.port, f"never-{random.randrange(1 << 30)}.who.{ZONE}", "TXT",
                          timeout=3)
            self.assertEqual(never.rcode(), dns.rcode.SERVFAIL)
            # The pool without the setting: SERVFAIL although its entry is in the stale window.
            self.assertEqual(query("127.0.0.1", self.d.port, off, timeout=3).rcode(), dns.rcode.SERVFAIL)
            self.assertEqual(self.pool_stats("off")["stale_served"], 0)
            self.assertEqual(self.d.stats()["timeouts"]["total"] - before["timeouts"]["total"], 4)
        finally:
            self.nsd.cont()


if __name__ == "__main__":
    unittest.main(verbosity=2)
