#!/usr/bin/env python3
"""Prometheus metrics (`dnspc ctl metrics`) under real traffic through NSD:
the text parses with the Prometheus client library's parser, follows the
naming conventions (dnspc_ prefix, _total counters, _seconds histograms,
build info), escapes label values, and its counters agree with
`dnspc ctl stats`; histogram buckets are cumulative and end at the count."""

import unittest

from harness import Dnspc, Nsd, Workdir, ZONE, dns, query, run_dnspc
from prometheus_client.parser import text_string_to_metric_families

POLICY = """
listen 127.0.0.1:{port};
control "{control}";
option workers 2;
pool main { server NSD; }
rule refused: qname suffix "refuse.test." => refuse;
rule default: true => pool main;
"""



class Metrics(unittest.TestCase):
    def test_metrics_parse_and_agree_with_stats(self):
        work = Workdir()
        self.addCleanup(work.cleanup)
        nsd = Nsd(work.path, "nsd").start()
        self.addCleanup(nsd.kill)
        d = Dnspc(work.path, POLICY.replace("NSD", nsd.server()))
        self.addCleanup(d.stop)
        for _ in range(50):
            self.assertEqual(query("127.0.0.1", d.port, f"www.{ZONE}", timeout=2).rcode(), dns.rcode.NOERROR)
        for _ in range(7):
            self.assertEqual(query("127.0.0.1", d.port, "x.refuse.test.", timeout=2).rcode(), dns.rcode.REFUSED)
        for _ in range(5):
            r = dns.query.tcp(dns.message.make_query(f"www.{ZONE}", "A"), "127.0.0.1", port=d.port, timeout=2)
            self.assertEqual(r.rcode(), dns.rcode.NOERROR)
        text = d.ctl_text("metrics")
        stats = d.stats()
        families = {f.name: f for f in text_string_to_metric_families(text)}  # raises on bad syntax

        def samples(family, suffix=""):
            return [(s.labels, s.value) for s in families[family].samples if s.name == "dnspc_" + family[6:] + suffix
                    or s.name == family + suffix]

        self.assertEqual(families["dnspc_build_info"].type, "gauge")
        # The parser names counter families without _total; the samples keep it.
        # Queries by action, where they were decided: here all in user space.
        queries = {labels["action"]: v for labels, v in samples("dnspc_queries", "_total") if labels["path"] == "user"}
        self.assertTrue(all(v == 0 for labels, v in samples("dnspc_queries", "_total") if labels["path"] == "kernel"))
        self.assertEqual(queries["pool"], 55)
        self.assertEqual(queries["refuse"], 7)
        self.assertEqual(sum(queries.values()), sum(stats["actions"].values()))
        answers = {labels["source"]: v for labels, v in samples("dnspc_answers", "_total")}
        self.assertEqual(answers["backend"], stats["backend_answers"]["accepted"])
        self.assertEqual(answers["local"], 7)
        rcodes = {labels["rcode"]: v for labels, v in samples("dnspc_answers_by_rcode", "_total")}
        self.assertEqual(rcodes["NOERROR"], 55)
        self.assertEqual(rcodes["REFUSED"], 7)
        server = f"main/{nsd.server()}"
        backend = {labels["server"]: v for labels, v in samples("dnspc_backend_queries", "_total")}
        self.assertEqual(backend[server], stats["servers"][server]["queries"])
        up = {labels["server"]: v for labels, v in samples("dnspc_backend_up")}
        self.assertEqual(up[server], 1)
        hits = {labels["rule"]: v for labels, v in samples("dnspc_rule_hits", "_total") if labels["path"] == "user"}
        self.assertEqual(hits, {"default": 55, "refused": 7})
        # Histograms in seconds: cumulative buckets ending at +Inf == _count.
        for family in ("dnspc_backend_latency_seconds", "dnspc_answer_latency_seconds"):
            f = families[family]
            self.assertEqual(f.type, "histogram")
            series = {}
            for s in f.samples:
                key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
                series.setdefault(key, {"buckets": []})
                if s.name.endswith("_bucket"):
                    series[key]["buckets"].append((float(s.labels["le"]), s.value))
                elif s.name.endswith("_count"):
                    series[key]["count"] = s.value
            for key, h in series.items():
                counts = [c for _, c in sorted(h["buckets"])]
                self.assertEqual(counts, sorted(counts), key)
                self.assertEqual(counts[-1], h["count"], key)
        by_transport = {dict(k)["transport"]: h["count"] for k, h in series.items()}
        self.assertEqual(by_transport, {"udp": 50, "tcp": 5, "cache": 0})  # no pool with a cache here
        # No query names or client addresses as labels.
        self.assertNotIn("quickstart", text)
        self.assertNotIn("refuse.test", text)
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            self.assertTrue(line.startswith("dnspc_"), line)
        r = run_dnspc("ctl", "--control", d.control, "metrics")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("# TYPE dnspc_queries_total counter", r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
