#!/usr/bin/env python3
"""Lua hooks under `dnspc run` with real traffic: predicates, actions (every
verdict shape), response hooks and a load-balancing policy over two NSDs;
hooks that fail (an error, an endless loop, a memory bomb, a slow string
pattern, garbage) take their fallback, move their counters, and leave other
clients served and the process alive; reloads under load swap the workers'
Lua states without losing a query; and one case file gives the same verdicts
in `dnspc test` and on the wire."""

import re
import subprocess
import threading
import time
import unittest
from pathlib import Path

from harness import DNSPC, ZONE, Dnspc, Nsd, Workdir, dns, query, wait_until
from test_reload import dnsperf

HOOKS = r"""
-- Predicate: deep names.
function is_deep(q) return q.labels > 7 end

-- Action: the first label says what to do.
function decide(q)
  local first = q.qname:match("^([^.]+)%.")
  if first == "refuse" then return "refuse" end
  if first == "nx" then return "rcode", "NXDOMAIN" end
  if first == "spoof" then return "spoof", {"A 192.0.2.7", "A 192.0.2.8"}, {ttl = 42} end
  if first == "txt" then return "spoof", {"TXT from lua"} end
  if first == "tc" then return "truncate" end
  if first == "drop" then return "drop" end
  if first == "b" then return "pool", "only_b", {tags = {"picked"}} end
  if first == "allow" then return "allow" end
  return nil  -- no verdict: the next rules decide
end

-- Failures, one per first label; each falls back (the rule does not match).
function faulty(q)
  local first = q.qname:match("^([^.]+)%.")
  if first == "err" then error("boom") end
  if first == "loop" then while true do end end
  if first == "bomb" then local s = "x" while true do s = s .. s end end
  if first == "pattern" then return string.find(string.rep("a", 20000), ".-.-.-.-b") end
  if first == "garbage" then return {} end
  if first == "field" then return q.no_such_field end
  return "refuse"
end

-- Response hook: NSD's NXDOMAIN under resp. becomes REFUSED; bad. errs.
function on_answer(q, a)
  if q.qname:match("^bad%.") then error("response boom") end
  if a.rcode == 3 then return "rcode", "REFUSED" end
  return "keep"
end

-- Load balancing: names under a.who. go to server 1, the rest to server 2;
-- lbfail. errs (least_outstanding picks).
function by_label(servers, q)
  if q.qname:match("^lbfail%.") then error("no pick") end
  if q.qname:match("%.a%.who%.") then return 1 end
  if servers[2].up then return 2 end
  return nil
end
"""

POLICY = f"""
listen 127.0.0.1:{{port}};
control "{{control}}";
lua "hooks.lua";
option workers 2;
option lua_instructions 200000;
option lua_memory 8;
pool main {{ policy lua by_label; server A state up; server B state up; }}
pool only_b {{ server B state up; }}
rule deep: lua is_deep => refuse;
rule act: qname suffix "act.{ZONE}" => lua decide;
rule faults: qname suffix "fault.{ZONE}" => lua faulty;
rule default: true => pool main;
response rule resp: qname suffix "resp.{ZONE}" => lua on_answer;
response rule picked: tagged "picked" => log;
"""

CASES = f"""
# One case file, two engines: `dnspc test` and the wire.
refuse.act.{ZONE}            => act refuse
nx.act.{ZONE}                => act rcode NXDOMAIN
spoof.act.{ZONE}             => act spoof
tc.act.{ZONE}                => act truncate
drop.act.{ZONE}              => act drop
b.act.{ZONE}                 => act pool only_b
allow.act.{ZONE}             => act allow
other.act.{ZONE}             => default
a.b.c.d.e.f.g.{ZONE}         => deep refuse
err.fault.{ZONE}             => default
refuse.fault.{ZONE}          => faults refuse
"""


def first_txt(r):
    return r.answer[0][0].strings[0].decode() if r.answer else None


