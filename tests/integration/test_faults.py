#!/usr/bin/env python3
"""The fault suite (issue 20): faults the other integration tests do not
already cover, each through the real binary, each test saying what it
expects. Already covered elsewhere (docs/reliability.md, "Fault suite",
lists where): one packet per parse error, QR=1, no question; TCP short
length prefix, 2000 pipelined queries, slow drip, 2000 idle connections
past the per-client limit; backends with a wrong ID, name, type, port or
address, forged and late answers; console and web credentials, oversized
and slow requests; deep nesting, /dev/zero and FIFO set files.

Here, on one dnspc with NSD backends (and small fake UDP backends only for
what NSD will not do: answer with QR=0 or garbage):
- every truncation of a good EDNS+ECS query, and thousands of random
  packets: each counted (queries and a malformed reason), nothing answered
  but FORMERR, no crash, another client unaffected, memory bounded;
- TCP: a length prefix longer than what follows (closed at idle, counted
  incomplete), a query dribbled a byte at a time (answered), resets with
  queries in flight (answers discarded, others unaffected);
- backends answering QR=0 or garbage (counted, the client gets SERVFAIL at
  the timeout), all servers of a pool down (SERVFAIL at once), one coming
  back (its answers), one flapping (every query answered, the other pool
  unaffected);
- policies and set files that are empty, missing, binary, huge (sparse),
  a directory, /dev/zero, a FIFO: `dnspc check` exits 1 with the file named
  and a diagnostic, and a running instance's reload keeps the old policy."""

import os
import random
import socket
import struct
import subprocess
import threading
import time
import unittest

from harness import (DNSPC, Dnspc, Nsd, Workdir, ZONE, answer_a, build_query, dns, query, raw_exchange, rss_kib,
                     wait_until, who)

MARKER = "192.0.2.1"
FAST = 'check "quickstart.test." check_type SOA every 200ms timeout 200ms'

POLICY = """
listen 127.0.0.1:{port};
control "{control}";
option workers 2;
option udp_timeout 400ms;
option timeout_answer servfail;
option tcp_idle_timeout 1s;

pool main { server MAIN; }
pool qr0 { server QR0 state up; }
pool garbage { server GARBAGE state up; }
pool pair { server B FAST; server C FAST; on_no_server servfail; }

netmasks office = file "SETFILE";

rule marker: qname suffix "marker.test." => spoof A MARKER;
rule office: src in office and qname suffix "office.test." => spoof A 192.0.2.2;
rule qr0: qname suffix "qr0.test." => pool qr0;
rule garbage: qname suffix "garbage.test." => pool garbage;
rule pair: qname suffix "pair.who.quickstart.test." => pool pair;
rule default: true => pool main;
"""


class FakeUdp:
    """A UDP backend NSD cannot be made into: mode "qr0" sends the query
    back unchanged (QR=0), "garbage" sends a runt, junk under a random ID
    and junk under the query's own ID."""

    def __init__(self, mode):
        self.mode = mode
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.seen = 0
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def server(self):
        return f"127.0.0.1:{self.port}"

    def close(self):
        self._stop = True
        self.thread.join(timeout=2)
        self.sock.close()

    def _run(self):
        rnd = random.Random(7)
        while not self._stop:
            try:
                data, peer = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            self.seen += 1
            if self.mode == "qr0":
                self.sock.sendto(data, peer)
                continue
            junk = bytes(rnd.randrange(256) for _ in range(rnd.randrange(12, 300)))
            self.sock.sendto(b"\x81\x80\x00", peer)                          # shorter than a header
            self.sock.sendto(bytes([data[0] ^ 0xFF, data[1]]) + junk, peer)  # another ID
            self.sock.sendto(data[:2] + b"\x81\x80" + junk, peer)            # our ID, QR=1, junk after


def frame(packet):
    return struct.pack("!H", len(packet)) + packet


def read_frame(s, timeout=3.0):
    s.settimeout(timeout)
    head = s.recv(2, socket.MSG_WAITALL)
    if len(head) < 2:
        return None
    n = struct.unpack("!H", head)[0]
    return s.recv(n, socket.MSG_WAITALL)


