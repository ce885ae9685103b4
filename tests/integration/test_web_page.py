#!/usr/bin/env python3
"""The web page in a real browser (issue 16): `dnspc run` with a `web`
statement and a password, in front of NSD (and a responder that answers
SERVFAIL), under dnsperf at about 1000 queries a second plus a few names of
our own, one of them holding `<script>alert(1)</script>` as a label. Debian's
Chromium, driven by playwright-core (tests/web/page_check.mjs), loads the page
with Basic credentials; then:

- the graphs moved: two seconds later every time graph's last x is later;
- the tables filled: the NSD backend in the servers table, the names sent in
  the top names, the SERVFAIL maker in the SERVFAIL tables, a dynamic block,
  the pools and the rules;
- the `<script>` name is text: a text node holds it, no script element came
  with it, no dialog opened;
- nothing went wrong: no console error, no uncaught exception, no failed
  request, no answer >= 400, the document under CSP default-src 'self'.

The screenshot (and the browser's report) are kept as artifacts:
$DNSPC_ARTIFACT_DIR/web_page.png (CTest: build/artifacts/)."""

import json
import os
import re
import shutil
import subprocess
import unittest
from pathlib import Path

from harness import DNSPC, ZONE, Dnspc, Nsd, Proc, Responder, Workdir, dns, free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
PAGE_CHECK = ROOT / "tests" / "web" / "page_check.mjs"
ARTIFACTS = Path(os.environ.get("DNSPC_ARTIFACT_DIR") or ROOT / "build" / "artifacts")
CHROMIUM = os.environ.get("DNSPC_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "page test password"
MARKER = "<script>alert(1)</script>"
EVIL = dns.name.Name([MARKER.encode(), b"evil", b"test", b""])  # one label holding the markup
EVIL_TEXT = f"{MARKER}.evil.test."  # as the rings (and so the API and the page) write it

POLICY = """
listen 127.0.0.1:{port};
control "{control}";
web 127.0.0.1:WEBPORT;
option workers 2;
pool main { server NSD; }
pool broken { server BROKEN state up; }  # SERVFAIL would fail its health checks
dynblock flood: queries > 30 per src/32 over 2s => refuse for 60s except 127.0.0.1/32;
rule broken: qname suffix "broken.test." => pool broken;
rule local: qname suffix "local.test." => rcode NXDOMAIN;
rule default: true => pool main;
"""


def send(port, name, source, rdtype="A", timeout=2):
    q = dns.message.make_query(name, rdtype)
    return dns.query.udp(q, "127.0.0.1", port=port, source=source, timeout=timeout)


def hash_password(password):
    r = subprocess.run([DNSPC, "hash-password"], input=password, capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise AssertionError(f"dnspc hash-password failed ({r.returncode}): {r.stderr}")
    return r.stdout.strip()


class WebPage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for tool in ("node", "dnsperf"):
            if not shutil.which(tool):
                raise AssertionError(f"{tool} is missing (scripts/setup-deps installs it)")
        if not Path(CHROMIUM).exists():
            raise AssertionError(f"no Chromium at {CHROMIUM} (scripts/setup-deps installs Debian's)")
        if not (ROOT / "runtime" / "web" / "npm" / "node_modules" / "playwright-core").is_dir():
            raise AssertionError("playwright-core is missing: run scripts/setup-deps (npm ci in runtime/web/npm)")
        password_hash = hash_password(PASSWORD)  # first: without the web server's branch this is what fails
        cls.work = Workdir()
        cls.addClassCleanup(cls.work.cleanup)
        cls.nsd = Nsd(cls.work.path, "nsd").start()
        cls.addClassCleanup(cls.nsd.kill)
        cls.broken = Responder("broken")
        cls.broken.mode = "servfail"
        cls.addClassCleanup(cls.broken.close)
        cls.web_port = free_port()
        policy = (POLICY.replace("WEBPORT", str(cls.web_port)).replace("NSD", cls.nsd.server())
                  .replace("BROKEN", cls.broken.server()))
        cls.d = Dnspc(cls.work.path, policy, env={"DNSPC_WEB_PASSWORD": password_hash})
        cls.addClassCleanup(cls.d.stop)

        # Background load: dnsperf at about 1000 queries a second from 127.0.0.1 for the whole test.
        names = cls.work.path / "names.txt"
        names.write_text(f"www.{ZONE} A\nwhoami.{ZONE} TXT\nnothere.{ZONE} A\na.local.test. A\n")
        cls.dnsperf = Proc("dnsperf", ["dnsperf", "-s", "127.0.0.1", "-p", str(cls.d.port), "-d", str(names),
                                       "-Q", "1000", "-l", "90", "-c", "2", "-q", "50", "-t", "2"],
                           cls.work.path / "dnsperf.log")
        cls.addClassCleanup(cls.dnsperf.kill)
        # Our names: the markup label, a SERVFAIL maker, a flood that gets a dynamic block.
        for _ in range(30):
            send(cls.d.port, EVIL, "127.0.0.7")
        for _ in range(8):
            r = send(cls.d.port, "x.broken.test.", "127.0.0.6")
            assert r.rcode() == dns.rcode.SERVFAIL, dns.rcode.to_text(r.rcode())
        for _ in range(150):  # well over 30 a second for the 2 s window; the others stay under
            send(cls.d.port, "flood.test.", "127.0.0.9", timeout=0.3)
        wait_until(lambda: cls.d.ctl("blocks")["blocks"], 5, 0.1, "the flood's dynamic block")
        wait_until(lambda: len(cls.d.ctl("series 600")["samples"]) >= 3, 10, 0.1, "three seconds of samples")

        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        cls.screenshot = ARTIFACTS / "web_page.png"
        argv = ["node", str(PAGE_CHECK), "--url", f"http://127.0.0.1:{cls.web_port}/", "--password", PASSWORD,
                "--screenshot", str(cls.screenshot), "--wait-ms", "2000", "--marker", MARKER, "--chromium", CHROMIUM]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=90)
        (ARTIFACTS / "web_page.json").write_text(r.stdout)
        if r.returncode != 0:
            raise AssertionError(f"page_check.mjs failed ({r.returncode}):\n{r.stderr}\n{r.stdout}")
        cls.report = json.loads(r.stdout)

    # ------------------------------------------------------------ helpers

    def column(self, table, index=0):
        return [row[index] for row in self.report["tables"][table] if len(row) > index]

    # ------------------------------------------------------------ the checks

    def test_page_loaded_without_errors(self):
        r = self.report
        self.assertEqual(r["documentStatus"], 200)
        self.assertIsNone(r.get("loadError"), r.get("after"))
        self.assertEqual(r["consoleErrors"], [])
        self.assertEqual(r["pageErrors"], [])
        self.assertEqual(r["failedRequests"], [])
        self.assertEqual(r["badResponses"], [])
        self.assertEqual(r["after"]["series"], "ok")
        for task, status in r["after"]["tasks"].items():
            self.assertIn(status, ("ok", "not run") if task == "overrides" else ("ok",), task)
        self.assertEqual(r["documentHeaders"].get("content-security-policy"), "default-src 'self'")
        self.assertTrue(r["status"].startswith("live"), r["status"])

    def test_graphs_advanced(self):
        before, after = self.report["before"]["charts"], self.report["after"]["charts"]
        for name in self.report["timeCharts"]:
            self.assertGreater(after[name]["points"], 0, name)
            self.assertIsNotNone(before[name]["lastX"], name)
            self.assertGreater(after[name]["lastX"], before[name]["lastX"], name)
            self.assertGreaterEqual(after[name]["points"], before[name]["points"], name)
        self.assertIn("queries", after["traffic"]["series"])
        self.assertIn(self.nsd.server(), after["backendQps"]["series"])
        self.assertIn("NOERROR", after["rcodes"]["series"])
        self.assertIn("SERVFAIL", after["rcodes"]["series"])
        self.assertEqual(after["histogram"]["points"], 26)  # 25 bounds and the slower rest
        self.assertGreater(after["histogram"]["total"], 0)
        # One request a second (GET /api/v1/dashboard), whatever is due in it.
        before, after = self.report["before"], self.report["after"]
        self.assertEqual(set(after["requests"]["byPath"]), {"dashboard"})
        made = after["requests"]["total"] - before["requests"]["total"]
        seconds = (after["at"] - before["at"]) / 1000
        self.assertGreaterEqual(made, 2)
        self.assertLessEqual(made, seconds + 1, (made, seconds))

    def test_tables_filled(self):
        servers = self.report["tables"]["servers"]
        nsd = [row for row in servers if row[0] == self.nsd.server()]
        self.assertEqual(len(nsd), 1, servers)
        self.assertEqual(nsd[0][1], "main")
        self.assertEqual(nsd[0][2], "up")
        names = self.column("top-queries")
        for name in (f"www.{ZONE}", f"whoami.{ZONE}", EVIL_TEXT, "x.broken.test.", "flood.test."):
            self.assertIn(name, names)
        clients = self.column("top-clients")
        for client in ("127.0.0.1", "127.0.0.7", "127.0.0.9"):
            self.assertIn(client, clients)
        self.assertIn("x.broken.test.", self.column("top-servfail-names"))
        self.assertIn("127.0.0.6", self.column("top-servfail-clients"))
        self.assertIn("127.0.0.9/32", self.column("dynblocks"))
        self.assertEqual(self.column("pools"), ["main", "broken"])
        self.assertEqual(self.column("rules"), ["broken", "local", "default"])
        for hits in self.column("rules", 3):
            self.assertRegex(hits, r"^[0-9][0-9,]*$")

    def test_markup_in_a_name_is_text(self):
        m = self.report["marker"]
        self.assertTrue(m["bodyHasMarkerAsText"])
        holders = [n for n in m["textNodes"] if n["text"] == EVIL_TEXT]
        self.assertTrue(holders, m["textNodes"])
        self.assertTrue(all(n["parent"] == "TD" for n in holders), holders)
        # Only the page's own scripts, none inline; nothing ran.
        self.assertEqual(sorted(s["src"] for s in m["scripts"]), ["/app.js", "/uplot.js"])
        self.assertTrue(all(s["inline"] == 0 for s in m["scripts"]), m["scripts"])
        self.assertEqual(m["scriptsInBody"], 0)
        self.assertEqual(self.report["dialogs"], [])

    def test_screenshot_saved(self):
        self.assertTrue(self.screenshot.is_file())
        self.assertGreater(self.screenshot.stat().st_size, 20_000)
        self.assertEqual(self.screenshot.read_bytes()[:8], b"\x89PNG\r\n\x1a\n")


class PageSource(unittest.TestCase):
    """What CSP default-src 'self' and text-only rendering need from the page's
    files, read from the source (runs without a browser or a server)."""

    PAGE = ROOT / "runtime" / "web" / "page"

    def test_no_html_parsing_or_eval_in_the_scripts(self):
        scripts = sorted(self.PAGE.glob("*.js"))
        self.assertTrue(scripts)
        for path in scripts:
            code = path.read_text()
            for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
                         "setAttribute(\"style", "DOMParser", "createContextualFragment"):
                self.assertNotIn(sink, code, f"{path.name} uses {sink}")

    def test_no_inline_script_or_style_in_the_document(self):
        html = (self.PAGE / "index.html").read_text()
        self.assertNotRegex(html, r"<script(?![^>]*\bsrc=)[^>]*>", "a script without src")
        self.assertNotRegex(html, r"<script[^>]*>[^<]+</script>", "a script with content")
        self.assertNotIn("<style", html)
        self.assertNotRegex(html, r"\sstyle=", "a style attribute")
        self.assertNotRegex(html, r"\son[a-z]+=", "an event handler attribute")
        self.assertNotRegex(html, r"(src|href)=\"(https?:)?//", "something fetched from elsewhere")

    def test_every_file_the_page_asks_for_is_embedded(self):
        cmake = (ROOT / "runtime" / "CMakeLists.txt").read_text()
        embedded = set(re.findall(r"^\s*(/[^=\s]*)=", cmake, re.M))
        asked = set(re.findall(r'(?:src|href)="(/[^"]*)"', (self.PAGE / "index.html").read_text()))
        for path in self.PAGE.glob("*.js"):
            asked |= {"/" + m for m in re.findall(r'from "\./([^"]+)"', path.read_text())}
        self.assertTrue(asked)
        self.assertEqual(asked - embedded, set())


if __name__ == "__main__":
    unittest.main(verbosity=2)
