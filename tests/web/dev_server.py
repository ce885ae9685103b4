#!/usr/bin/env python3
"""A development server for the web page: serves the page's files from the
source tree (edit, reload the browser, no rebuild) and answers the JSON API
(docs/api.md) by asking a running `dnspc run` on its control socket, the way
dnspc's own web server does from the same command table.

    tests/web/dev_server.py --control /run/dnspc/control.sock [--port 8099]

then open http://127.0.0.1:8099/. The files and their URLs are read from
DNSPC_WEB_ASSETS in runtime/CMakeLists.txt, the list the build embeds, so a
file added there is served here too. Answers carry the headers the real
server sends that matter to the page (Content-Security-Policy
`default-src 'self'`, nosniff, no caching), so a CSP mistake shows here
first. Read-only, no authentication, loopback only: a tool for working on
the page, not a way to serve it.
"""

import argparse
import http.server
import json
import re
import socket
import sys
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "runtime"
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png"}
TOP_KINDS = {"queries", "clients", "servfail-names", "servfail-clients", "nxdomain-names", "rcodes", "slow"}
PLAIN = {"stats": "stats", "servers": "servers", "pools": "pools", "dynblocks": "blocks", "latency": "latency",
         "policy": "policy", "overrides": "overrides", "hooks": "hooks", "cache": "cache"}


def web_assets():
    """URL path -> file, from the DNSPC_WEB_ASSETS list in runtime/CMakeLists.txt."""
    text = (RUNTIME / "CMakeLists.txt").read_text()
    block = re.search(r"set\(DNSPC_WEB_ASSETS\s*(.*?)\)", text, re.S)
    if not block:
        sys.exit("dev_server: no DNSPC_WEB_ASSETS list in runtime/CMakeLists.txt")
    where = {"DNSPC_WEB_PAGE": RUNTIME / "web" / "page", "DNSPC_NPM_MODULES": RUNTIME / "web" / "npm" / "node_modules"}
    assets = {}
    for url, path in re.findall(r"(/\S*)=(\S+)", block.group(1)):
        for var, value in where.items():
            path = path.replace("${" + var + "}", str(value))
        assets[url] = Path(path)
    return assets


def number(params, name, default, low, high):
    value = params.get(name, [str(default)])[-1]
    if not value.isdigit() or not low <= int(value) <= high:
        raise ValueError(f"{name} must be a number from {low} to {high}")
    return value


def command_for(path, params):
    """The control command answering GET /api/v1/PATH, or raises ValueError (400) / KeyError (404)."""
    if path in PLAIN:
        return PLAIN[path]
    if path == "series":
        return f"series {number(params, 'seconds', 60, 1, 600)}"
    if path == "rules":
        command = f"rules {number(params, 'offset', 0, 0, 10**9)} {number(params, 'limit', 100, 1, 1000)}"
        filt = params.get("filter", [""])[-1]
        if len(filt) > 200 or any(c.isspace() for c in filt):
            raise ValueError("filter: at most 200 characters, no spaces")
        return command + (f" {filt}" if filt else "")
    if path.startswith("top/") and path[4:] in TOP_KINDS:
        command = f"top {path[4:]} {number(params, 'n', 10, 1, 1000)}"
        if "labels" in params:
            command += f" --labels {number(params, 'labels', 0, 1, 127)}"
        return command
    raise KeyError(path)


def ask(control, command):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(control)
        s.sendall(command.encode() + b"\n")
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return json.loads(b"".join(chunks))


class Handler(http.server.BaseHTTPRequestHandler):
    control = ""
    assets = {}

    def send(self, status, content_type, body):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", "default-src 'self'")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, status, doc):
        self.send(status, "application/json", json.dumps({"api_version": 1, **doc}).encode())

    def do_GET(self):  # noqa: N802 (the name http.server calls)
        url = urllib.parse.urlsplit(self.path)
        if url.path.startswith("/api/v1/"):
            return self.api(url.path[len("/api/v1/"):], urllib.parse.parse_qs(url.query))
        file = self.assets.get(url.path)
        if file is None:
            return self.send(404, "text/plain", b"not found\n")
        self.send(200, TYPES.get(file.suffix, "application/octet-stream"), file.read_bytes())

    def api(self, path, params):
        if path == "dashboard":
            return self.dashboard(params)
        try:
            command = command_for(path, params)
        except ValueError as e:
            return self.send_json(400, {"error": str(e)})
        except KeyError:
            return self.send_json(404, {"error": f"no endpoint /api/v1/{path}"})
        try:
            doc = ask(self.control, command)
        except OSError as e:
            return self.send_json(503, {"error": f"control socket: {e}"})
        self.send_json(400 if "error" in doc else 200, doc)

    def dashboard(self, params):
        """As dnspc's route: each part of `include` under its key, a part's error in its place."""
        doc = {}
        for key in dict.fromkeys(params.get("include", ["series"])[-1].split(",")):
            if not key:
                continue
            part = {k: v for k, v in params.items() if k != "labels" or not key.endswith("clients")}
            try:
                doc[key] = ask(self.control, command_for(key, part))
            except (ValueError, KeyError) as e:
                return self.send_json(400, {"error": f"dashboard part {key}: {e}"})
            except OSError as e:
                return self.send_json(503, {"error": f"control socket: {e}"})
        self.send_json(200, doc)

    def log_message(self, fmt, *args):
        if not self.path.startswith("/api/"):
            super().log_message(fmt, *args)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--control", required=True, help="the control socket of a running dnspc")
    ap.add_argument("--port", type=int, default=8099)
    args = ap.parse_args()
    Handler.control = args.control
    Handler.assets = web_assets()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"dev_server: http://127.0.0.1:{args.port}/ (control socket {args.control})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
