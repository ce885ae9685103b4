#!/usr/bin/env python3
"""The kernel fast path end to end (docs/xdp.md, "Tests"): `dnspc run` with
`xdp "dnspc0" mode generic;` in the server namespace of netns.py, NSD behind
it on 127.0.0.1, clients in their own namespaces behind a bridge.

- A flood from client1 is dropped by the XDP program: the kernel's counters
  move, the user-space counters of its rule and user space's query count
  do not.
- Normal queries from client2 are forwarded through user space to NSD and
  come back right; user space sees them marked as evaluated by the kernel.
- The kernel's own answers (NXDOMAIN, TC, REFUSED) are, byte for byte, the
  answers user space gives the same query arriving over loopback (where the
  XDP program does not run), with checksums a client's stack accepts.
- Odd and malformed datagrams (every truncation, one change at a time to
  header, name and OPT, random bytes, bit flips) get through the kernel
  exactly what user space alone gives them; a client's own Z bit sent over
  loopback is not taken for the kernel's sealed mark.
- A reload under the flood loses no normal query, and the new rule runs in
  the kernel as written.
- An interface that does not exist, and a process without the capabilities,
  each get one log line "running without the kernel fast path" saying why,
  and queries are still answered by user space.

Needs root; otherwise it prints why and exits 77 (CTest: skipped)."""

import contextlib
import ctypes
import fcntl
import os
import random
import re
import select
import socket
import struct
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns  # noqa: E402
from harness import Dnspc, Nsd, Workdir, ZONE, build_query, dns, wait_until  # noqa: E402

SERVER = netns.SERVER_ADDRESS
PORT = 53
WWW = "www." + ZONE  # NSD's answer: A 192.0.2.80
WWW_ADDRESS = "192.0.2.80"

POLICY = """
listen 198.18.0.1:{port};
control "{control}";
acl 127.0.0.0/8, 198.18.0.0/24;
xdp "dnspc0" mode generic;
option workers 2;
pool main { server NSD; }

rule flood:   src in 198.18.0.2/32 and qname suffix "flood.example." => drop;
rule nx:      qname suffix "gone.example." => rcode NXRCODE;
rule tc:      qtype == ANY => truncate;
rule refused: qname suffix "refused.example." => refuse;
rule fwd:     true => pool main;
"""

# Sends COUNT queries for distinct names under flood.example. to the server
# at about RATE a second (0: as fast as it can), then prints how many it sent.
FLOOD = r"""
import random, socket, struct, sys, time
server, port, count, rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
tag = "%06x" % random.randrange(1 << 24)
start = time.monotonic()
for i in range(count):
    labels = [("q%d" % i).encode(), tag.encode(), b"flood", b"example"]
    name = b"".join(bytes([len(l)]) + l for l in labels) + b"\0"
    s.sendto(struct.pack("!HHHHHH", i & 0xffff, 0x0100, 1, 0, 0, 0) + name + struct.pack("!HH", 1, 1),
             (server, port))
    if rate and i % 50 == 49:
        ahead = start + (i + 1) / rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
print(count, flush=True)
"""

SIOCETHTOOL = 0x8946
ETHTOOL_STXCSUM = 0x17


def checksums_in_software(net, ns):
    """Turns off the transmit checksum offload of the namespace's interface
    (ethtool -K IF tx off, by ioctl): its datagrams then leave with their
    full UDP checksum and arrive without the "verified" mark a veth passes
    along, so the receiving stack checks every checksum, the one the XDP
    program rewrites when it marks a query and the one of its answers."""
    value = ctypes.create_string_buffer(struct.pack("II", ETHTOOL_STXCSUM, 0))
    ifreq = struct.pack("16sP", ns.interface.encode(), ctypes.addressof(value)).ljust(40, b"\0")
    with net.entered(ns):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with s:
        fcntl.ioctl(s.fileno(), SIOCETHTOOL, ifreq)


def udp_checksum_errors(net, ns):
    """Udp InCsumErrors of the namespace (/proc/net/snmp is per namespace)."""
    lines = [l.split() for l in net.run_in(ns, ["cat", "/proc/net/snmp"], check=True).stdout.splitlines()
             if l.startswith("Udp:")]
    return int(dict(zip(lines[0][1:], lines[1][1:]))["InCsumErrors"])