class LuaHooks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = Workdir()
        cls.addClassCleanup(cls.work.cleanup)
        cls.a = Nsd(cls.work.path, "nsd-a").start()
        cls.addClassCleanup(cls.a.kill)
        cls.b = Nsd(cls.work.path, "nsd-b").start()
        cls.addClassCleanup(cls.b.kill)
        (cls.work.path / "hooks.lua").write_text(HOOKS)
        cls.policy_text = POLICY.replace("server A", f"server {cls.a.server()}").replace(
            "server B", f"server {cls.b.server()}")
        cls.d = Dnspc(cls.work.path, cls.policy_text, log_format="json")
        cls.addClassCleanup(cls.d.stop)

    def ask(self, name, rdtype="A", timeout=1.0):
        return query("127.0.0.1", self.d.port, name, rdtype, timeout=timeout)

    def hooks(self):
        return {h["hook"]: h for h in self.d.ctl("hooks")["hooks"]}

    def metric(self, name, **labels):
        text = self.d.ctl_text("metrics")
        want = ",".join(f'{k}="{v}"' for k, v in labels.items())
        for line in text.splitlines():
            if line.startswith(f"dnspc_{name}{{{want}}} ") or (not labels and line.startswith(f"dnspc_{name} ")):
                return float(line.split()[-1])
        raise AssertionError(f"no {name} {labels} in:\n{text}")

    # ------------------------------------------------------------ verdicts

    def test_action_verdicts(self):
        self.assertEqual(self.ask(f"refuse.act.{ZONE}").rcode(), dns.rcode.REFUSED)
        self.assertEqual(self.ask(f"nx.act.{ZONE}").rcode(), dns.rcode.NXDOMAIN)
        r = self.ask(f"spoof.act.{ZONE}")
        self.assertEqual(sorted(rr.address for rr in r.answer[0]), ["192.0.2.7", "192.0.2.8"])
        self.assertEqual(r.answer[0].ttl, 42)
        self.assertEqual(first_txt(self.ask(f"txt.act.{ZONE}", "TXT")), "from lua")
        self.assertTrue(self.ask(f"tc.act.{ZONE}").flags & dns.flags.TC)
        with self.assertRaises(dns.exception.Timeout):
            self.ask(f"drop.act.{ZONE}", timeout=0.3)
        # A pool verdict: only_b's server gets the query.
        only_b = f"only_b/{self.b.server()}"
        before = self.d.server_queries()[only_b]
        self.assertEqual(self.ask(f"b.act.{ZONE}").rcode(), dns.rcode.NXDOMAIN)
        self.assertEqual(self.d.server_queries()[only_b], before + 1)
        # No verdict: the default rule forwards (NSD's authoritative NXDOMAIN).
        r = self.ask(f"other.act.{ZONE}")
        self.assertEqual(r.rcode(), dns.rcode.NXDOMAIN)
        self.assertTrue(r.flags & dns.flags.AA)

    def test_predicate(self):
        self.assertEqual(self.ask(f"a.b.c.d.e.f.g.{ZONE}").rcode(), dns.rcode.REFUSED)
        self.assertEqual(self.ask(f"www.{ZONE}").answer[0][0].address, "192.0.2.80")

    def test_load_balancing_hook(self):
        for _ in range(5):
            self.assertEqual(first_txt(self.ask(f"x.a.who.{ZONE}", "TXT")), "nsd-a")
            self.assertEqual(first_txt(self.ask(f"x.z.who.{ZONE}", "TXT")), "nsd-b")
        before = self.hooks()["by_label"]
        # A failing pick falls back to least_outstanding: still answered.
        self.assertIn(first_txt(self.ask(f"lbfail.who.{ZONE}", "TXT")), ("nsd-a", "nsd-b"))
        after = self.hooks()["by_label"]
        self.assertEqual(after["errors"], before["errors"] + 1)
        self.assertGreaterEqual(after["calls"], 11)

    def test_response_hook(self):
        self.assertEqual(self.ask(f"x.resp.{ZONE}").rcode(), dns.rcode.REFUSED)
        self.assertEqual(self.ask(f"www.{ZONE}").rcode(), dns.rcode.NOERROR)
        errors = self.hooks()["on_answer"]["errors"]
        # An erring response hook leaves the answer as the backend sent it.
        r = self.ask(f"bad.resp.{ZONE}")
        self.assertEqual(r.rcode(), dns.rcode.NXDOMAIN)
        self.assertEqual(self.hooks()["on_answer"]["errors"], errors + 1)

    # ------------------------------------------------------------ faults

    def test_faulty_hooks_fall_back_and_count(self):
        before = self.hooks()["faulty"]
        stops_before = self.metric("lua_hook_budget_stops_total", hook="faulty", budget="instructions")
        for label in ("err", "loop", "bomb", "pattern", "garbage", "field"):
            started = time.monotonic()
            r = self.ask(f"{label}.fault.{ZONE}", timeout=3.0)
            took = time.monotonic() - started
            # Fallback: the rule does not match, the default rule forwards to NSD.
            self.assertEqual(r.rcode(), dns.rcode.NXDOMAIN, label)
            self.assertTrue(r.flags & dns.flags.AA, label)
            # Another client is served meanwhile as usual.
            self.assertEqual(self.ask(f"www.{ZONE}").answer[0][0].address, "192.0.2.80")
            print(f"{label}: answered in {took * 1000:.1f} ms", flush=True)
        after = self.hooks()["faulty"]
        self.assertEqual(after["errors"], before["errors"] + 6, after)
        self.assertGreaterEqual(after["instruction_stops"], before["instruction_stops"] + 2, after)  # loop, pattern
        self.assertGreaterEqual(after["memory_stops"], before["memory_stops"] + 1, after)
        self.assertGreater(self.metric("lua_hook_budget_stops_total", hook="faulty", budget="instructions"),
                           stops_before)
        self.assertGreaterEqual(self.d.stats()["lua"]["actions_without_verdict"], 6)
        # The log names the hook, where it is, the message and the fallback.
        log = self.d.log_text()
        self.assertIn("lua hook 'faulty' (", log)
        self.assertRegex(log, r"hooks\.lua:\d+: boom")
        self.assertTrue(self.d.proc.alive())
        self.assertEqual(self.ask(f"refuse.fault.{ZONE}").rcode(), dns.rcode.REFUSED)

    # ------------------------------------------------------------ one case file, two engines

    def test_cases_agree_with_dnspc_test(self):
        policy = self.work.path / "agree.dp"
        policy.write_text(self.policy_text.replace("{port}", "5399").replace("{control}", "x.sock"))
        cases = self.work.path / "agree.dpt"
        cases.write_text(CASES)
        r = subprocess.run([DNSPC, "test", str(policy), str(cases)], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("11 passed, 0 failed", r.stdout)
        for line in CASES.splitlines():
            line = line.split("#")[0].strip()
            if not line:
                continue
            name, expect = (part.strip() for part in line.split("=>"))
            words = expect.split()
            verdict = words[1:] or ["pool", "main"]
            self.check_on_wire(name, verdict)

    def check_on_wire(self, name, verdict):
        kind = verdict[0]
        if kind == "drop":
            with self.assertRaises(dns.exception.Timeout):
                self.ask(name, timeout=0.3)
            return
        r = self.ask(name)
        if kind == "refuse":
            self.assertEqual(r.rcode(), dns.rcode.REFUSED, name)
        elif kind == "rcode":
            self.assertEqual(dns.rcode.to_text(r.rcode()), verdict[1], name)
        elif kind == "spoof":
            self.assertTrue(r.answer and not r.flags & dns.flags.AA, name)
        elif kind == "truncate":
            self.assertTrue(r.flags & dns.flags.TC, name)
        else:  # forwarded: NSD's authoritative answer
            self.assertTrue(r.flags & dns.flags.AA, name)

    # ------------------------------------------------------------ the sample

    def test_sample_runs(self):
        root = Path(__file__).resolve().parents[2] / "samples"
        (self.work.path / "sample_hooks.lua").write_text((root / "hooks.lua").read_text())
        text = (root / "lua_hooks.dp").read_text()
        text = text.replace("listen 127.0.0.1:5353;", 'listen 127.0.0.1:{port};\ncontrol "{control}";')
        text = text.replace('lua "hooks.lua";', 'lua "sample_hooks.lua";')
        text = text.replace("server 192.0.2.1", f"server {self.a.server()}")
        text = text.replace("server 192.0.2.2", f"server {self.b.server()}")
        d = Dnspc(self.work.path, text)
        try:
            ask = lambda name, rdtype="A": query("127.0.0.1", d.port, name, rdtype)  # noqa: E731
            self.assertEqual(ask("www.lua.example.").rcode(), dns.rcode.REFUSED)
            self.assertEqual(ask("ask.lua.example.", "TXT").rcode(), dns.rcode.NXDOMAIN)
            self.assertTrue(ask("a.b.c.d.e.f.example.").flags & dns.flags.TC)
            # first_up: the order-1 server (nsd-a), once health checks have it up.
            def answered_by_a():
                try:
                    return first_txt(ask(f"x.who.{ZONE}", "TXT")) == "nsd-a"
                except dns.exception.Timeout:
                    return False
            wait_until(answered_by_a, 5, 0.1, "nsd-a answering through first_up")
            self.assertEqual({h["hook"] for h in d.ctl("hooks")["hooks"]},
                             {"deep_name", "silence", "first_up", "calm_servfail"})
        finally:
            d.stop()

    # ------------------------------------------------------------ reload

    def test_reload_swaps_lua_states_under_load(self):
        work = self.work.path
        marker = 'function marker(q) return "spoof", {"A 192.0.2.MARK"} end\n'
        policies = []
        for i in (1, 2):
            (work / f"marker{i}.lua").write_text(marker.replace("MARK", str(i)))
            text = self.policy_text.replace('lua "hooks.lua";', f'lua "hooks.lua";\nlua "marker{i}.lua";')
            text = text.replace("rule deep:", f'rule marker: qname suffix "marker.test." => lua marker;\nrule deep:')
            path = work / f"lua{i}.dp"
            path.write_text(text.replace("{port}", str(self.d.port)).replace("{control}", self.d.control))
            policies.append(path)
        result = {}
        load = threading.Thread(target=lambda: result.update(zip(("sent", "completed", "lost", "qps"),
                                                                  dnsperf(self.d.port, f"x.z.who.{ZONE}", 6,
                                                                          rate=10000))))
        load.start()
        time.sleep(0.5)
        try:
            for i in range(10):
                path = policies[i % 2]
                r = subprocess.run([DNSPC, "reload", "--control", self.d.control, str(path)], capture_output=True,
                                   text=True, timeout=120)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                self.assertEqual(self.ask("marker.test.").answer[0][0].address, f"192.0.2.{i % 2 + 1}")
            # A Lua file that does not load rejects the reload; the running policy stays.
            broken = work / "broken.dp"
            broken.write_text(policies[1].read_text().replace('lua "marker2.lua";', 'lua "broken.lua";'))
            (work / "broken.lua").write_text("function marker(q) error('x') end\nerror('top level fails')\n")
            r = subprocess.run([DNSPC, "reload", "--control", self.d.control, str(broken)], capture_output=True,
                               text=True, timeout=120)
            self.assertNotEqual(r.returncode, 0, r.stdout)
            self.assertIn("top level fails", r.stdout + r.stderr)
            self.assertEqual(self.ask("marker.test.").answer[0][0].address, "192.0.2.2")
        finally:
            load.join()
            subprocess.run([DNSPC, "reload", "--control", self.d.control, str(self.d.policy_path)],
                           capture_output=True, timeout=120)
        print(f"10 reloads under load: {result}", flush=True)
        self.assertEqual(result["lost"], 0, result)
        self.assertEqual(result["completed"], result["sent"], result)


if __name__ == "__main__":
    unittest.main()
