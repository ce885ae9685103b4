#!/usr/bin/env python3
"""The JSON API and /metrics under real traffic (docs/api.md): dnsperf and
dnspython through `dnspc run` to NSD, then the numbers the API gives move
and add up, the top-N endpoints name the names actually sent, rules page
and filter, the latency histogram's buckets sum to its count, /metrics
passes promtool, and each endpoint gives what `dnspc ctl` gives."""

import base64
import json
import subprocess
import time
import unittest
import urllib.error
import urllib.request

from harness import DNSPC, ZONE, Dnspc, Nsd, Workdir, dns, free_port, query
from test_reload import dnsperf

PASSWORD = "correct horse battery staple"
API_KEY = "k3y-for-the-api-tests"


def hash_secret(secret):
    r = subprocess.run([DNSPC, "hash-password"], input=secret + "\n", capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


class WebApi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = Workdir()
        cls.addClassCleanup(cls.work.cleanup)
        cls.nsd = Nsd(cls.work.path, "nsd-api").start()
        cls.addClassCleanup(cls.nsd.kill)
        cls.web_port = free_port()
        env = {"DNSPC_WEB_PASSWORD": hash_secret(PASSWORD), "DNSPC_WEB_API_KEY": hash_secret(API_KEY)}
        rules = "\n".join(f'rule filler_{i}: qname suffix "filler{i}.test." => drop;' for i in range(300))
        cls.d = Dnspc(cls.work.path, f"""
listen 127.0.0.1:{{port}};
control "{{control}}";
web 127.0.0.1:{cls.web_port};
option workers 2;
pool main {{ server {cls.nsd.server()} state up; }}
rule local: qname suffix "local.test." => spoof A 192.0.2.1;
rule refused: qname suffix "refused.test." => refuse;
{rules}
rule default: true => pool main;
""", env=env)
        cls.addClassCleanup(cls.d.stop)

    def get(self, path, raw=False):
        req = urllib.request.Request(f"http://127.0.0.1:{self.web_port}{path}", headers={"X-API-Key": API_KEY})
        with urllib.request.urlopen(req, timeout=10) as r:
            body = r.read()
        return body.decode() if raw else json.loads(body)

    def test_numbers_move_and_add_up(self):
        before = self.get("/api/v1/stats")
        self.assertEqual(before["api_version"], 1)
        # Traffic of every fate: forwarded (NSD answers), local, refused, dropped.
        sent, completed, lost, _ = dnsperf(self.d.port, f"www.{ZONE}", 2, rate=2000)
        for i in range(50):
            query("127.0.0.1", self.d.port, f"n{i}.local.test.")
            query("127.0.0.1", self.d.port, f"n{i}.refused.test.")
        for i in range(20):
            with self.assertRaises(dns.exception.Timeout):
                query("127.0.0.1", self.d.port, f"x.filler{i}.test.", timeout=0.05)
        time.sleep(0.5)  # nothing in flight
        s = self.get("/api/v1/stats")
        queries = s["queries"] - before["queries"]
        self.assertEqual(queries, sent + 120)
        forwarded = s["forwarded"] - before["forwarded"]
        relayed = s["backend_answers"]["accepted"] - before["backend_answers"]["accepted"]
        answers = s["answers"] - before["answers"]
        dropped = s["actions"]["drop"] - before["actions"]["drop"]
        self.assertEqual(dropped, 20)
        self.assertEqual(forwarded, sent)
        self.assertEqual(relayed, completed)
        # Every query was answered by a backend, answered here, or dropped.
        self.assertEqual(answers + dropped, queries, s)
        self.assertEqual(answers - relayed, 100)  # spoofed + refused, made here
        rules = {r["name"]: r["hits"] for r in self.get("/api/v1/rules?filter=local")["rules"]}
        self.assertGreaterEqual(rules["local"], 50)
        server = s["servers"][f"main/{self.nsd.server()}"]
        self.assertGreaterEqual(server["answers"], completed)
        self.assertEqual(server["outstanding"], 0)

    def test_top_names_the_names_sent(self):
        for i in range(30):
            query("127.0.0.1", self.d.port, "popular.local.test.")
        for i in range(5):
            query("127.0.0.1", self.d.port, f"rare{i}.local.test.")
        # Other tests' traffic is in the rings too: look the names up.
        top = {t["key"]: t["count"] for t in self.get("/api/v1/top/queries?n=1000")["top"]}
        self.assertGreaterEqual(top["popular.local.test."], 30)
        self.assertEqual(top["rare0.local.test."], 1)
        grouped = self.get("/api/v1/top/queries?n=5&labels=2")
        self.assertIn("local.test.", [t["key"] for t in grouped["top"]])
        clients = self.get("/api/v1/top/clients?n=1")
        self.assertEqual(clients["top"][0]["key"], "127.0.0.1")

    def test_rules_page_and_filter(self):
        page = self.get("/api/v1/rules?offset=10&limit=5")
        self.assertEqual(page["total"], 303)
        self.assertEqual([r["name"] for r in page["rules"]], [f"filler_{i}" for i in range(8, 13)])
        found = self.get("/api/v1/rules?filter=FILLER_29")
        self.assertEqual(found["matching"], 11)  # filler_29, filler_290..299
        self.assertEqual(found["rules"][0]["action"], "drop")

    def test_latency_buckets_sum_to_count(self):
        dnsperf(self.d.port, f"www.{ZONE}", 1, rate=1000)
        lat = self.get("/api/v1/latency")
        overall = lat["overall"]
        self.assertGreater(overall["count"], 0)
        self.assertEqual(sum(overall["buckets"]), overall["count"])
        self.assertLessEqual(overall["p50_us"], overall["p99_us"])
        self.assertEqual(len(overall["buckets"]), len(lat["bounds_us"]) + 1)

    def test_series_pools_policy(self):
        series = self.get("/api/v1/series?seconds=5")
        self.assertLessEqual(len(series["samples"]), 5)
        pools = self.get("/api/v1/pools")["pools"]
        self.assertEqual(pools[0]["servers"], [f"main/{self.nsd.server()}"])
        policy = self.get("/api/v1/policy")
        self.assertEqual(policy["file"], str(self.d.policy_path))
        self.assertTrue(policy["hash"].startswith("fnv1a64:"))

    def test_same_documents_as_ctl(self):
        for endpoint, command in (("pools", "pools"), ("overrides", "overrides"), ("policy", "policy")):
            api = self.get(f"/api/v1/{endpoint}")
            del api["api_version"]
            self.assertEqual(api, self.d.ctl(command), endpoint)

    def test_dashboard_holds_each_route_document(self):
        doc = self.get("/api/v1/dashboard?include=series,pools,policy,top/queries,rules,series&seconds=4&n=3"
                       "&offset=1&limit=2&filter=filler_2")
        self.assertEqual(list(doc), ["api_version", "series", "pools", "policy", "top/queries", "rules"])
        self.assertLessEqual(len(doc["series"]["samples"]), 4)
        for part, command in (("pools", "pools"), ("policy", "policy"), ("rules", "rules 1 2 filler_2")):
            self.assertEqual(doc[part], self.d.ctl(command), part)
        self.assertEqual([r["name"] for r in doc["rules"]["rules"]], ["filler_20", "filler_21"])
        self.assertLessEqual(len(doc["top/queries"]["top"]), 3)
        self.assertIn("records", doc["top/queries"])

    def test_metrics_pass_promtool(self):
        text = self.get("/metrics", raw=True)
        self.assertIn("dnspc_build_info{", text)
        r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        every_rule = self.get("/metrics?all_rules=1", raw=True)
        self.assertIn('dnspc_rule_hits_total{rule="filler_299",path="user"} 0', every_rule)
        self.assertNotIn('rule="filler_299"', text)

    def test_bad_parameters_are_400(self):
        for path in ("/api/v1/top/queries?n=abc", "/api/v1/rules?limit=-1", "/api/v1/series?seconds=",
                     "/api/v1/rules?filter=a%20b"):
            with self.assertRaises(urllib.error.HTTPError) as e:
                self.get(path)
            self.assertEqual(e.exception.code, 400, path)
        with self.assertRaises(urllib.error.HTTPError) as e:
            self.get("/api/v1/top/everything")
        self.assertEqual(e.exception.code, 404)


if __name__ == "__main__":
    unittest.main()