def dropped_on_the_way(net):
    """Datagrams a veth could not hand to its peer (its tx_dropped: the
    peer's backlog was full) on the flood's way: client1's eth0 into the
    bridge, the bridge's port0 into dnspc0. Those never reach the program."""
    def tx_dropped(ns, interface):
        path = f"/sys/class/net/{interface}/statistics/tx_dropped"
        return int(net.run_in(ns, ["cat", path], check=True).stdout)
    return tx_dropped(net.client(0), "eth0") + tx_dropped(net.switch, "port0")


def prometheus(text):
    """{(name, ((label, value), ...)): value} of a Prometheus exposition."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"^(\w+)(?:\{(.*)\})? (\S+)$", line)
        if m:
            labels = tuple(sorted(re.findall(r'(\w+)="([^"]*)"', m.group(2) or "")))
            out[(m.group(1), labels)] = float(m.group(3))
    return out


def ones_complement_sum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return total


class Capture:
    """Frames arriving on a client's interface (AF_PACKET), to read the IP and
    UDP headers of the server's answers as they came off the wire."""

    def __init__(self, net, ns):
        with net.entered(ns):
            self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
            self.sock.bind((ns.interface, 0x0800))

    def close(self):
        self.sock.close()

    def answer_frame(self, qid, timeout=2.0):
        """(ip header, udp header, dns payload) of the answer with this ID from the server."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.sock], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            frame = self.sock.recv(65535)
            ip = frame[14:]
            ihl = (ip[0] & 0xf) * 4
            if ip[9] != 17 or socket.inet_ntoa(ip[12:16]) != SERVER:
                continue
            udp = ip[ihl:ihl + 8]
            payload = ip[ihl + 8:struct.unpack("!H", ip[2:4])[0]]
            if struct.unpack("!H", udp[0:2])[0] == PORT and payload[:2] == struct.pack("!H", qid):
                return ip[:ihl], udp, payload
        return None


def exchange(net, ns, packet, timeout=2.0):
    """Sends raw query bytes from `ns` to the listener; the answer bytes, or None."""
    with net.entered(ns):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with s:
        s.settimeout(timeout)
        s.sendto(packet, (SERVER, PORT))
        try:
            return s.recv(65535)
        except socket.timeout:
            return None


def ask(net, ns, name, rdtype="A", timeout=2.0, **kw):
    """One dnspython query from `ns` (its socket is made inside)."""
    with net.entered(ns):
        return dns.query.udp(dns.message.make_query(name, rdtype, **kw), SERVER, port=PORT, timeout=timeout)


def query_with_cookie(name, qid):
    """A query whose OPT carries a client cookie (RFC 7873): options the kernel parses past."""
    q = build_query(name, qid=qid, edns=(4096, 0, True))
    cookie = struct.pack("!HH", 10, 8) + bytes(range(1, 9))
    return q[:-2] + struct.pack("!H", len(cookie)) + cookie


def odd_packets():
    """(what, bytes) of datagrams that are not plain queries: every
    truncation of a query the kernel answers (EDNS with a cookie option),
    one change at a time to its header, name and OPT record, and random
    bytes and bit flips (seeded, so a failure repeats)."""
    rng = random.Random(20)
    base = query_with_cookie("t.gone.example.", 0x0a0b)
    plain = build_query("u.gone.example.", qid=0x0c0d)
    out = [(f"{n} bytes of {len(base)}", base[:n]) for n in range(len(base))]
    out += [(f"{n} bytes of {len(plain)} (no EDNS)", plain[:n]) for n in range(12, len(plain))]

    def header(packet, flags=None, counts=None):
        qid, f, *c = struct.unpack("!HHHHHH", packet[:12])
        return struct.pack("!HHHHHH", qid, f if flags is None else flags, *(counts or c)) + packet[12:]

    name = b"\x01v\x04gone\x07example\x00"
    question = lambda n, qtype=1, qclass=1: struct.pack("!HHHHHH", 0x0e0f, 0x0100, 1, 0, 0, 0) + n + \
        struct.pack("!HH", qtype, qclass)  # noqa: E731
    opt = lambda payload=4096, version=0, rdata=b"", owner=b"\0": owner + struct.pack(  # noqa: E731
        "!HHBBHH", 41, payload, 0, version, 0x8000, len(rdata)) + rdata
    with_ar = lambda packet, n: header(packet, counts=(1, 0, 0, n))  # noqa: E731
    out += [
        ("QR=1", header(plain, flags=0x8100)),
        ("TC=1", header(plain, flags=0x0300)),
        ("Z=1", header(plain, flags=0x0140)),
        ("AA=1", header(plain, flags=0x0500)),
        ("rcode 3 in a query", header(plain, flags=0x0103)),
        ("qdcount 0", header(plain, counts=(0, 0, 0, 0))),
        ("qdcount 2", header(plain, counts=(2, 0, 0, 0))),
        ("ancount 1", header(plain, counts=(1, 1, 0, 0))),
        ("nscount 1", header(plain, counts=(1, 0, 1, 0))),
        ("arcount 1, no record", header(plain, counts=(1, 0, 0, 1))),
        ("arcount 2, one OPT", header(base, counts=(1, 0, 0, 2))),
        ("bytes after the question", plain + b"\0\0\0\0"),
        ("bytes after the OPT", base + b"\xff"),
        ("label of 64 (bad type)", question(b"\x40" + b"a" * 64 + b"\x04gone\x07example\x00")),
        ("label type 0x80", question(b"\x81a\x04gone\x07example\x00")),
        ("compression pointer to the header", question(b"\xc0\x00")),
        ("compression pointer to itself", question(b"\xc0\x0c")),
        ("pointer after a label", question(b"\x01v\xc0\x0c")),
        ("name of 256 bytes", question(b"\x01a" * 127 + b"\x01b\x00")),
        ("name of 255 bytes", question(b"\x01a" * 126 + b"\x02bb\x00")),
        ("a NUL inside a label", question(b"\x03v\x00w\x04gone\x07example\x00")),
        ("a dot inside a label", question(b"\x03v.w\x04gone\x07example\x00")),
        ("upper-case name", question(b"\x01V\x04GONE\x07EXAMPLE\x00")),
        ("root name", question(b"\x00")),
        ("class CH", question(name, qclass=3)),
        ("class ANY", question(name, qclass=255)),
        ("qtype 0", question(name, qtype=0)),
        ("qtype AXFR", question(name, qtype=252)),
        ("qtype ANY", question(name, qtype=255)),
        ("opcode NOTIFY", header(plain, flags=0x2100)),
        ("opcode UPDATE", header(plain, flags=0x2900)),
        ("opcode 15", header(plain, flags=0x7900)),
        ("OPT version 1", with_ar(question(name), 1) + opt(version=1)),
        ("OPT payload 0", with_ar(question(name), 1) + opt(payload=0)),
        ("OPT payload 65535", with_ar(question(name), 1) + opt(payload=65535)),
        ("OPT owner not the root", with_ar(question(name), 1) + opt(owner=b"\x01x\x00")),
        ("OPT rdlength past the end", with_ar(question(name), 1) + opt()[:-2] + b"\x00\x10"),
        ("OPT option past its rdata", with_ar(question(name), 1) + opt(rdata=b"\x00\x0a\x00\x10abcd")),
        ("two OPTs", with_ar(question(name), 2) + opt() + opt()),
        ("OPT and a second record", with_ar(question(name), 2) + opt() + b"\0" + struct.pack("!HHIH", 1, 1, 0, 4) +
         bytes(4)),
        ("ECS option", with_ar(question(name), 1) + opt(rdata=struct.pack("!HHHBB", 8, 7, 1, 24, 0) + bytes(3))),
    ]
    for i in range(150):
        out.append((f"random {i}", bytes(rng.randrange(256) for _ in range(rng.randrange(0, 300)))))
    for i in range(150):
        flipped = bytearray(base)
        for _ in range(rng.randrange(1, 4)):
            flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
        out.append((f"bit flips {i}", bytes(flipped)))
    return out


def exchange_all(ns, packets, wait=1.5):
    """Sends each datagram from `ns` on a socket of its own (so answers are
    told apart by port, whatever their bytes), all at once; the answer to
    each, or None, after `wait` seconds without a new one."""
    answers = [None] * len(packets)
    with net.entered(ns):
        socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in packets]
    try:
        for s, p in zip(socks, packets):
            s.setblocking(False)
            s.sendto(p, (SERVER, PORT))
        index = {s.fileno(): i for i, s in enumerate(socks)}
        waiting = list(socks)
        while waiting:
            ready, _, _ = select.select(waiting, [], [], wait)
            if not ready:
                break
            for s in ready:
                answers[index[s.fileno()]] = s.recv(65535)
                waiting.remove(s)
    finally:
        for s in socks:
            s.close()
    return answers


def setUpModule():
    global net, work, nsd
    net = netns.Topology(clients=2).__enter__()
    unittest.addModuleCleanup(net.close)
    work = Workdir()
    unittest.addModuleCleanup(work.cleanup)
    # NSD listens on 127.0.0.1 and ::1 (harness.Nsd); the namespace has IPv6
    # off everywhere, so give it back to its loopback only.
    net.run_in(net.server, ["sysctl", "-qw", "net.ipv6.conf.lo.disable_ipv6=0"], check=True)
    for client in net.clients:
        checksums_in_software(net, client)
    with net.entered(net.server):
        nsd = Nsd(work.path, "nsd-a").start()
    unittest.addModuleCleanup(nsd.kill)


def start_dnspc(policy, port=PORT, wrapper=()):
    """`dnspc run` in the server namespace (started from a thread inside it)."""
    text = policy.replace("NSD", nsd.server("127.0.0.1"))
    with net.entered(net.server):
        return Dnspc(work.path, text, port=port, wrapper=wrapper)


class FastPath(unittest.TestCase):
    """One dnspc with the fast path on dnspc0; the tests run in name order
    and the last one reloads."""

    @classmethod
    def setUpClass(cls):
        cls.d = start_dnspc(POLICY.replace("NXRCODE", "NXDOMAIN"))
        cls.addClassCleanup(cls.d.stop)
        stats = cls.d.stats()
        if not stats["kernel"]["attached"]:
            raise AssertionError(f"the fast path did not attach:\n{cls.d.log_text()}")

    def metrics(self):
        return prometheus(self.d.ctl_text("metrics"))

    def rule_hits(self, rule, path):
        return self.metrics().get(("dnspc_rule_hits_total", (("path", path), ("rule", rule))), 0)

    def wait_rule_hits(self, rule, path, at_least, what):
        # The kernel's counters are copied into the registry once a second.
        wait_until(lambda: self.rule_hits(rule, path) >= at_least, 4, 0.1, what)

    def flood(self, count, rate=0):
        """The flood generator, started in client1."""
        return net.popen_in(net.client(0), [sys.executable, "-c", FLOOD, SERVER, str(PORT), str(count), str(rate)],
                            stdout=subprocess.PIPE, text=True)

    # ------------------------------------------------------------ 1. the flood

    def test_1_flood_is_dropped_in_the_kernel(self):
        before = self.d.stats()
        kernel_before = self.rule_hits("flood", "kernel")
        dropped_before = dropped_on_the_way(net)
        flood = self.flood(5000)
        out, _ = flood.communicate(timeout=30)
        self.assertEqual(int(out), 5000)
        arrived = 5000 - (dropped_on_the_way(net) - dropped_before)
        self.wait_rule_hits("flood", "kernel", kernel_before + arrived, "the kernel's flood hits to count the flood")
        after = self.d.stats()
        m = self.metrics()
        self.assertEqual(self.rule_hits("flood", "kernel") - kernel_before, arrived)
        self.assertEqual(m.get(("dnspc_rule_hits_total", (("path", "user"), ("rule", "flood"))), 0), 0)
        self.assertGreaterEqual(m[("dnspc_queries_total", (("action", "drop"), ("path", "kernel")))], arrived)
        self.assertEqual(m[("dnspc_queries_total", (("action", "drop"), ("path", "user")))], 0)
        self.assertGreaterEqual(after["kernel"]["packets"]["seen"] - before["kernel"]["packets"]["seen"], arrived)
        # User space never saw them: its query count did not move.
        self.assertEqual(after["queries"], before["queries"])
        self.assertEqual(after["rules"]["flood"] - before["rules"]["flood"], arrived)  # the document: kernel + user

    def test_1_the_flood_rule_holds_only_for_its_source(self):
        # The same names from client2: not the flood rule's source, so up to
        # user space and NSD, which is not authoritative for them.
        r = ask(net, net.client(1), "q1.flood.example.")
        self.assertEqual(r.rcode(), dns.rcode.REFUSED)
        self.assertFalse(r.flags & dns.flags.RA)  # NSD's answer, not one of ours
        self.assertEqual(self.rule_hits("flood", "user"), 0)

    # ------------------------------------------------------------ 2. normal queries

    def test_2_normal_queries_go_through_user_space_to_nsd(self):
        before = self.d.stats()
        fwd_before = self.rule_hits("fwd", "user")
        for i in range(20):
            r = ask(net, net.client(1), WWW if i % 2 else WWW.upper())
            self.assertEqual(r.rcode(), dns.rcode.NOERROR)
            self.assertTrue(r.flags & dns.flags.AA)  # NSD's
            self.assertEqual([rd.address for rd in r.answer[0]], [WWW_ADDRESS])
        after = self.d.stats()
        self.assertEqual(after["queries"] - before["queries"], 20)
        self.assertEqual(after["kernel"]["marked"] - before["kernel"]["marked"], 20)
        self.assertEqual(self.rule_hits("fwd", "user") - fwd_before, 20)
        self.assertEqual(self.rule_hits("fwd", "kernel"), 0)
        wait_until(lambda: self.d.stats()["kernel"]["packets"]["passed"] - before["kernel"]["packets"]["passed"] >= 20,
                   4, 0.1, "the kernel to count the queries it passed up")

    # ------------------------------------------------------------ 3. the kernel's answers

    def check_kernel_answer(self, query, rcode, truncated):
        """The answer the XDP program sends from client2's view, against the
        one user space sends for the same bytes over loopback."""
        qid = struct.unpack("!H", query[:2])[0]
        capture = Capture(net, net.client(1))
        try:
            kernel = exchange(net, net.client(1), query)
            frame = capture.answer_frame(qid)
        finally:
            capture.close()
        user = exchange(net, net.server, query)
        self.assertIsNotNone(kernel, "no answer from the kernel")
        self.assertIsNotNone(user, "no answer from user space over loopback")
        self.assertEqual(kernel.hex(), user.hex(), "the kernel's answer differs from user space's")
        # What a client sees, spelled out.
        name_end = query.index(b"\0", 12) + 1
        question_end = name_end + 4
        flags_in = struct.unpack("!H", query[2:4])[0]
        qid_out, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", kernel[:12])
        edns = len(query) > question_end
        self.assertEqual(qid_out, qid)
        self.assertEqual(kernel[12:question_end], query[12:question_end])  # the question, case kept
        self.assertTrue(flags & 0x8000)  # QR
        self.assertEqual(flags & 0x7800, flags_in & 0x7800)  # opcode
        self.assertEqual(flags & 0x0100, flags_in & 0x0100)  # RD
        self.assertEqual(bool(flags & 0x0080), bool(flags_in & 0x0100))  # RA when RD
        self.assertEqual(flags & 0x0010, flags_in & 0x0010)  # CD
        self.assertFalse(flags & 0x0400)  # AA
        self.assertEqual(bool(flags & 0x0200), truncated)  # TC
        self.assertEqual(flags & 0xf, rcode)
        self.assertEqual((qd, an, ns, ar), (1, 0, 0, 1 if edns else 0))
        if edns:
            do = query[question_end + 7] & 0x80
            self.assertEqual(kernel[question_end:], b"\0\0\x29\x04\xd0\0\0" + bytes([do]) + b"\0\0\0")
        else:
            self.assertEqual(len(kernel), question_end)
        # dnspython reads it as well.
        msg = dns.message.from_wire(kernel)
        self.assertEqual(msg.rcode(), rcode)
        # The frame as it came: addresses and ports turned around, checksums right.
        self.assertIsNotNone(frame, "the answer was not seen on client2's interface")
        ip, udp, payload = frame
        self.assertEqual(payload, kernel)
        self.assertEqual(ones_complement_sum(ip), 0xffff, "IPv4 header checksum")
        self.assertEqual(socket.inet_ntoa(ip[16:20]), net.client(1).address)
        sport, dport, length, check = struct.unpack("!HHHH", udp)
        self.assertEqual((sport, length), (PORT, 8 + len(kernel)))
        pseudo = ip[12:20] + struct.pack("!HH", 17, length)
        self.assertNotEqual(check, 0)
        self.assertEqual(ones_complement_sum(pseudo + udp + payload), 0xffff, "UDP checksum")

    def test_3_kernel_answers_are_the_bytes_user_space_sends(self):
        hits_before = {r: self.rule_hits(r, "kernel") for r in ("nx", "tc", "refused")}
        user_before = {r: self.rule_hits(r, "user") for r in ("nx", "tc", "refused")}
        cases = [
            ("nx, RD, no EDNS, mixed case", build_query("MiXeD.Gone.Example.", qid=0x1234), 3, False, "nx"),
            ("nx, RD+CD, EDNS 4096 DO", build_query("a.gone.example.", qid=0x2345, flags=0x0110,
                                                    edns=(4096, 0, True)), 3, False, "nx"),
            ("nx, EDNS with a cookie option", query_with_cookie("c.gone.example.", 0x3456), 3, False, "nx"),
            ("tc, ANY, RD, EDNS 1232 no DO", build_query(WWW, qtype=255, qid=0x4567, edns=(1232, 0, False)),
             0, True, "tc"),
            ("tc, ANY, no RD, no EDNS", build_query(WWW, qtype=255, qid=0x5678, flags=0), 0, True, "tc"),
            ("refused, no RD, EDNS 512 DO", build_query("x.Refused.example.", qid=0x6789, flags=0,
                                                        edns=(512, 0, True)), 5, False, "refused"),
        ]
        counts = {"nx": 0, "tc": 0, "refused": 0}
        for what, query, rcode, truncated, rule in cases:
            with self.subTest(what):
                self.check_kernel_answer(query, rcode, truncated)
            counts[rule] += 1
        # Each query was answered once by the kernel (client2) and once by user space (loopback).
        for rule, n in counts.items():
            self.wait_rule_hits(rule, "kernel", hits_before[rule] + n, f"kernel hits of {rule}")
            self.assertEqual(self.rule_hits(rule, "kernel") - hits_before[rule], n, rule)
            self.assertEqual(self.rule_hits(rule, "user") - user_before[rule], n, rule)

    def test_3_dig_reads_the_kernels_answer(self):
        nx_before = self.rule_hits("nx", "kernel")
        done = net.run_in(net.client(1), ["dig", f"@{SERVER}", "-p", str(PORT), "+tries=1", "+time=2", "+dnssec",
                                          "+bufsize=4096", "x.gone.example.", "A"], check=True)
        self.assertIn("status: NXDOMAIN", done.stdout)
        self.assertRegex(done.stdout, r"flags: qr rd ra;")
        self.assertRegex(done.stdout, r"; EDNS: version: 0, flags: do; udp: 1232")
        self.wait_rule_hits("nx", "kernel", nx_before + 1, "dig's query counted in the kernel")

    def test_3_no_checksum_errors(self):
        # Marking rewrites the UDP checksum of every query passed up; the
        # answers carry one of their own. Neither stack found a bad one.
        nx_before = self.rule_hits("nx", "kernel")
        self.assertEqual(ask(net, net.client(1), WWW).rcode(), dns.rcode.NOERROR)
        self.assertEqual(ask(net, net.client(1), "y.gone.example.").rcode(), dns.rcode.NXDOMAIN)
        self.assertEqual(udp_checksum_errors(net, net.server), 0)
        self.assertEqual(udp_checksum_errors(net, net.client(1)), 0)
        self.wait_rule_hits("nx", "kernel", nx_before + 1, "the query counted in the kernel")

    def test_3_odd_and_malformed_packets_get_what_user_space_gives(self):
        """Every truncation of a query the kernel answers, a change at a time
        to its header, name and OPT, and random bytes and bit flips, sent
        from client2 (through the XDP program) and over loopback (user space
        only): the same answer or the same silence for each. The kernel may
        answer only what user space would answer with the same bytes; the
        rest it passes up, where a malformed one is counted and dropped.
        Afterwards the kernel's counters still account for every packet and
        a normal query is answered."""
        cases = odd_packets()
        malformed_before = sum(self.d.stats()["malformed"].values())
        answers, wrong = {}, []
        for start in range(0, len(cases), 100):  # 100 sockets at a time
            chunk = [p for _, p in cases[start:start + 100]]
            through_kernel = exchange_all(net.client(1), chunk)
            user_only = exchange_all(net.server, chunk)
            for i, (kernel, user) in enumerate(zip(through_kernel, user_only)):
                what = cases[start + i][0]
                answers[what] = kernel
                if kernel != user:
                    wrong.append(f"{what}: through the kernel {kernel.hex() if kernel else None}, "
                                 f"user space {user.hex() if user else None}")
        self.assertEqual(wrong, [], "\n".join(wrong))
        # The oracle is not silent: both paths answered some and dropped others.
        self.assertIsNone(answers["11 bytes of %d" % len(query_with_cookie("t.gone.example.", 0))])
        self.assertIsNotNone(answers["upper-case name"])
        self.assertIsNone(answers["compression pointer to itself"])
        # A client's own Z bit is not the kernel's mark: over loopback (where
        # IP_PKTINFO names dnspc0 all the same) the nx rule still ran.
        self.assertEqual(answers["Z=1"][3] & 0xf, dns.rcode.NXDOMAIN)
        self.assertGreater(sum(self.d.stats()["malformed"].values()) - malformed_before, 2 * 12)
        wait_until(self.kernel_accounts_for_every_packet, 3, 0.1, "seen = unparsed + blocked + passed + rule hits")
        self.assertEqual(ask(net, net.client(1), WWW).answer[0][0].address, WWW_ADDRESS)
        self.assertEqual(ask(net, net.client(1), "v.gone.example.").rcode(), dns.rcode.NXDOMAIN)

    # ------------------------------------------------------------ 4. reload under the flood

    def kernel_accounts_for_every_packet(self):
        """What the program saw equals what it did: each packet it saw was
        unparsed, blocked, passed up, or a hit of one rule. Holds once the
        counters have been copied while nothing arrives."""
        stats = self.d.stats()
        packets = stats["kernel"]["packets"]
        hits = sum(v for (name, labels), v in self.metrics().items()
                   if name == "dnspc_rule_hits_total" and ("path", "kernel") in labels)
        return packets["seen"] == packets["unparsed"] + packets["blocked"] + packets["passed"] + hits

    def test_4_reloads_under_the_flood_lose_no_normal_query(self):
        flood_kernel_before = self.rule_hits("flood", "kernel")
        queries_before = self.d.stats()["queries"]
        dropped_before = dropped_on_the_way(net)
        # Fast enough that the swaps happen with packets in flight (the old
        # program's counts were once read before it was replaced, and lost).
        flood = self.flood(200000)  # as fast as it goes: about 2-4 s
        stream = 700  # 200 a second for 3.5 s
        results = []  # (index, what went wrong or None)

        def steady():
            # From client2, each query waited for (no retry).
            with net.entered(net.client(1)):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            with s:
                start = time.monotonic()
                for i in range(stream):
                    time.sleep(max(0.0, start + i / 200 - time.monotonic()))
                    q = dns.message.make_query(WWW, "A")
                    try:
                        r = dns.query.udp(q, SERVER, port=PORT, timeout=2.0, sock=s)
                    except dns.exception.Timeout:
                        results.append((i, "timeout"))
                        continue
                    addresses = [rd.address for rrset in r.answer for rd in rrset if rrset.rdtype == 1]
                    results.append((i, None if r.rcode() == 0 and addresses == [WWW_ADDRESS]
                                    else f"{dns.rcode.to_text(r.rcode())} {addresses}"))

        thread = threading.Thread(target=steady)
        thread.start()
        time.sleep(0.8)
        # Three reloads (the kernel program replaced three times), ending with nx => SERVFAIL.
        text = self.d.policy_path.read_text()
        for rcode in ("SERVFAIL", "NXDOMAIN", "SERVFAIL"):
            self.d.policy_path.write_text(text.replace("rcode NXDOMAIN", f"rcode {rcode}"))
            reload = self.d.ctl("reload")
            self.assertTrue(reload.get("ok"), reload)
        # Once the reload has answered, the kernel runs the new rule.
        nx_kernel_before = self.rule_hits("nx", "kernel")
        r = ask(net, net.client(1), "z.gone.example.", use_edns=0, want_dnssec=True)
        self.assertEqual(r.rcode(), dns.rcode.SERVFAIL)
        self.assertTrue(r.flags & dns.flags.RA)
        self.check_kernel_answer(build_query("w.gone.example.", qid=0x789a, edns=(1232, 0, True)), 2, False)
        thread.join(timeout=30)
        out, _ = flood.communicate(timeout=30)
        sent = int(out)

        self.assertEqual(len(results), stream)
        lost = [(i, what) for i, what in results if what]
        self.assertEqual(lost, [], f"{len(lost)} of {stream} normal queries went wrong around the reloads")
        self.wait_rule_hits("nx", "kernel", nx_kernel_before + 2, "the new nx rule's kernel hits")
        # Every flood query that reached dnspc0 was counted in the kernel, across the three swaps.
        dropped = dropped_on_the_way(net) - dropped_before
        arrived = sent - dropped
        with contextlib.suppress(AssertionError):
            self.wait_rule_hits("flood", "kernel", flood_kernel_before + arrived, "the flood's kernel hits")
        self.assertEqual(self.rule_hits("flood", "kernel") - flood_kernel_before, arrived,
                         f"flood queries counted in the kernel, of {sent} sent ({dropped} dropped by the veths)")
        wait_until(self.kernel_accounts_for_every_packet, 3, 0.1, "seen = unparsed + blocked + passed + rule hits")
        # Not one flood query reached user space, before, during or after the swaps.
        self.assertEqual(self.rule_hits("flood", "user"), 0)
        stats = self.d.stats()
        self.assertEqual(stats["kernel"]["attached"], 1)
        self.assertEqual(stats["queries"] - queries_before, stream + 1)  # and check_kernel_answer's loopback one
        log = self.d.log_text()
        self.assertEqual(log.count("running without the kernel fast path"), 0, log)


class WithoutFastPath(unittest.TestCase):
    """The fast path cannot run: dnspc says why once and answers in user space."""

    def check_runs_without(self, d, reason_has):
        wait_until(lambda: "running without the kernel fast path" in d.log_text(), 5, 0.05, "the log line")
        with net.entered(net.client(1)):
            r = dns.query.udp(dns.message.make_query(WWW, "A"), SERVER, port=d.port, timeout=2.0)
            nx = dns.query.udp(dns.message.make_query("a.gone.example.", "A"), SERVER, port=d.port, timeout=2.0)
        self.assertEqual([rd.address for rd in r.answer[0]], [WWW_ADDRESS])
        self.assertEqual(nx.rcode(), dns.rcode.NXDOMAIN)
        stats = d.stats()
        self.assertEqual(stats["kernel"]["attached"], 0)
        self.assertEqual(stats["kernel"]["marked"], 0)
        self.assertEqual(stats["queries"], 2)
        metrics = prometheus(d.ctl_text("metrics"))
        self.assertEqual(metrics[("dnspc_rule_hits_total", (("path", "user"), ("rule", "nx")))], 1)
        self.assertEqual(metrics[("dnspc_xdp_attached", ())], 0)
        # A reload of the same policy does not say it again.
        reload = d.ctl("reload")
        self.assertTrue(reload.get("ok"), reload)
        log = d.log_text()
        lines = [l for l in log.splitlines() if "running without the kernel fast path" in l]
        self.assertEqual(len(lines), 1, log)
        for word in reason_has:
            self.assertIn(word, lines[0])
        return lines[0]

    def test_5_an_interface_that_does_not_exist(self):
        policy = POLICY.replace("NXRCODE", "NXDOMAIN").replace('"dnspc0"', '"nosuchif0"')
        d = start_dnspc(policy, port=5353)
        self.addCleanup(d.stop)
        self.check_runs_without(d, ["reason=", "nosuchif0", "does not exist"])

    def test_5_a_process_without_the_capabilities(self):
        # Root without any capability (a high port needs none).
        d = start_dnspc(POLICY.replace("NXRCODE", "NXDOMAIN"), port=5354,
                        wrapper=["setpriv", "--inh-caps=-all", "--bounding-set=-all"])
        self.addCleanup(d.stop)
        self.check_runs_without(d, ["reason=", "CAP_"])


if __name__ == "__main__":
    reason = netns.skip_reason()
    if reason:
        print(f"SKIPPED: {reason}")
        sys.exit(77)
    started = time.monotonic()
    result = unittest.main(exit=False, verbosity=2).result
    print(f"{time.monotonic() - started:.1f} s")
    sys.exit(0 if result.wasSuccessful() else 1)
