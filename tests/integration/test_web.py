#!/usr/bin/env python3
"""The web server of `dnspc run` (docs/web.md) through real sockets:
credentials (Basic, then the session cookie; X-API-Key), the ACL, the limits
and their statuses, the security headers, writes behind web_writes and the
API key (following a reload), /metrics through promtool, and a start refused
for a plain password. Each scenario comes from its own loopback address
(127.0.0.N): a failed login holds back only the address it came from."""

import http.client
import json
import socket
import subprocess
import time
import unittest

from harness import DNSPC, Dnspc, Nsd, Workdir, free_port, wait_until

PASSWORD = "correct horse battery"
API_KEY = "k3y-for-scripts"

POLICY = """
listen 127.0.0.1:{port};
control "{control}";
web 127.0.0.1:WEBPORT;
option workers 1;
EXTRA
pool main { server NSD; }
rule default: true => pool main;
"""


def hash_secret(secret):
    r = subprocess.run([DNSPC, "hash-password"], input=secret, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def basic(password, user="anyone"):
    import base64
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class Web(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = Workdir()
        cls.nsd = Nsd(cls.work.path, "nsd").start()
        cls.password_hash = hash_secret(PASSWORD)
        cls.key_hash = hash_secret(API_KEY + "\n")  # the trailing newline is not part of the key
        cls.env = {"DNSPC_WEB_PASSWORD": cls.password_hash, "DNSPC_WEB_API_KEY": cls.key_hash,
                   # test-only: the 10 s a request has to arrive in, shortened
                   "DNSPC_WEB_HEADER_TIMEOUT_MS": "700"}
        cls.web_port = free_port()
        cls.d = Dnspc(cls.work.path, cls.policy(cls.web_port), env=cls.env)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.nsd.kill()
        cls.work.cleanup()

    @classmethod
    def policy(cls, web_port, extra=""):
        return POLICY.replace("WEBPORT", str(web_port)).replace("NSD", cls.nsd.server()).replace("EXTRA", extra)

    # ------------------------------------------------------------ helpers

    def request(self, method, path, headers=None, body=None, source=2, port=None, conn=None):
        """One request; returns (status, headers as a lower-cased dict, body bytes). A 429 (the
        login rate limits) is waited out."""
        for _ in range(4):
            c = conn or http.client.HTTPConnection("127.0.0.1", port or self.web_port, timeout=5,
                                                   source_address=(f"127.0.0.{source}", 0))
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            if conn is None:
                c.close()
            if r.status != 429:
                return r.status, {k.lower(): v for k, v in r.getheaders()}, data
            time.sleep(1.05)
        self.fail("still 429 after waiting")

    def raw(self, data, source=3, wait_close=True):
        """Raw bytes to the web port; returns everything the server sent before closing."""
        with socket.create_connection(("127.0.0.1", self.web_port), timeout=5,
                                      source_address=(f"127.0.0.{source}", 0)) as s:
            s.sendall(data)
            chunks = []
            while True:
                try:
                    b = s.recv(65536)
                except ConnectionResetError:
                    break
                if not b:
                    break
                chunks.append(b)
                if not wait_close:
                    break
            return b"".join(chunks)

    def key(self):
        return {"X-API-Key": API_KEY}

    # ------------------------------------------------------------ tests

    def test_credentials_basic_then_cookie_and_api_key(self):
        status, h, body = self.request("GET", "/api/v1/stats", source=10)
        self.assertEqual(status, 401)
        self.assertEqual(h["www-authenticate"], 'Basic realm="dnspc"')
        self.assertEqual(body, b"")
        status, _, _ = self.request("GET", "/api/v1/stats", {"Authorization": basic("wrong")}, source=11)
        self.assertEqual(status, 401)

        status, h, body = self.request("GET", "/", {"Authorization": basic(PASSWORD)}, source=12)
        self.assertEqual(status, 200)
        self.assertIn(b"<html", body)
        cookie = h["set-cookie"]
        self.assertIn("HttpOnly", cookie)
        self.assertIn("SameSite=Strict", cookie)
        session = cookie.split(";")[0]
        self.assertTrue(session.startswith("dnspc_session="))
        # The cookie alone, on a keep-alive connection, for several requests.
        conn = http.client.HTTPConnection("127.0.0.1", self.web_port, timeout=5, source_address=("127.0.0.12", 0))
        for path in ("/api/v1/stats", "/api/v1/servers", "/app.js"):
            status, h, body = self.request("GET", path, {"Cookie": session}, conn=conn)
            self.assertEqual(status, 200, path)
            self.assertNotIn("set-cookie", h)
        conn.close()
        stats = json.loads(self.request("GET", "/api/v1/stats", {"Cookie": session})[2])
        self.assertEqual(next(iter(stats)), "api_version")
        self.assertEqual(stats["api_version"], 1)
        self.assertIn("queries", stats)
        # A forged cookie is not a session.
        self.assertEqual(self.request("GET", "/api/v1/stats", {"Cookie": session[:-2] + "AA"}, source=13)[0], 401)

        # The API key: the API and /metrics, not the page.
        status, h, body = self.request("GET", "/api/v1/servers", self.key(), source=14)
        self.assertEqual(status, 200)
        self.assertEqual(h["content-type"], "application/json")
        self.assertEqual(self.request("GET", "/", self.key(), source=14)[0], 401)
        self.assertEqual(self.request("GET", "/api/v1/stats", {"X-API-Key": "nope"}, source=15)[0], 401)
        failures = json.loads(self.request("GET", "/api/v1/stats", self.key(), source=14)[2])["web"]["auth_failures"]
        self.assertGreaterEqual(failures["bad_password"], 1)
        self.assertGreaterEqual(failures["bad_api_key"], 1)
        self.assertGreaterEqual(failures["missing"], 1)

    def test_metrics_pass_promtool(self):
        status, h, body = self.request("GET", "/metrics", self.key(), source=20)
        self.assertEqual(status, 200)
        self.assertEqual(h["content-type"], "text/plain; version=0.0.4; charset=utf-8")
        self.assertIn(b"dnspc_web_answers_total{code=\"2xx\"}", body)
        r = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_security_headers_and_no_cors(self):
        for path, headers in (("/", {"Authorization": basic(PASSWORD)}), ("/api/v1/stats", self.key()),
                              ("/api/v1/stats", {})):
            status, h, _ = self.request("GET", path, {**headers, "Origin": "https://evil.example"}, source=30)
            self.assertIn(status, (200, 401))
            self.assertEqual(h["content-security-policy"], "default-src 'self'")
            self.assertEqual(h["x-content-type-options"], "nosniff")
            self.assertEqual(h["x-frame-options"], "DENY")
            self.assertEqual(h["referrer-policy"], "no-referrer")
            self.assertFalse([k for k in h if k.startswith("access-control-")], h)
            if path.startswith("/api"):
                self.assertEqual(h["cache-control"], "no-store")
        status, h, _ = self.request("OPTIONS", "/api/v1/stats", {**self.key(), "Origin": "https://evil.example",
                                                                 "Access-Control-Request-Method": "POST"}, source=30)
        self.assertEqual(status, 405)
        self.assertFalse([k for k in h if k.startswith("access-control-")], h)

    def test_routes_404_405_and_parameters(self):
        self.assertEqual(self.request("GET", "/api/v1/nope", self.key(), source=40)[0], 404)
        status, h, body = self.request("POST", "/api/v1/stats", self.key(), body=b"", source=40)
        self.assertEqual(status, 405)
        self.assertEqual(h["allow"], "GET, HEAD")
        status, h, _ = self.request("GET", "/api/v1/reload", self.key(), source=40)
        self.assertEqual(status, 405)
        self.assertEqual(h["allow"], "POST")
        status, _, body = self.request("GET", "/api/v1/top/queries?n=5000", self.key(), source=40)
        self.assertEqual(status, 400)
        self.assertIn("'n'", json.loads(body)["error"])
        status, _, body = self.request("GET", "/api/v1/top/queries?n=3", self.key(), source=40)
        self.assertEqual(status, 200)
        self.assertIn("top", json.loads(body))

    def test_limits_and_their_statuses(self):
        auth = f"X-API-Key: {API_KEY}\r\n".encode()
        # A request target past 8 KiB: 414.
        out = self.raw(b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 414 "), out[:80])
        # 65 headers: 431.
        many = b"".join(b"X-H%d: v\r\n" % i for i in range(65))
        out = self.raw(b"GET /api/v1/stats HTTP/1.1\r\n" + many + b"\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 431 "), out[:80])
        # A body past 64 KiB: 413 as soon as it is announced.
        out = self.raw(b"POST /api/v1/reload HTTP/1.1\r\n" + auth + b"Content-Length: 70000\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 413 "), out[:80])
        # Garbage: 400, then the connection closes.
        out = self.raw(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 400 "), out[:80])
        # A request that does not finish in time: 408 (700 ms here, 10 s by default).
        t0 = time.monotonic()
        out = self.raw(b"GET /api/v1/stats HTTP/1.1\r\nX-Slow: 1\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 408 "), out[:80])
        self.assertLess(time.monotonic() - t0, 3)
        self.assertIn(b"Connection: close", out)

    def rewrite(self, web_port, extra=""):
        text = self.policy(web_port, extra).replace("{port}", str(self.d.port))
        self.d.policy_path.write_text(text.replace("{control}", self.d.control))

    def test_the_web_address_is_not_reloadable(self):
        self.rewrite(free_port())
        try:
            outcome = self.d.ctl("reload")
            self.assertTrue(outcome["ok"], outcome)
            self.assertIn("web", outcome["not_reloadable"])
            self.assertEqual(self.request("GET", "/api/v1/stats", self.key(), source=60)[0], 200)
        finally:
            self.rewrite(self.web_port)
            self.assertTrue(self.d.ctl("reload")["ok"])

    def test_writes_need_web_writes_and_the_api_key(self):
        server = f"main/{self.nsd.server()}"
        path = f"/api/v1/servers/{server.replace('/', '%2F')}/state"
        status, _, body = self.request("POST", path, self.key(), body=b"down", source=50)
        self.assertEqual(status, 403)
        self.assertIn("web_writes", json.loads(body)["error"])

        # The policy again with web_writes on: the running server follows the reload.
        self.rewrite(self.web_port, "option web_writes on;")
        outcome = self.d.ctl("reload")
        self.assertTrue(outcome["ok"], outcome)
        try:
            status, _, body = self.request("POST", path, {"Authorization": basic(PASSWORD)}, body=b"down", source=51)
            self.assertEqual(status, 403)
            self.assertIn("X-API-Key", json.loads(body)["error"])
            status, _, body = self.request("POST", path, self.key(), body=b"down", source=50)
            self.assertEqual(status, 200, body)
            self.assertEqual(json.loads(body)["forced"], "down")
            servers = json.loads(self.request("GET", "/api/v1/servers", self.key(), source=50)[2])["servers"]
            self.assertEqual({s["key"]: s["state"] for s in servers}[server], "down")
            # The '/' may come unescaped too.
            status, _, body = self.request("POST", f"/api/v1/servers/{server}/state", self.key(), body=b"auto\n",
                                           source=50)
            self.assertEqual(status, 200, body)
            servers = json.loads(self.request("GET", "/api/v1/servers", self.key(), source=50)[2])["servers"]
            self.assertEqual({s["key"]: s["state"] for s in servers}[server], "up")
            status, _, body = self.request("POST", "/api/v1/servers/main%2F192.0.2.1:53/state", self.key(),
                                           body=b"up", source=50)
            self.assertEqual(status, 404)
            self.assertIn(server, json.loads(body)["servers"])
            status, _, body = self.request("POST", "/api/v1/dynblocks/clear", self.key(), body=b"", source=50)
            self.assertEqual(status, 200, body)
        finally:
            self.rewrite(self.web_port)
            self.assertTrue(self.d.ctl("reload")["ok"])


class WebRefusals(unittest.TestCase):
    def setUp(self):
        self.work = Workdir()
        self.addCleanup(self.work.cleanup)
        self.hash = hash_secret(PASSWORD)

    def test_a_client_outside_web_acl_is_closed_without_an_answer(self):
        web_port = free_port()
        policy = (POLICY.replace("WEBPORT", str(web_port)).replace("NSD", "127.0.0.1:9")
                  .replace("EXTRA", 'option web_acl "192.0.2.0/24, ::1/128";'))
        d = Dnspc(self.work.path, policy, env={"DNSPC_WEB_PASSWORD": self.hash})
        self.addCleanup(d.stop)
        with socket.create_connection(("127.0.0.1", web_port), timeout=5) as s:
            s.sendall(b"GET / HTTP/1.1\r\nAuthorization: " + basic(PASSWORD).encode() + b"\r\n\r\n")
            try:
                data = s.recv(1024)
            except ConnectionResetError:
                data = b""
        self.assertEqual(data, b"")
        wait_until(lambda: d.stats()["web"]["refused"]["acl"] >= 1, 5, what="the refusal counted")

    def test_a_plain_password_is_refused_at_start_with_the_hint(self):
        policy = (POLICY.replace("WEBPORT", str(free_port())).replace("NSD", "127.0.0.1:9")
                  .replace("EXTRA", "").replace("{port}", str(free_port())).replace("{control}",
                                                                                   str(self.work.path / "c.sock")))
        path = self.work.path / "plain.dp"
        path.write_text(policy)
        for value, expected in ((PASSWORD, "plain password"), ("", "DNSPC_WEB_PASSWORD is not set")):
            r = subprocess.run([DNSPC, "run", str(path)], env={"PATH": "/usr/bin:/bin", "DNSPC_WEB_PASSWORD": value},
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn(expected, r.stderr)
            self.assertIn("dnspc hash-password", r.stderr)
            self.assertNotIn(PASSWORD, r.stderr)  # never echo the secret


if __name__ == "__main__":
    unittest.main(verbosity=2)
