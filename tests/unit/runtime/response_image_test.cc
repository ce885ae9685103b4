// The bridge's response rules: the image lists them as plain data and gives
// a response decision function, native (with a JIT engine) or the C++
// optimised evaluator (--no-jit), called as policy_image.h tells the
// runtime to; validate() refuses a Lua response action.
#include <catch2/catch.hpp>

#include <bit>

#include "dnspc/frontend/frontend.h"
#include "dnspc/jit/native.h"
#include "dnspc/pipeline/pipeline.h"
#include "dnspc/runtime/bridge.h"
#include "dnspc/runtime/runtime.h"
#include "dnspc/wire.h"
#include "packet_builder.h"

using namespace dnspc;

namespace {

std::shared_ptr<const pipeline::CompiledPolicy> compile(const std::string& text) {
  diag::SourceManager sources;
  diag::Diagnostics diags(sources);
  frontend::LoadOptions options;
  options.check_lua = false;
  auto loaded = frontend::load_policy_text("t.dp", text, diags, options);
  INFO(diag::render_text(diags));
  REQUIRE(loaded.model);
  return std::make_shared<const pipeline::CompiledPolicy>(
      pipeline::compile_model(std::move(*loaded.model)));
}

const char* kPolicy = R"(
listen 127.0.0.1:5300;
pool p { server 192.0.2.1; }
rule flaky: qname suffix "flaky.test." => tag "flaky" pool p;
rule default: true => pool p;
response rule failed: rcode == SERVFAIL => tag "failed" log;
response rule hide: rcode == SERVFAIL and tagged "flaky" => rcode NXDOMAIN;
response rule slow: latency > 500ms => log drop;
)";

struct Outcome {
  std::vector<std::string> matched;  // rule names, in order
  Verdict last;
  uint64_t tags = 0;
};

// One answer through the image, exactly as policy_image.h describes.
Outcome respond(const runtime::PolicyImage& im, const std::string& qname, ResponseFacts facts) {
  auto bytes = testing::PacketBuilder().header(1, 0x0100, 1).question(qname, 1).bytes();
  QueryView view;
  REQUIRE(parse_query(bytes.data(), bytes.size(), Transport::kUdp, view) == ParseError::kOk);
  view.source = *NetAddress::parse("127.0.0.1");
  std::vector<uint32_t> scratch(
      std::max(im.decide.scratch_words, im.response_decide.scratch_words));
  DecisionState s;
  s.random = 1;
  s.scratch = scratch.data();
  s.scratch_words = static_cast<uint32_t>(scratch.size());
  const Verdict query = im.decide(view, s);
  s.tags = im.rules[query.rule].tag_bits;
  s.response = facts;
  s.first_rule = 0;
  Outcome out;
  for (;;) {
    out.last = im.response_decide(view, s);
    if (out.last.rule >= im.response_rules.size()) break;
    const runtime::ResponseRuleSpec& r = im.response_rules[out.last.rule];
    out.matched.push_back(r.name);
    s.tags |= r.tag_bits;
    if (out.last.action != ActionKind::kAllow) break;
    s.first_rule = out.last.rule + 1;
  }
  out.tags = s.tags;
  return out;
}

void check_image(const runtime::PolicyImage& im) {
  CHECK(runtime::validate(im).empty());
  REQUIRE(im.response_rules.size() == 3);
  CHECK(im.response_rules[0].name == "failed");
  CHECK(im.response_rules[0].action == ActionKind::kAllow);
  CHECK(im.response_rules[0].modifiers == (modifier_bits::kTag | modifier_bits::kLog));
  CHECK(im.tags[std::countr_zero(im.response_rules[0].tag_bits)] == "failed");
  CHECK(im.response_rules[1].action == ActionKind::kRcode);
  CHECK(im.response_rules[1].argument == 3);
  CHECK(im.response_rules[2].action == ActionKind::kDrop);
  CHECK(im.response_rules[2].modifiers == modifier_bits::kLog);
  REQUIRE(im.response_decide.fn);

  // A SERVFAIL for a flaky name: tagged and logged by `failed`, then hidden.
  Outcome o =
      respond(im, "www.flaky.test.", {.latency_us = 1000, .size = 60, .rcode = 2, .answers = 0});
  CHECK(o.matched == std::vector<std::string>{"failed", "hide"});
  CHECK(o.last.action == ActionKind::kRcode);
  CHECK(o.last.argument == 3);
  CHECK(o.tags == (im.rules[0].tag_bits | im.response_rules[0].tag_bits));
  // The same SERVFAIL for another name: tagged and logged, then sent as it is.
  o = respond(im, "www.other.test.", {.latency_us = 1000, .size = 60, .rcode = 2, .answers = 0});
  CHECK(o.matched == std::vector<std::string>{"failed"});
  CHECK(o.last.rule == 3);
  CHECK(o.last.action == ActionKind::kAllow);
  // Slow: dropped; latency compares whole milliseconds.
  o = respond(im, "www.other.test.", {.latency_us = 500'999, .size = 60, .rcode = 0, .answers = 1});
  CHECK(o.matched.empty());
  o = respond(im, "www.other.test.", {.latency_us = 501'000, .size = 60, .rcode = 0, .answers = 1});
  CHECK(o.matched == std::vector<std::string>{"slow"});
  CHECK(o.last.action == ActionKind::kDrop);
}

}  // namespace

TEST_CASE("bridge: response rules with the optimised evaluator (--no-jit)",
          "[runtime][responses]") {
  std::string error;
  auto image = runtime_bridge::make_image(compile(kPolicy), "t.dp", nullptr, error);
  REQUIRE(image);
  check_image(*image);
  // The workers apply them: not listed among what the runtime does not apply.
  for (const std::string& s : image->not_applied) CHECK(s.find("response rule") == std::string::npos);
}

TEST_CASE("bridge: response rules in native code", "[runtime][responses]") {
  std::string error;
  auto engine = jit::Engine::create(error);
  REQUIRE(engine);
  auto image = runtime_bridge::make_image(compile(kPolicy), "t.dp", engine.get(), error);
  INFO(error);
  REQUIRE(image);
  check_image(*image);
}

TEST_CASE("bridge: no response rules, no response decision function", "[runtime][responses]") {
  std::string error;
  auto image = runtime_bridge::make_image(
      compile(
          "listen 127.0.0.1:5300;\npool p { server 192.0.2.1; }\nrule default: true => pool p;\n"),
      "t.dp", nullptr, error);
  REQUIRE(image);
  CHECK(image->response_rules.empty());
  CHECK(image->response_decide.fn == nullptr);
  CHECK(runtime::validate(*image).empty());
}

TEST_CASE("validate: a Lua action must name one of the image's hooks", "[runtime][responses]") {
  std::string error;
  auto image = runtime_bridge::make_image(compile(R"(
listen 127.0.0.1:5300;
pool p { server 192.0.2.1; }
rule default: true => pool p;
response rule fix: rcode == SERVFAIL => drop;
)"),
                                          "t.dp", nullptr, error);
  REQUIRE(image);
  CHECK(runtime::validate(*image).empty());
  image->response_rules[0].action = ActionKind::kLua;  // as a mismatched bridge would leave it
  CHECK(runtime::validate(*image) == "response rule 'fix' calls a Lua action the policy's Lua hooks do not have");
  image->lua.hooks = {"repair"};
  image->lua.response_uses = {0};
  CHECK(runtime::validate(*image).empty());
  image->rules[0].action = ActionKind::kLua;
  CHECK(runtime::validate(*image) == "rule 'default' calls a Lua action the policy's Lua hooks do not have");
}
