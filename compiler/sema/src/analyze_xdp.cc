// The `xdp` statement (docs/xdp.md): one interface and its attach mode.
// The interface is checked as Linux checks a device name (dev_valid_name),
// so that a name the kernel would refuse is an error at check time, with its
// place, and not a failure at start.
#include <fmt/core.h>

#include <cctype>

#include "analyzer.h"

namespace dnspc::sema {

namespace {

constexpr size_t kMaxInterfaceName = 15;  // IFNAMSIZ - 1

// Why Linux would refuse `name` as a device name, or empty when it would not.
std::string interface_problem(const std::string& name) {
  if (name.empty())
    return "the xdp interface name is empty; write the interface that carries the listener's "
           "traffic, like \"eth0\"";
  if (name.size() > kMaxInterfaceName) {
    return fmt::format(
        "interface name '{}' is {} bytes long; Linux interface names are at most {} (IFNAMSIZ - 1)",
        name, name.size(), kMaxInterfaceName);
  }
  if (name == "." || name == "..") {
    return fmt::format(
        "'{}' is not an interface name; write the interface that carries the listener's traffic, "
        "like \"eth0\"",
        name);
  }
  for (char c : name) {
    if (c == '/' || c == ':') {
      return fmt::format(
          "interface name '{}' contains '{}', which Linux interface names cannot; "
          "write the name `ip link` shows, like \"eth0\"",
          name, c);
    }
    if (std::isspace(static_cast<unsigned char>(c))) {
      return fmt::format(
          "interface name '{}' contains whitespace, which Linux interface names cannot; "
          "write the name `ip link` shows, like \"eth0\"",
          name);
    }
  }
  return {};
}

}  // namespace

void Analyzer::analyze_xdp() {
  for (const ast::XdpStmt& stmt : ast_.xdps) {
    if (model_.xdp) {
      auto& d = diags_.error(
          "duplicate-xdp", stmt.range,
          "xdp is set twice; the kernel fast path attaches to one interface, so keep one "
          "`xdp` statement");
      d.notes.push_back({model_.xdp->range, "first set here"});
      continue;
    }
    XdpSetting out;
    out.interface = stmt.interface;
    out.range = stmt.range;
    if (std::string problem = interface_problem(stmt.interface); !problem.empty()) {
      diags_.error("bad-interface", stmt.interface_range, problem);
    }
    const ast::XdpAttr* mode = nullptr;
    for (const ast::XdpAttr& attr : stmt.settings) {
      if (attr.name.text != "mode") {
        diags_.error(
            "unknown-xdp-setting", attr.name.range,
            fmt::format("unknown xdp setting '{}'; the only one is `mode native` or `mode generic`",
                        attr.name.text));
        continue;
      }
      if (mode) {
        auto& d =
            diags_.error("duplicate-xdp-setting", attr.range, "xdp sets its mode twice; keep one");
        d.notes.push_back({mode->range, "first set here"});
        continue;
      }
      mode = &attr;
      const ast::Value& v = attr.value;
      if (v.invalid) continue;  // already reported
      if (v.kind == ast::Value::Kind::kIdent && v.text == "native") {
        out.mode = XdpMode::kNative;
      } else if (v.kind == ast::Value::Kind::kIdent && v.text == "generic") {
        out.mode = XdpMode::kGeneric;
      } else {
        std::string guess = v.kind == ast::Value::Kind::kIdent
                                ? diag::closest_match(v.text, {"native", "generic"})
                                : std::string();
        diags_.error(
            "unknown-xdp-mode", v.range,
            fmt::format("unknown xdp mode '{}'{}; use native (in the driver, for production) or "
                        "generic (any interface, for veth, lo and tests)",
                        v.text, guess.empty() ? "" : fmt::format(" (did you mean '{}'?)", guess)));
      }
    }
    // A bad statement still counts as the first one (the policy has errors
    // and its model is not used), so that a second is reported as a duplicate.
    model_.xdp = std::move(out);
  }
}

}  // namespace dnspc::sema
