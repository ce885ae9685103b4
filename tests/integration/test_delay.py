#!/usr/bin/env python3
"""The `delay` modifier: UDP answers (local and from a backend) held without
blocking the worker, the bound on held answers, and TCP ignoring it."""

import select
import socket
import threading
import time
import unittest

from harness import ZONE, Dnspc, Nsd, Workdir, build_query, dns


class Delay(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = Workdir()
        cls.nsd = Nsd(cls.work.path, "delay").start()
        cls.d = Dnspc(cls.work.path, f"""
listen 127.0.0.1:{{port}};
control "{{control}}";
option workers 1;
option max_held_answers 5;
pool p {{ server {cls.nsd.server()} state up; }}
rule held_spoof: qname == "spoof.delay.test." => delay 400ms spoof A 192.0.2.1;
rule held_fwd: qname == "www.{ZONE}" and qtype == AAAA => delay 400ms pool p;
rule tarpit: qname suffix "tarpit.test." => delay 1s refuse;
rule default: true => pool p;
""")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.nsd.kill()
        cls.work.cleanup()

    def timed(self, name, rdtype="A", tcp=False):
        q = dns.message.make_query(name, rdtype)
        t0 = time.monotonic()
        if tcp:
            r = dns.query.tcp(q, "127.0.0.1", port=self.d.port, timeout=5)
        else:
            r = dns.query.udp(q, "127.0.0.1", port=self.d.port, timeout=5)
        return r, time.monotonic() - t0

    def held(self):
        return self.d.stats()["delay"]

    def test_local_answer_is_held(self):
        before = self.held()["held"]
        r, took = self.timed("spoof.delay.test.")
        self.assertEqual(r.answer[0][0].address, "192.0.2.1")
        self.assertGreaterEqual(took, 0.38)
        self.assertEqual(self.held()["held"] - before, 1)

    def test_backend_answer_is_held(self):
        r, took = self.timed(f"www.{ZONE}", "AAAA")
        self.assertEqual(r.answer[0][0].address, "2001:db8::80")
        self.assertGreaterEqual(took, 0.38)

    def test_worker_keeps_answering_while_answers_are_held(self):
        # One worker: a held answer must not stop it from answering others first.
        order = []
        lock = threading.Lock()

        def ask(name):
            r, _ = self.timed(name)
            with lock:
                order.append((name, r.rcode()))
        slow = threading.Thread(target=ask, args=("spoof.delay.test.",))
        slow.start()
        time.sleep(0.05)
        ask(f"www.{ZONE}")
        slow.join(10)
        self.assertEqual([n for n, _ in order], [f"www.{ZONE}", "spoof.delay.test."])

    def test_tcp_ignores_delay(self):
        before = self.held()["held"]
        r, _ = self.timed("spoof.delay.test.", tcp=True)
        self.assertEqual(r.answer[0][0].address, "192.0.2.1")
        self.assertEqual(self.held()["held"], before)

    def test_bound_on_held_answers(self):
        before = self.held()
        socks = []
        for i in range(10):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(3)
            s.sendto(build_query(f"q{i}.tarpit.test.", qid=i), ("127.0.0.1", self.d.port))
            socks.append(s)
        answered = 0
        deadline = time.monotonic() + 2.5  # held answers come after 1 s; dropped ones never
        pending = list(socks)
        while pending and time.monotonic() < deadline:
            ready, _, _ = select.select(pending, [], [], max(0.0, deadline - time.monotonic()))
            for s in ready:
                s.recv(4096)
                answered += 1
                pending.remove(s)
        for s in socks:
            s.close()
        after = self.held()
        self.assertEqual(answered, 5)
        self.assertEqual(after["held"] - before["held"], 5)
        self.assertEqual(after["dropped_full"] - before["dropped_full"], 5)


if __name__ == "__main__":
    unittest.main(verbosity=2)
