#!/usr/bin/env python3
"""The console (docs/console.md) through the real client and the real
protocol, against `dnspc run` forwarding to NSD under traffic: every function
in an authenticated session; refused without a key, with a wrong key and from
outside console_acl (counted, logged, nothing run); a frame over the cap
refused before anything is allocated (RSS does not move); a replayed or
tampered frame ends the session; 1,000 half-open connections do not keep a
client out; -e exit codes; --json parses; Tab completion in tmux."""

import hashlib
import json
import os
import resource
import shutil
import socket
import struct
import subprocess
import time
import unittest

from harness import DNSPC, SANITIZED, ZONE, Dnspc, Nsd, Workdir, dns, free_port, query, rss_kib, wait_until
from test_reload import dnsperf

import nacl.bindings as nb  # after harness: it finds Debian's packages for a Python without them

KEY = bytes(range(32))
WRONG_KEY = bytes(32)


def b64(key):
    import base64
    return base64.b64encode(key).decode()


# ---------------------------------------------------------------- the raw protocol (docs/console.md)

def mac(key, *parts):
    return hashlib.blake2b(b"".join(parts), digest_size=32, key=key).digest()


class Raw:
    """A console client written from docs/console.md, to send what the real
    client never would."""

    def __init__(self, port, key=KEY, source=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.settimeout(5)
        if source:
            self.sock.bind((source, 0))
        self.sock.connect(("127.0.0.1", port))
        self.key = key

    def handshake(self):
        pk, sk = nb.crypto_kx_keypair()
        hello = b"DNSPC-C1" + pk
        hello += mac(self.key, hello)
        self.sock.sendall(hello)
        reply = self.read(72)
        assert reply[:8] == b"DNSPC-S1", reply
        assert mac(self.key, hello, reply[:40]) == reply[40:], "the server did not prove the key"
        rx, tx = nb.crypto_kx_client_session_keys(pk, sk, reply[8:40])
        transcript = hashlib.blake2b(hello + reply, digest_size=32).digest()
        self.send_key = mac(self.key, b"dnspc console c2s", tx, transcript)
        self.receive_key = mac(self.key, b"dnspc console s2c", rx, transcript)
        self.sent = self.received = 0

    def read(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise ConnectionError("closed")
            out += chunk
        return out

    def frame(self, message):
        length = struct.pack(">I", len(message) + 16)
        nonce = struct.pack(">Q", self.sent) + bytes(16)
        self.sent += 1
        return length + nb.crypto_aead_xchacha20poly1305_ietf_encrypt(message, length, nonce, self.send_key)

    def receive(self):
        length = self.read(4)
        body = self.read(struct.unpack(">I", length)[0])
        nonce = struct.pack(">Q", self.received) + bytes(16)
        self.received += 1
        return nb.crypto_aead_xchacha20poly1305_ietf_decrypt(body, length, nonce, self.receive_key)

    def run(self, code):
        """Sends a line; returns (frame bytes sent, output, ok)."""
        sent = self.frame(b"\x01\x00" + code.encode())
        self.sock.sendall(sent)
        out = b""
        while True:
            m = self.receive()
            if m[0] == 0x81:
                out += m[1:]
            elif m[0] == 0x82:
                return sent, out.decode(), m[1] == 0
            else:
                raise AssertionError(f"unexpected message {m[:1]!r}")

    def closed_by_server(self, timeout=5):
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def close(self):
        self.sock.close()


# ---------------------------------------------------------------- the test

class Console(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = Workdir()
        cls.addClassCleanup(cls.work.cleanup)
        cls.nsd = Nsd(cls.work.path, "nsd-console").start()
        cls.addClassCleanup(cls.nsd.kill)
        cls.key_file = cls.work.path / "console.key"
        cls.key_file.write_text(b64(KEY) + "\n")
        cls.key_file.chmod(0o600)
        cls.wrong_key_file = cls.work.path / "wrong.key"
        cls.wrong_key_file.write_text(b64(WRONG_KEY) + "\n")
        cls.wrong_key_file.chmod(0o600)
        cls.console_port = free_port()
        rules = "\n".join(f'rule filler_{i}: qname suffix "filler{i}.test." => drop;' for i in range(200))
        cls.policy = f"""
listen 127.0.0.1:{{port}};
control "{{control}}";
console 127.0.0.1:{cls.console_port};
option console_key_file "{cls.key_file}";
option console_acl "127.0.0.1/32, ::1/128";
option workers 2;
pool main {{ server {cls.nsd.server()}; }}
dynblock flood: queries > 1000000 per src/32 over 10s => drop for 1m;
rule refused: qname suffix "refused.test." => refuse;
{rules}
rule default: true => pool main;
"""
        os.environ.pop("DNSPC_CONSOLE_KEY", None)
        cls.d = Dnspc(cls.work.path, cls.policy, env={"DNSPC_CONSOLE_HANDSHAKE_TIMEOUT_MS": "1000",
                                                      "DNSPC_CONSOLE_IDLE_TIMEOUT_MS": "4000"})
        cls.addClassCleanup(cls.d.stop)
        cls.server_key = cls.d.ctl("servers")["servers"][0]["key"]
        # Traffic: forwarded names, refused names.
        dnsperf(cls.d.port, f"www.{ZONE}", 1, rate=2000)
        for i in range(5):
            dns.query.tcp(dns.message.make_query(f"tcp{i}.{ZONE}", "A"), "127.0.0.1", port=cls.d.port, timeout=2)
        for i in range(30):
            query("127.0.0.1", cls.d.port, f"n{i}.refused.test.")

    def console(self, *args, key_file=None, input=None, timeout=30):
        argv = [DNSPC, "console", "--host", f"127.0.0.1:{self.console_port}",
                "--key-file", str(key_file or self.key_file), *args]
        env = {k: v for k, v in os.environ.items() if k != "DNSPC_CONSOLE_KEY"}
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, input=input, env=env)

    def e(self, code, *args):
        r = self.console("-e", code, *args)
        self.assertEqual(r.returncode, 0, f"{code}: {r.stdout}{r.stderr}")
        return r.stdout

    def metric(self, name):
        return self.d.ctl("stats")["console"] if name is None else self.d.ctl("stats")["console"][name]

    # -- every function, in one authenticated session each

    def test_every_function(self):
        # Under traffic: dnsperf runs while the functions do.
        names = self.work.path / "names.txt"
        names.write_text(f"www.{ZONE} A\nn1.refused.test. A\n")
        perf = subprocess.Popen(["dnsperf", "-s", "127.0.0.1", "-p", str(self.d.port), "-d", str(names), "-l", "3",
                                 "-Q", "1000"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(perf.wait)
        self.addCleanup(perf.kill)
        out = self.e("showServers()")
        self.assertIn(self.nsd.server(), out)
        self.assertIn("All", out)  # the totals row
        for column in ("qps", "limit", "order", "weight", "queries", "drops", "lat ms", "tcp lat ms", "outstanding"):
            self.assertIn(column, out)
        # Both latencies are measured (UDP from dnsperf, TCP from the TCP queries).
        row = next(line for line in out.splitlines() if self.nsd.server() in line).split()
        self.assertRegex(row[-2], r"^\d+\.\d\d$")  # tcp lat ms
        self.assertRegex(row[-3], r"^\d+\.\d\d$")  # lat ms
        self.assertIn("main", self.e("showPools()"))
        rules = self.e('showRules{filter="filler_19", top=20}')
        self.assertIn("filler_19", rules)
        self.assertIn("filler_199", rules)
        self.assertNotIn("filler_18 ", rules)
        self.assertIn(f"www.{ZONE}", self.e("topQueries(5)"))
        self.assertIn(ZONE, self.e("topQueries(5, 2)"))
        self.assertIn("127.0.0.1", self.e("topClients(3)"))
        self.assertIn("refused.test.", self.e('topResponses(5, "REFUSED")'))
        self.assertIn("matching", self.e("topServFailNames(5)"))
        self.assertIn("matching", self.e("topServFailClients(5)"))
        self.assertIn(f"www.{ZONE}", self.e("topSlow(5)"))
        self.assertIn("refused.test.", self.e('grepq("*.refused.test.", 5)'))
        self.assertIn("127.0.0.1", self.e('grepq("127.0.0.0/8", 3)'))
        latency = self.e("showLatency()")
        self.assertIn("overall", latency)
        self.assertIn("#", latency)
        self.assertIn(self.server_key, latency)
        self.assertIn("flood", self.e("showDynBlocks()"))
        self.assertIn("released", self.e("clearDynBlocks()"))
        self.assertIn("released", self.e('clearDynBlocks("flood")'))
        self.assertIn("forced down", self.e(f'setServerState("{self.server_key}", "down")'))
        self.assertIn("down*", self.e("showServers()"))
        self.assertIn(self.server_key, self.e("showOverrides()"))
        self.e(f'setServerState("{self.server_key}", "auto")')
        self.assertIn("no server is forced", self.e("showOverrides()"))
        self.assertIn("reloaded", self.e("reload()"))
        self.assertIn("reloaded", self.e(f'reload("{self.d.policy_path}")'))
        self.assertIn("queries", self.e("stats()"))
        self.assertIn("dnspc ", self.e("version()"))
        help_text = self.e("help()")
        for name in ("showServers", "showPools", "showRules", "topQueries", "topClients", "topResponses",
                     "topServFailNames", "topServFailClients", "topSlow", "grepq", "showLatency", "showDynBlocks",
                     "clearDynBlocks", "setServerState", "showOverrides", "reload", "stats", "version"):
            self.assertIn(name, help_text)

    def test_a_session_keeps_its_state_across_errors(self):
        r = self.console(input='x = 41\nx + 1\nerror("boom")\nx + 2\nwhile true do end\nx + 3\nprint("a", 1, nil)\n')
        self.assertEqual(r.returncode, 1, r.stderr)  # one line failed
        self.assertEqual(r.stdout.split(), ["42", "43", "44", "a", "1", "nil"])
        self.assertIn("boom", r.stderr)
        self.assertIn("instructions", r.stderr)

    def test_reload_failure_prints_the_diagnostics(self):
        bad = self.work.path / "bad.dp"
        bad.write_text("pool main { server 127.0.0.1:1; }\nrule x: qname suffix => drop;\n")
        r = self.console("-e", f'reload("{bad}")')
        self.assertEqual(r.returncode, 1)
        self.assertIn("reload rejected", r.stderr)
        self.assertIn("bad.dp:2", r.stderr)
        self.assertEqual(r.stdout, "")
        # Still the old policy.
        self.assertIn("filler_1", self.e('showRules{filter="filler_1", top=1}'))

    def test_reload_keeps_the_console_where_it_is(self):
        moved = self.work.path / "moved.dp"
        moved.write_text(self.d.policy_path.read_text().replace(f"console 127.0.0.1:{self.console_port};",
                                                                f"console 127.0.0.1:{free_port()};"))
        out = self.e(f'reload("{moved}")')
        self.assertIn("not reloadable, left alone: console", out)
        self.assertIn("reloaded", self.e(f'reload("{self.d.policy_path}")'))  # still here, and back

    def test_long_output_streams_whole(self):
        out = self.e('showRules{top=100000}')
        self.assertIn("filler_0", out)
        self.assertIn("filler_199", out)
        big = self.e('string.rep("x", 300000)')  # past several frames
        self.assertEqual(big, "x" * 300000 + "\n")

    # -- -e, --json

    def test_exit_codes(self):
        self.assertEqual(self.console("-e", "1").returncode, 0)
        r = self.console("-e", 'error("no")')
        self.assertEqual(r.returncode, 1)
        self.assertIn("no", r.stderr)
        self.assertEqual(self.console("-e", "topQueries(0)").returncode, 1)
        self.assertEqual(self.console("-e", "1", key_file=self.wrong_key_file).returncode, 3)
        unreachable = subprocess.run([DNSPC, "console", "--host", f"127.0.0.1:{free_port()}", "--key-file",
                                      str(self.key_file), "-e", "1"], capture_output=True, text=True, timeout=30)
        self.assertEqual(unreachable.returncode, 3)
        self.assertIn("cannot reach", unreachable.stderr)
        nokey = subprocess.run([DNSPC, "console", "--host", f"127.0.0.1:{self.console_port}", "-e", "1"],
                               capture_output=True, text=True, timeout=30,
                               env={k: v for k, v in os.environ.items() if k != "DNSPC_CONSOLE_KEY"})
        self.assertEqual(nokey.returncode, 2)
        self.assertIn("DNSPC_CONSOLE_KEY", nokey.stderr)
        # The key from the environment works as the file does.
        env = {**os.environ, "DNSPC_CONSOLE_KEY": b64(KEY)}
        r = subprocess.run([DNSPC, "console", "--host", f"127.0.0.1:{self.console_port}", "-e", "version()"],
                           capture_output=True, text=True, timeout=30, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_json_parses(self):
        for code in ("showServers()", "showPools()", "showRules{top=3}", "topQueries(3)", "topClients(3)",
                     'topResponses(3, "REFUSED")', "topSlow(3)", 'grepq("*", 3)', "showLatency()", "showDynBlocks()",
                     "showOverrides()", "stats()", "version()"):
            doc = json.loads(self.e(code, "--json"))
            self.assertIsInstance(doc, dict, code)
        self.assertIn("servers", json.loads(self.e("showServers()", "--json")))

    def test_make_key(self):
        r = subprocess.run([DNSPC, "console", "--make-key"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0)
        import base64
        self.assertEqual(len(base64.b64decode(r.stdout.strip())), 32)

    # -- refusals

    def test_wrong_key_is_refused_counted_and_logged(self):
        before = self.metric(None)
        r = self.console("-e", f'setServerState("{self.server_key}", "down")', key_file=self.wrong_key_file)
        self.assertEqual(r.returncode, 3)
        self.assertIn("refused", r.stderr)
        # Raw: a hello under the wrong key, then a frame: closed, nothing run.
        raw = Raw(self.console_port, key=WRONG_KEY)
        pk, _ = nb.crypto_kx_keypair()
        hello = b"DNSPC-C1" + pk
        raw.sock.sendall(hello + mac(WRONG_KEY, hello) + b"\x00\x00\x00\x20" + bytes(32))
        self.assertTrue(raw.closed_by_server())
        raw.close()
        # Not a console client at all.
        raw = Raw(self.console_port)
        raw.sock.sendall(b"GET / HTTP/1.1\r\n\r\n")
        self.assertTrue(raw.closed_by_server())
        raw.close()
        after = self.metric(None)
        self.assertEqual(after["refused"]["bad_key"] - before["refused"]["bad_key"], 2)
        self.assertEqual(after["refused"]["bad_hello"] - before["refused"]["bad_hello"], 1)
        self.assertEqual(after["lines"], before["lines"])
        self.assertIn("wrong console key", self.d.proc.log_text())
        self.assertEqual(self.d.ctl("overrides")["servers"], [])

    def test_no_hello_in_time_is_closed_and_counted(self):
        before = self.metric(None)["refused"]["timeout"]
        raw = Raw(self.console_port)
        raw.sock.sendall(b"DNSPC-C1")  # the magic, then nothing
        start = time.monotonic()
        self.assertTrue(raw.closed_by_server(timeout=5))
        self.assertLess(time.monotonic() - start, 3)
        raw.close()
        self.assertEqual(self.metric(None)["refused"]["timeout"], before + 1)

    def test_an_idle_session_is_closed(self):
        raw = Raw(self.console_port)
        raw.handshake()
        self.assertTrue(raw.run("1")[2])
        start = time.monotonic()
        self.assertTrue(raw.closed_by_server(timeout=10))
        self.assertGreater(time.monotonic() - start, 3.5)
        raw.close()
        self.assertIn("idle session closed", self.d.proc.log_text())

    def test_without_a_usable_key_the_console_does_not_start(self):
        loose = self.work.path / "loose.key"
        loose.write_text(b64(KEY) + "\n")
        loose.chmod(0o644)
        for key_option, reason in ((f'option console_key_file "{loose}";', "chmod 600"),
                                   ("", "no console key")):
            policy = self.policy.replace(f'option console_key_file "{self.key_file}";', key_option)
            port = free_port()
            policy = policy.replace(f"console 127.0.0.1:{self.console_port};", f"console 127.0.0.1:{port};")
            d = Dnspc(self.work.path, policy)
            try:
                self.assertIn("stats", d.ctl("help")["commands"][0]["name"])  # dnspc runs on
                log = d.proc.log_text()
                self.assertIn("the console does not start", log)
                self.assertIn(reason, log)
                with self.assertRaises(OSError):
                    socket.create_connection(("127.0.0.1", port), timeout=2).close()
            finally:
                d.stop()

    def test_outside_the_acl_is_refused(self):
        before = self.metric(None)["refused"]["acl"]
        raw = Raw(self.console_port, source="127.0.0.2")
        raw.sock.sendall(b"DNSPC-C1")
        self.assertTrue(raw.closed_by_server())
        raw.close()
        self.assertEqual(self.metric(None)["refused"]["acl"], before + 1)

    def test_frame_over_the_cap_is_refused_before_allocation(self):
        rss = rss_kib(self.d.proc.pid)
        before = self.metric("frames_refused")
        for length in (65536 + 16 + 1, 0x7FFFFFFF, 0xFFFFFFFF):
            raw = Raw(self.console_port)
            raw.handshake()
            raw.sock.sendall(struct.pack(">I", length) + b"\x00" * 4096)
            self.assertTrue(raw.closed_by_server())
            raw.close()
        self.assertEqual(self.metric("frames_refused"), before + 3)
        self.assertLess(rss_kib(self.d.proc.pid) - rss, 2048)

    @unittest.skipIf(SANITIZED, "ASan's quarantine keeps freed answers resident and TSan's shadow memory adds "
                     "several bytes per byte touched, so RSS is no measure here (LeakSanitizer checks the frees): "
                     "the main build runs it")
    def test_a_client_that_does_not_read_cannot_pile_up_answers(self):
        raw = Raw(self.console_port)
        raw.handshake()
        rss = rss_kib(self.d.proc.pid)
        raw.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        for _ in range(60):
            raw.sock.sendall(raw.frame(b"\x01\x00string.rep('x', 1000000)"))
        time.sleep(1)
        self.assertLess(rss_kib(self.d.proc.pid) - rss, 16 * 1024)  # not 60 MB of answers
        self.assertIn("dnspc", self.e("version()"))  # and the server goes on
        raw.close()

    def test_replayed_or_tampered_frame_ends_the_session(self):
        raw = Raw(self.console_port)
        raw.handshake()
        sent, out, ok = raw.run("1 + 1")
        self.assertTrue(ok)
        self.assertEqual(out, "2\n")
        raw.sock.sendall(sent)  # the same frame again: its nonce is spent
        self.assertTrue(raw.closed_by_server())
        raw.close()
        raw = Raw(self.console_port)
        raw.handshake()
        frame = bytearray(raw.frame(b"\x01\x00version()"))
        frame[10] ^= 1
        raw.sock.sendall(bytes(frame))
        self.assertTrue(raw.closed_by_server())
        raw.close()
        # Reordered: the second frame first.
        raw = Raw(self.console_port)
        raw.handshake()
        first, second = raw.frame(b"\x01\x001"), raw.frame(b"\x01\x002")
        raw.sock.sendall(second + first)
        self.assertTrue(raw.closed_by_server())
        raw.close()

    def test_half_open_connections_do_not_keep_a_client_out(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
        idle = []
        try:
            for _ in range(1000):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setblocking(False)
                s.connect_ex(("127.0.0.1", self.console_port))
                idle.append(s)
            time.sleep(0.5)
            start = time.monotonic()
            self.assertIn("dnspc", self.e("version()"))
            self.assertLess(time.monotonic() - start, 5)
            self.assertGreater(self.metric(None)["refused"]["limit"], 800)
        finally:
            for s in idle:
                s.close()
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    # -- Tab completion in a real terminal

    @unittest.skipUnless(shutil.which("tmux"), "tmux is not installed (scripts/setup-deps installs it)")
    def test_tab_completion_in_tmux(self):
        session = f"dnspc-console-{os.getpid()}"
        socket_path = str(self.work.path / "tmux.sock")
        tmux = ["tmux", "-S", socket_path]
        history = self.work.path / "history"
        command = (f"env -u DNSPC_CONSOLE_KEY DNSPC_CONSOLE_HISTORY={history} {DNSPC} console "
                   f"--host 127.0.0.1:{self.console_port} --key-file {self.key_file}")
        subprocess.run([*tmux, "new-session", "-d", "-s", session, "-x", "200", "-y", "50", command], check=True)
        self.addCleanup(subprocess.run, [*tmux, "kill-server"], capture_output=True)

        def screen():
            return subprocess.run([*tmux, "capture-pane", "-p", "-t", session], capture_output=True,
                                  text=True).stdout

        wait_until(lambda: "help() lists" in screen(), 10, 0.05, "the console's banner")
        # The first word.
        subprocess.run([*tmux, "send-keys", "-t", session, "showSer", "Tab"], check=True)
        wait_until(lambda: "> showServers" in screen(), 5, 0.05, "showSer completed to showServers")
        # An argument: a server's name after the first word.
        subprocess.run([*tmux, "send-keys", "-t", session, "C-u", 'setServerState("ma', "Tab"], check=True)
        wait_until(lambda: f'setServerState("{self.server_key}' in screen(), 5, 0.05,
                   f"the server name {self.server_key}:\n{screen()}")
        # Another: the state, then run the line and see its answer.
        subprocess.run([*tmux, "send-keys", "-t", session, '", "au', "Tab"], check=True)
        wait_until(lambda: f'setServerState("{self.server_key}", "auto' in screen(), 5, 0.05, "auto")
        subprocess.run([*tmux, "send-keys", "-t", session, "C-u", "topResponses(5, \"NXD", "Tab"], check=True)
        wait_until(lambda: 'topResponses(5, "NXDOMAIN' in screen(), 5, 0.05, "NXDOMAIN")
        subprocess.run([*tmux, "send-keys", "-t", session, "C-u", "1 + 41", "Enter"], check=True)
        wait_until(lambda: "42" in screen(), 5, 0.05, "the answer")
        subprocess.run([*tmux, "send-keys", "-t", session, "C-d"], check=True)
        wait_until(lambda: history.exists(), 5, 0.05, "the history file")
        self.assertEqual(history.stat().st_mode & 0o777, 0o600)
        self.assertIn(r"1\040+\04041", history.read_text())  # libedit escapes spaces


if __name__ == "__main__":
    unittest.main()