def closed_within(s, timeout):
    s.settimeout(timeout)
    try:
        while True:
            if not s.recv(4096):
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def rcode_of(packet):
    return struct.unpack("!H", packet[2:4])[0] & 0xF


class Faults(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = Workdir()
        cls.addClassCleanup(cls.work.cleanup)
        cls.main = Nsd(cls.work.path, "main").start()
        cls.addClassCleanup(cls.main.kill)
        cls.b = Nsd(cls.work.path, "b").start()
        cls.addClassCleanup(cls.b.kill)
        cls.c = Nsd(cls.work.path, "c").start()
        cls.addClassCleanup(cls.c.kill)
        cls.qr0 = FakeUdp("qr0")
        cls.addClassCleanup(cls.qr0.close)
        cls.garbage = FakeUdp("garbage")
        cls.addClassCleanup(cls.garbage.close)
        (cls.work.path / "office.txt").write_text("127.0.0.0/8\n")
        cls.d = Dnspc(cls.work.path, cls.policy())
        cls.addClassCleanup(cls.d.stop)
        cls.good = cls.d.policy_path

    @classmethod
    def policy(cls, setfile="office.txt"):
        return (POLICY.replace("MAIN", cls.main.server()).replace("QR0", cls.qr0.server())
                .replace("GARBAGE", cls.garbage.server()).replace("server B", f"server {cls.b.server()}")
                .replace("server C", f"server {cls.c.server()}").replace("MARKER", MARKER)
                .replace("FAST", FAST).replace("SETFILE", setfile))

    def setUp(self):
        self.assertTrue(self.d.proc.alive(), "dnspc died in an earlier test:\n" + self.d.log_text()[-3000:])

    def tearDown(self):
        self.assertTrue(self.d.proc.alive(), "dnspc died:\n" + self.d.log_text()[-3000:])

    def stats(self):
        return self.d.stats()

    def assert_serving(self):
        """Another client, at that moment: the spoof rule, the set, the backend."""
        self.assertEqual(answer_a(self.d.port, "marker.test."), MARKER)
        self.assertEqual(answer_a(self.d.port, "x.office.test."), "192.0.2.2")
        self.assertEqual(who("127.0.0.1", self.d.port), "main")

    # ------------------------------------------------------------ malformed queries

    def test_every_truncation_of_a_query_is_counted_and_dropped(self):
        """Each prefix of a good query with EDNS and ECS (0..n-1 bytes) is
        malformed: `queries` moves by one per datagram and the malformed
        counters by as much together; none but a prefix whose header says
        "no question" gets an answer, and it is FORMERR."""
        q = dns.message.make_query("www." + ZONE, "A", use_edns=0,
                                   options=[dns.edns.ECSOption("192.0.2.0", 24)])
        q.id = 0x4242
        good = q.to_wire()
        before = self.stats()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.3)
            for n in range(len(good)):
                s.sendto(good[:n], ("127.0.0.1", self.d.port))
            got = []
            with_timeout = time.monotonic() + 1.0
            while time.monotonic() < with_timeout:
                try:
                    got.append(s.recv(65535))
                except socket.timeout:
                    break
        for a in got:  # none of the prefixes has a whole question: FORMERR at most
            self.assertEqual(rcode_of(a), dns.rcode.FORMERR, a)
        malformed = lambda st: sum(st["malformed"].values())  # noqa: E731
        after = wait_until(lambda: (lambda st: st if st["queries"] - before["queries"] >= len(good) else None)(
            self.stats()), 3, 0.05, "every prefix counted")
        self.assertEqual(after["queries"] - before["queries"], len(good))
        self.assertEqual(malformed(after) - malformed(before), len(good))
        self.assertEqual(after["forwarded"], before["forwarded"])
        self.assertGreaterEqual(after["malformed"]["too_short"] - before["malformed"]["too_short"], 12)
        self.assertGreaterEqual(after["malformed"]["counts_past_end"] - before["malformed"]["counts_past_end"], 1)
        # The whole query still works.
        self.assertIsNotNone(raw_exchange("127.0.0.1", self.d.port, good, timeout=2))
        self.assert_serving()

    def test_random_packets_do_not_crash_or_grow(self):
        """4000 random datagrams (header bits random, QR clear, mostly one
        question): every one counted in `queries`; dnspc keeps answering
        another client during the flood; resident memory grows by less than
        16 MiB."""
        rnd = random.Random(20)
        rss0 = rss_kib(self.d.proc.pid)
        before = self.stats()["queries"]
        sent = 0
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for burst in range(40):
                for _ in range(100):
                    n = rnd.choice([rnd.randrange(0, 12), rnd.randrange(12, 40), rnd.randrange(40, 600)])
                    p = bytearray(rnd.randrange(256) for _ in range(n))
                    if n >= 6:
                        p[2] &= 0x7F  # QR=0: a query, so it reaches the parser's later stages
                        p[4], p[5] = 0, rnd.choice([1, 1, 1, 0, 2, 255])
                    s.sendto(bytes(p), ("127.0.0.1", self.d.port))
                    sent += 1
                if burst % 10 == 0:
                    self.assert_serving()
                    sent += 3  # its own three queries
                time.sleep(0.005)
        wait_until(lambda: self.stats()["queries"] - before >= sent, 5, 0.05, "every packet counted")
        self.assertEqual(self.stats()["queries"] - before, sent)
        self.assert_serving()
        self.assertLess(rss_kib(self.d.proc.pid) - rss0, 16 * 1024)

    def test_malformed_over_tcp_is_counted_and_ends_the_connection(self):
        """Over TCP a malformed query is counted like over UDP and, as a
        query that gets no answer, ends its connection once the answers
        owed are written (`tcp.closed.closed_dropped`, docs/runtime.md); a
        query with two questions gets FORMERR and the connection goes on."""
        good = build_query("www." + ZONE, qid=1)
        bad_label = build_query("www." + ZONE, qid=2)[:12] + b"\x81abc\x00" + good[-4:]
        two = build_query("www." + ZONE, qid=3)
        two = two[:4] + struct.pack("!H", 2) + two[6:]
        before = self.stats()
        with socket.create_connection(("127.0.0.1", self.d.port), timeout=3) as s:
            s.sendall(frame(good) + frame(bad_label))
            first = read_frame(s)
            self.assertIsNotNone(first, "the query before the malformed one is answered")
            self.assertEqual(struct.unpack("!H", first[:2])[0], 1)
            self.assertTrue(closed_within(s, 3))
        with socket.create_connection(("127.0.0.1", self.d.port), timeout=3) as s:
            s.sendall(frame(two))
            formerr = read_frame(s)
            self.assertIsNotNone(formerr)
            self.assertEqual((struct.unpack("!H", formerr[:2])[0], rcode_of(formerr)), (3, dns.rcode.FORMERR))
            s.sendall(frame(good))
            self.assertEqual(rcode_of(read_frame(s)), dns.rcode.NOERROR)
        after = self.stats()
        self.assertEqual(after["malformed"]["bad_label_type"] - before["malformed"]["bad_label_type"], 1)
        self.assertEqual(after["malformed"]["question_count"] - before["malformed"]["question_count"], 1)
        self.assertEqual(after["tcp"]["closed"]["closed_dropped"] - before["tcp"]["closed"]["closed_dropped"], 1)

    # ------------------------------------------------------------ TCP

    def test_tcp_length_prefix_longer_than_the_bytes_sent(self):
        """A prefix announcing 300 bytes followed by 20: nothing answered;
        closed at the idle timeout (1 s here) or at the client's close, each
        counted in `tcp.closed.closed_incomplete`; a 64 KiB announcement is
        no different. Another client meanwhile is answered."""
        before = self.stats()["tcp"]["closed"]
        with socket.create_connection(("127.0.0.1", self.d.port), timeout=3) as s:
            s.sendall(struct.pack("!H", 300) + build_query("www." + ZONE)[:20])
            self.assert_serving()
            self.assertTrue(closed_within(s, 4), "not closed at the idle timeout")
        with socket.create_connection(("127.0.0.1", self.d.port), timeout=3) as s:
            s.sendall(struct.pack("!H", 65535) + b"\0" * 1000)
        wait_until(lambda: self.stats()["tcp"]["closed"]["closed_incomplete"] - before["closed_incomplete"] >= 2,
                   3, 0.05, "both incomplete messages counted")
        after = self.stats()["tcp"]["closed"]
        self.assertGreaterEqual(after["closed_idle"] - before["closed_idle"], 1)

    def test_tcp_query_dribbled_a_byte_at_a_time_is_answered(self):
        """Two pipelined queries written one byte per write (so every read is
        split, inside the prefix too): both answered, in full."""
        data = frame(build_query("www." + ZONE, qid=1)) + frame(build_query("www." + ZONE, qid=2, qtype=28))
        with socket.create_connection(("127.0.0.1", self.d.port), timeout=3) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for i in range(len(data)):
                s.send(data[i:i + 1])
                time.sleep(0.003)
            answers = [dns.message.from_wire(read_frame(s)) for _ in range(2)]
        got = {a.id: a.answer[0][0].to_text() for a in answers}
        self.assertEqual(got, {1: "192.0.2.80", 2: "2001:db8::80"})

    def test_tcp_resets_with_queries_in_flight(self):
        """30 connections each write 100 queries and reset (SO_LINGER 0)
        without reading: the answers are discarded and counted
        (`tcp.answers_discarded`), memory stays bounded, no connection is
        left open and another client is answered."""
        rss0 = rss_kib(self.d.proc.pid)
        before = self.stats()["tcp"]
        burst = b"".join(frame(build_query(f"n{i}.who.{ZONE}", qtype=16, qid=i)) for i in range(100))
        for _ in range(30):
            s = socket.create_connection(("127.0.0.1", self.d.port), timeout=3)
            s.sendall(burst)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
        self.assert_serving()
        q = dns.message.make_query("www." + ZONE, "A")
        self.assertEqual(dns.query.tcp(q, "127.0.0.1", port=self.d.port, timeout=3).answer[0][0].address,
                         "192.0.2.80")
        wait_until(lambda: self.stats()["tcp"]["open"] == 0, 5, 0.05, "every connection closed")
        after = self.stats()["tcp"]
        self.assertGreater(after["answers_discarded"] + sum(after["closed"].values())
                           - before["answers_discarded"] - sum(before["closed"].values()), 0)
        self.assertLess(rss_kib(self.d.proc.pid) - rss0, 16 * 1024)

    # ------------------------------------------------------------ backends

    def servfail_at_timeout(self, name):
        t0 = time.monotonic()
        r = raw_exchange("127.0.0.1", self.d.port, build_query(name), timeout=3)
        self.assertIsNotNone(r, f"{name}: no answer")
        return rcode_of(r), time.monotonic() - t0

    def test_backend_answering_with_qr0_is_not_relayed(self):
        """A backend that echoes the query (QR=0): the echo is `mismatched`
        and the client gets SERVFAIL at the UDP timeout (400 ms)."""
        before = self.stats()
        rcode, took = self.servfail_at_timeout("a.qr0.test.")
        self.assertEqual(rcode, dns.rcode.SERVFAIL)
        self.assertGreaterEqual(took, 0.3)
        after = self.stats()
        self.assertGreaterEqual(after["backend_answers"]["mismatched"] - before["backend_answers"]["mismatched"], 1)
        self.assertEqual(after["timeouts"]["total"] - before["timeouts"]["total"], 1)
        self.assert_serving()

    def test_backend_answering_garbage_is_not_relayed(self):
        """A backend answering a runt, junk under another ID and junk under
        our ID: counted `malformed`, `unknown_id` and `mismatched` on the
        server; the client gets SERVFAIL at the timeout, never the junk."""
        key = "garbage/" + self.garbage.server()
        before = self.d.servers()[key]
        for i in range(5):
            rcode, _ = self.servfail_at_timeout(f"g{i}.garbage.test.")
            self.assertEqual(rcode, dns.rcode.SERVFAIL)
        after = self.d.servers()[key]
        for counter in ("malformed", "unknown_id", "mismatched", "timeouts"):
            self.assertGreaterEqual(after[counter] - before[counter], 5, counter)
        self.assertEqual(after["answers"], before["answers"])
        self.assert_serving()

    def wait_state(self, nsd, state, timeout=5):
        wait_until(lambda: self.d.servers()[f"pair/{nsd.server()}"]["state"] == state, timeout, 0.05,
                   f"pair/{nsd.name} {state}")

    def pair_answers(self, n, prefix):
        out = []
        for i in range(n):
            try:
                r = query("127.0.0.1", self.d.port, f"{prefix}{i}.pair.who.{ZONE}", "TXT", timeout=1.5)
                out.append(r.answer[0][0].strings[0].decode() if r.answer else dns.rcode.to_text(r.rcode()))
            except dns.exception.Timeout:
                out.append(None)
        return out

    def test_all_down_then_one_back_then_flapping(self):
        """Both servers of `pair` silent (SIGSTOP): marked down, queries get
        SERVFAIL at once (`no_server.servfail`), main unaffected. C back:
        every answer from C. B flapping (stopped and continued every 150 ms
        for 3 s): every query gets an answer, from B or C or a SERVFAIL at
        the timeout, and main is unaffected throughout."""
        self.b.stop_signal()
        self.c.stop_signal()
        try:
            self.wait_state(self.b, "down")
            self.wait_state(self.c, "down")
            before = self.stats()["no_server"]["servfail"]
            t0 = time.monotonic()
            self.assertEqual(self.pair_answers(5, "down"), ["SERVFAIL"] * 5)
            self.assertLess(time.monotonic() - t0, 1.0)  # at once, not at a timeout
            self.assertEqual(self.stats()["no_server"]["servfail"] - before, 5)
            self.assert_serving()
            self.c.cont()
            self.wait_state(self.c, "up")
            self.assertEqual(self.pair_answers(10, "back"), ["c"] * 10)
            self.assertEqual(self.d.servers()[f"pair/{self.b.server()}"]["state"], "down")
            # Flapping B.
            stop = threading.Event()

            def flap():
                while not stop.is_set():
                    self.b.stop_signal()
                    time.sleep(0.15)
                    self.b.cont()
                    time.sleep(0.15)

            t = threading.Thread(target=flap, daemon=True)
            t.start()
            try:
                deadline = time.monotonic() + 3
                got = []
                while time.monotonic() < deadline:
                    got += self.pair_answers(5, f"flap{len(got)}-")
                    self.assertEqual(answer_a(self.d.port, "marker.test."), MARKER)
                    self.assertEqual(who("127.0.0.1", self.d.port), "main")
            finally:
                stop.set()
                t.join()
            self.assertNotIn(None, got)
            self.assertLessEqual(set(got), {"b", "c", "SERVFAIL"})
        finally:
            self.b.cont()
            self.c.cont()
        self.wait_state(self.b, "up")
        changes = self.d.servers()[f"pair/{self.b.server()}"]["health"]["state_changes"]
        self.assertGreaterEqual(changes, 2)

    # ------------------------------------------------------------ policy and set files

    def bad_files(self, kind):
        """name -> path of a file that is no usable policy (kind "policy")
        or set file (kind "set")."""
        d = self.work.path / f"bad-{kind}"
        d.mkdir(exist_ok=True)
        rnd = random.Random(3)
        files = {
            "missing": d / "missing",
            "binary": d / "binary",
            "huge": d / "huge",
            "directory": d / "directory",
            "dev_zero": "/dev/zero",
            "fifo": d / "fifo",
        }
        files["binary"].write_bytes(bytes(rnd.randrange(256) for _ in range(8192)) + b"\0" * 100)
        with open(files["huge"], "wb") as f:  # sparse: past the 256 MiB limit without using the disk
            f.truncate(257 * 1024 * 1024)
        files["directory"].mkdir(exist_ok=True)
        if not files["fifo"].exists():
            os.mkfifo(files["fifo"])
        if kind == "set":
            files["long_line"] = d / "long_line"
            files["long_line"].write_text("127.0.0.1/32" + " " * 5000 + "\n")
            files["bad_entry"] = d / "bad_entry"
            files["bad_entry"].write_text("127.0.0.0/8\nnot-a-netmask\n")
        else:
            files["empty"] = d / "empty"
            files["empty"].write_text("")
        return files

    def check(self, path):
        try:
            return subprocess.run([DNSPC, "check", str(path)], capture_output=True, text=True, errors="replace",
                                  timeout=20)
        except subprocess.TimeoutExpired:
            self.fail(f"`dnspc check {path}` hung")

    def reload_rejected(self, path, what):
        failed = self.stats()["last_reload"]["failed"] if self.stats()["last_reload"] else 0
        try:
            r = subprocess.run([DNSPC, "reload", "--control", self.d.control, str(path)],
                               capture_output=True, text=True, errors="replace", timeout=20)
        except subprocess.TimeoutExpired:
            self.fail(f"reload of {what} hung")
        self.assertNotEqual(r.returncode, 0, f"{what}: reload accepted\n{r.stdout}{r.stderr}")
        self.assertGreater(r.returncode, 0, f"{what}: reload killed by a signal")
        self.assertEqual(self.stats()["last_reload"]["failed"], failed + 1, what)
        self.assert_serving()  # the old policy, its set included
        return r

    def test_bad_policy_files_are_clean_errors_and_keep_the_old_policy(self):
        """`dnspc check` on an empty, missing, binary, huge, directory,
        /dev/zero or FIFO policy ends within seconds naming the file: exit 1
        with a diagnostic code when it was read (empty, binary), exit 3 with
        the reason when it cannot be; a reload onto it is rejected and the old policy keeps
        answering."""
        # Exit 1 with a located diagnostic for a file that was read; exit 3
        # (docs/diagnostics.md) for one that cannot be, with the reason.
        want = {"empty": (1, "[empty-policy]"), "binary": (1, "[bad-encoding]"), "missing": (3, "No such file"),
                "huge": (3, "the limit is 256.0 MiB"), "directory": (3, "it is a directory"),
                "dev_zero": (3, "character device"), "fifo": (3, "it is a FIFO")}
        for name, path in self.bad_files("policy").items():
            with self.subTest(name):
                r = self.check(path)
                code, text = want[name]
                self.assertEqual(r.returncode, code, f"{name}: {r.returncode}\n{r.stdout}{r.stderr}")
                self.assertIn(str(path), r.stdout + r.stderr, name)
                self.assertIn(text, r.stdout + r.stderr, name)
                self.reload_rejected(path, f"policy {name}")
        self.assertLess(rss_kib(self.d.proc.pid), 512 * 1024)

    def test_bad_set_files_are_clean_errors_and_keep_the_old_set(self):
        """The same policy naming a missing, binary, huge, directory,
        /dev/zero, FIFO, long-line or bad-entry set file: `dnspc check` exits
        1 naming the set file; a reload is rejected and the old set still
        matches (x.office.test. spoofed). An empty set file is a valid empty
        set: accepted with the warning `empty-set`, and the rule stops matching until the good file is
        back."""
        want = {"missing": "[missing-file]", "binary": "[bad-set-entry]", "huge": "limit is 256.0 MiB [bad-file]",
                "directory": "directory, not a regular file [bad-file]",
                "dev_zero": "character device, not a regular file [bad-file]",
                "fifo": "FIFO, not a regular file [bad-file]", "long_line": "[line-too-long]",
                "bad_entry": "bad_entry:2:1: error: 'not-a-netmask' is not a valid netmasks entry"}
        for name, path in self.bad_files("set").items():
            with self.subTest(name):
                policy = self.work.path / f"set-{name}.dp"
                policy.write_text(self.policy(str(path)).replace("{port}", str(self.d.port))
                                  .replace("{control}", self.d.control))
                r = self.check(policy)
                self.assertEqual(r.returncode, 1, f"{name}: {r.returncode}\n{r.stdout}{r.stderr}")
                self.assertIn(os.path.basename(str(path)), r.stdout + r.stderr, name)
                self.assertIn(want[name], r.stdout + r.stderr, name)
                self.reload_rejected(policy, f"set file {name}")
        empty = self.work.path / "empty-set.txt"
        empty.write_text("")
        policy = self.work.path / "set-empty.dp"
        policy.write_text(self.policy(str(empty)).replace("{port}", str(self.d.port))
                          .replace("{control}", self.d.control))
        r = self.check(policy)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("[empty-set]", r.stdout + r.stderr)  # a warning
        r = subprocess.run([DNSPC, "reload", "--control", self.d.control, str(policy)],
                           capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertNotEqual(answer_a(self.d.port, "x.office.test."), "192.0.2.2")
        r = subprocess.run([DNSPC, "reload", "--control", self.d.control, str(self.good)],
                           capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assert_serving()


if __name__ == "__main__":
    unittest.main(verbosity=2)
