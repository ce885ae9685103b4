#!/usr/bin/env python3
"""The namespace topology of the XDP end-to-end tests (netns.py), proven on
itself: each client reaches the server with its own source address, an XDP
program on the server's interface sees (and can drop) the clients' packets,
and nothing is left behind, even when the test body fails.

Needs root; otherwise it prints why and exits 77 (CTest: skipped)."""

import os
import select
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns  # noqa: E402

# A UDP echo that answers each datagram with the source address it saw.
ECHO = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
print("ready", flush=True)
while True:
    data, peer = s.recvfrom(512)
    s.sendto(peer[0].encode() + b" " + data, peer)
"""
ECHO_PORT = 7007

# The smallest XDP program that drops everything (return XDP_DROP), as an
# object `ip link set ... xdpgeneric obj` loads.
DROP_C = """
__attribute__((section("xdp"), used)) int xdp_drop(void* ctx) { (void)ctx; return 1; }
__attribute__((section("license"), used)) char _license[] = "GPL";
"""


def ask(net, client, payload, timeout=2.0):
    """Sends payload from `client` to the echo; its reply, or None on timeout."""
    with net.entered(client):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with s:
        s.settimeout(timeout)
        s.sendto(payload, (netns.SERVER_ADDRESS, ECHO_PORT))
        try:
            return s.recv(512)
        except socket.timeout:
            return None


class TopologyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.net = netns.Topology(clients=2).__enter__()
        cls.addClassCleanup(cls.net.close)
        cls.echo = cls.net.popen_in(cls.net.server, [sys.executable, "-c", ECHO, str(ECHO_PORT)],
                                    stdout=subprocess.PIPE, text=True)
        cls.addClassCleanup(cls.echo.stdout.close)
        ready, _, _ = select.select([cls.echo.stdout], [], [], 10)
        if not ready or cls.echo.stdout.readline().strip() != "ready":
            raise RuntimeError("the echo server did not start in the server namespace")

    def test_each_client_reaches_the_server_from_its_own_address(self):
        rx_before, _ = self.net.interface_counters(self.net.server)
        for client in self.net.clients:
            reply = ask(self.net, client, b"hello")
            self.assertEqual(reply, client.address.encode() + b" hello")
        rx_after, _ = self.net.interface_counters(self.net.server)
        # The datagrams came in through dnspc0, the interface XDP goes on.
        self.assertGreaterEqual(rx_after - rx_before, len(self.net.clients))

    def test_the_test_process_stays_in_its_own_namespace(self):
        with self.net.entered(self.net.server):
            inside = os.readlink("/proc/thread-self/ns/net")
        self.assertNotEqual(inside, os.readlink("/proc/thread-self/ns/net"))
        # Processes see the namespace's own interfaces.
        links = self.net.run_in(self.net.server, ["ip", "-o", "link"], check=True).stdout
        self.assertIn(netns.SERVER_INTERFACE + "@", links)
        self.assertNotIn("eth0", links)

    def test_xdp_on_the_server_interface_sees_the_clients_packets(self):
        with tempfile.TemporaryDirectory() as tmp:
            source, obj = os.path.join(tmp, "drop.c"), os.path.join(tmp, "drop.o")
            with open(source, "w") as f:
                f.write(DROP_C)
            subprocess.run(["clang-19", "-O2", "-target", "bpf", "-c", source, "-o", obj], check=True)
            self.assertIsNotNone(ask(self.net, self.net.client(0), b"before"))
            self.net.run_in(self.net.server, ["ip", "link", "set", "dev", netns.SERVER_INTERFACE,
                                              "xdpgeneric", "obj", obj, "sec", "xdp"], check=True)
            try:
                for client in self.net.clients:
                    self.assertIsNone(ask(self.net, client, b"dropped", timeout=0.5))
            finally:
                self.net.run_in(self.net.server, ["ip", "link", "set", "dev", netns.SERVER_INTERFACE,
                                                  "xdpgeneric", "off"], check=True)
        self.assertEqual(ask(self.net, self.net.client(1), b"after"),
                         self.net.client(1).address.encode() + b" after")


class CleanupTest(unittest.TestCase):
    def test_a_failing_body_still_removes_namespaces_and_processes(self):
        with self.assertRaises(RuntimeError):
            with netns.Topology(clients=1) as net:
                names = [ns.name for ns in net.namespaces()]
                sleeper = net.popen_in(net.server, ["sleep", "60"])
                raise RuntimeError("the test body failed")
        self.assertIsNotNone(sleeper.poll())
        listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        for name in names:
            self.assertNotIn(name, listed)

    def test_a_killed_run_is_cleaned_up_by_the_next(self):
        # A child builds a topology and dies by SIGKILL: no cleanup of its own runs.
        child = subprocess.Popen([sys.executable, "-c",
                                  "import os, sys, signal; sys.path.insert(0, sys.argv[1]); import netns\n"
                                  "t = netns.Topology(clients=1).__enter__()\n"
                                  "print(t.server.name, flush=True)\n"
                                  "os.kill(os.getpid(), signal.SIGKILL)",
                                  os.path.dirname(os.path.abspath(__file__))],
                                 stdout=subprocess.PIPE, text=True)
        with child.stdout:
            orphan = child.stdout.readline().strip()
        child.wait(timeout=10)
        self.assertTrue(orphan)
        listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        self.assertIn(orphan, listed)
        with netns.Topology(clients=1):
            pass
        listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        self.assertNotIn(orphan, listed)


if __name__ == "__main__":
    reason = netns.skip_reason()
    if reason:
        print(f"SKIPPED: {reason}")
        sys.exit(77)
    started = time.monotonic()
    result = unittest.main(exit=False, verbosity=2).result
    print(f"{time.monotonic() - started:.1f} s")
    sys.exit(0 if result.wasSuccessful() else 1)
