#!/usr/bin/env python3
"""Forwarding toward backends that misbehave on demand (our responder): source
ports and query IDs toward backends, forged and mismatched answers, answers
from the wrong address or port, timeouts (drop and SERVFAIL), the bounded
outstanding table."""

import collections
import random
import socket
import struct
import threading
import time
import unittest

from harness import Dnspc, Responder, Workdir, build_query, dns, query, raw_exchange, wait_until


def policy(resp, extra=""):
    return f"""
listen 127.0.0.1:{{port}}, [::1]:{{port}};
control "{{control}}";
option workers 2;
option sockets_per_backend 4;
option udp_timeout 400ms;
{extra}
pool p {{ server {resp.server()} state up; }}
rule default: true => pool p;
"""


def ask_many(port, names, timeout=1.0, threads=8):
    """Queries in parallel with dnspython (a new socket, so a new source port,
    each); returns {name: response or exception}."""
    out = {}
    lock = threading.Lock()
    it = iter(names)

    def run():
        while True:
            with lock:
                name = next(it, None)
            if name is None:
                return
            try:
                r = query("127.0.0.1", port, name, timeout=timeout)
            except Exception as e:  # noqa: BLE001
                r = e
            with lock:
                out[name] = r
    ts = [threading.Thread(target=run) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    return out


class Forwarding(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = Workdir()
        cls.addClassCleanup(cls.work.cleanup)
        cls.resp = Responder("resp")
        cls.addClassCleanup(cls.resp.close)
        cls.d = Dnspc(cls.work.path, policy(cls.resp))
        cls.addClassCleanup(cls.d.stop)

    def setUp(self):
        self.resp.mode = "normal"
        self.resp.clear()

    def key(self):
        return f"p/{self.resp.server()}"

    def test_source_ports_and_ids_toward_the_backend(self):
        n = 600
        results = ask_many(self.d.port, [f"n{i}.example." for i in range(n)])
        self.assertEqual(sum(1 for r in results.values() if isinstance(r, dns.message.Message)), n)
        seen = self.resp.queries()
        self.assertEqual(len(seen), n)
        ports = collections.Counter(s[0] for s in seen)
        ids = [s[1] for s in seen]
        server = self.d.servers()[self.key()]
        # Every socket of both workers (2 x 4, random ports) carried queries.
        self.assertEqual(len(server["source_ports"]), 8)
        self.assertLessEqual(set(ports), set(server["source_ports"]))
        self.assertGreaterEqual(len(ports), 6, ports)
        # IDs: fresh random numbers, not the clients'. 600 draws from 65536
        # repeat about 3 times; each bit is set about half the time; no
        # sequence.
        self.assertGreaterEqual(len(set(ids)), n - 15)
        for bit in range(16):
            share = sum(1 for i in ids if i >> bit & 1) / n
            self.assertTrue(0.4 < share < 0.6, f"bit {bit} set in {share:.2f} of the IDs")
        steps = collections.Counter((b - a) % 65536 for a, b in zip(ids, ids[1:]))
        self.assertLess(steps.most_common(1)[0][1], 6, "IDs follow a pattern")

    def test_forged_answers_are_ignored(self):
        self.resp.mode = "forge"
        self.resp.forge_count = 30
        before = self.d.stats()
        for i in range(5):
            r = query("127.0.0.1", self.d.port, f"forged{i}.example.", timeout=1)
            self.assertEqual([rd.address for rd in r.answer[0]], ["192.0.2.99"])
        after = wait_until(lambda: (lambda s: s if s["backend_answers"]["unknown_id"]
                                    - before["backend_answers"]["unknown_id"] >= 5 * 29 else None)(self.d.stats()),
                           2, what="the forged answers to be counted")
        self.assertGreaterEqual(after["backend_answers"]["unknown_id"] - before["backend_answers"]["unknown_id"],
                                5 * 29)
        self.assertEqual(after["backend_answers"]["accepted"] - before["backend_answers"]["accepted"], 5)

    def mismatch(self, mode, counter):
        self.resp.mode = mode
        before = self.d.stats()
        with self.assertRaises(dns.exception.Timeout):
            query("127.0.0.1", self.d.port, f"{mode}.example.", timeout=0.6)
        after = wait_until(lambda: (lambda s: s if s["timeouts"]["total"] > before["timeouts"]["total"] else None)(
            self.d.stats()), 2, what="the timeout")
        self.assertEqual(after["backend_answers"][counter] - before["backend_answers"][counter], 1, mode)
        self.assertEqual(after["backend_answers"]["accepted"], before["backend_answers"]["accepted"])
        self.assertEqual(after["timeouts"]["total"] - before["timeouts"]["total"], 1)
        return after

    def test_wrong_id_is_dropped(self):
        self.mismatch("wrong_id", "unknown_id")

    def test_wrong_name_is_dropped(self):
        self.mismatch("wrong_name", "mismatched")

    def test_wrong_type_is_dropped(self):
        self.mismatch("wrong_type", "mismatched")

    def test_wrong_source_port_is_dropped(self):
        self.mismatch("other_port", "wrong_source")

    def test_answer_from_another_address_is_dropped(self):
        # A forger on 127.0.0.2 aims copies of the real answer at every
        # source port of dnspc while the query is in flight.
        self.resp.mode = "slow"
        self.resp.delay = 0.3
        ports = self.d.servers()[self.key()]["source_ports"]
        before = self.d.stats()
        result = {}
        t = threading.Thread(target=lambda: result.setdefault(
            "r", query("127.0.0.1", self.d.port, "victim.example.", timeout=1.5)))
        t.start()
        wait_until(lambda: self.resp.queries(), 1, what="the query at the responder")
        port, qid, _, name, _ = self.resp.queries()[-1]
        forged = dns.message.make_response(dns.message.make_query(name, "A"))
        forged.id = qid
        forged.answer.append(dns.rrset.from_text(name, 60, "IN", "A", "203.0.113.66"))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.2", 0))
            for p in ports:
                s.sendto(forged.to_wire(), ("127.0.0.1", p))
        t.join(3)
        self.assertEqual([rd.address for rd in result["r"].answer[0]], ["192.0.2.99"])
        after = self.d.stats()
        self.assertGreaterEqual(after["backend_answers"]["wrong_source"] - before["backend_answers"]["wrong_source"],
                                len(ports))

    def test_late_answer_after_timeout_is_dropped(self):
        self.resp.mode = "slow"
        self.resp.delay = 0.6  # past udp_timeout 400ms
        before = self.d.stats()
        with self.assertRaises(dns.exception.Timeout):
            query("127.0.0.1", self.d.port, "late.example.", timeout=0.9)
        after = wait_until(lambda: (lambda s: s if s["backend_answers"]["unknown_id"]
                                    > before["backend_answers"]["unknown_id"] else None)(self.d.stats()),
                           2, what="the late answer")
        self.assertEqual(after["timeouts"]["total"] - before["timeouts"]["total"], 1)
        self.assertEqual(after["timeouts"]["servfail"], before["timeouts"]["servfail"])


class TimeoutServfail(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = Workdir()
        cls.addClassCleanup(cls.work.cleanup)
        cls.resp = Responder("silent")
        cls.resp.mode = "silent"
        cls.addClassCleanup(cls.resp.close)
        cls.d = Dnspc(cls.work.path, policy(cls.resp, "option timeout_answer servfail;\noption max_outstanding 5;")
                      .replace("option workers 2;", "option workers 1;"))
        cls.addClassCleanup(cls.d.stop)

    def test_servfail_keeps_id_question_and_edns(self):
        pkt = build_query("Lost.Example.", qid=4321, edns=(4096, 0, True))
        t0 = time.monotonic()
        ans = raw_exchange("127.0.0.1", self.d.port, pkt, timeout=2)
        took = time.monotonic() - t0
        self.assertIsNotNone(ans)
        self.assertGreater(took, 0.35)
        m = dns.message.from_wire(ans)
        self.assertEqual(m.id, 4321)
        self.assertEqual(m.rcode(), dns.rcode.SERVFAIL)
        self.assertEqual(ans[12:12 + 14], pkt[12:12 + 14])  # the name as the client wrote it
        self.assertEqual((m.edns, m.payload, bool(m.ednsflags & dns.flags.DO)), (0, 1232, True))
        self.assertTrue(m.flags & dns.flags.RA)
        s = self.d.stats()
        self.assertGreaterEqual(s["timeouts"]["servfail"], 1)

    def test_outstanding_is_bounded(self):
        # 5 may be in flight (they time out: SERVFAIL); the rest find no
        # usable server and are dropped (the pool's on_no_server default).
        before = self.d.stats()
        socks = []
        try:
            for i in range(8):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.settimeout(1.5)
                s.sendto(build_query(f"b{i}.example.", qid=i), ("127.0.0.1", self.d.port))
            got = []
            for s in socks:
                try:
                    got.append(dns.message.from_wire(s.recv(4096)).rcode())
                except socket.timeout:
                    got.append(None)
                    s.settimeout(0.01)
        finally:
            for s in socks:
                s.close()
        self.assertEqual(got.count(dns.rcode.SERVFAIL), 5, got)
        self.assertEqual(got.count(None), 3, got)
        after = self.d.stats()
        self.assertEqual(after["forwarded"] - before["forwarded"], 5)
        self.assertEqual(after["timeouts"]["total"] - before["timeouts"]["total"], 5)
        self.assertEqual(after["no_server"]["dropped"] - before["no_server"]["dropped"], 3)

if __name__ == "__main__":
    random.seed()
    unittest.main(verbosity=2)
