#include "kernel_report.h"

#include <fmt/core.h>

#include <vector>

namespace dnspc::cli {

namespace {

// "75,032".
std::string grouped(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string place(const diag::SourceManager& sources, diag::SourceRange r) {
  if (!r.valid()) return "?";
  diag::LineColumn lc = sources.position(r.file, r.begin);
  return fmt::format("{}:{}:{}", sources.path(r.file), lc.line, lc.column);
}

std::string xdp_head(const sema::XdpSetting& xdp) {
  return fmt::format("xdp {} ({})", xdp.interface, sema::xdp_mode_name(xdp.mode));
}

}  // namespace

std::string kernel_prefix_sentence(const pipeline::CompiledPolicy& policy,
                                   const kernel::KernelPrefix& prefix,
                                   const diag::SourceManager& sources) {
  const ir::Program& p = policy.optimized.program;
  const size_t total = p.rules.size();
  std::string out;
  if (prefix.rules == 0) {
    out = fmt::format("none of the {} rules runs in the kernel", grouped(total));
  } else if (prefix.rules == total) {
    out = total == 1 ? "the policy's 1 rule runs in the kernel"
                     : fmt::format("all {} rules run in the kernel", grouped(total));
  } else if (prefix.rules == 1) {
    out = fmt::format("rule 1 of {} runs in the kernel", grouped(total));
  } else {
    out = fmt::format("rules 1-{} of {} run in the kernel", grouped(prefix.rules), grouped(total));
  }
  if (prefix.rules > 0) {
    using kernel::RuleFold;
    const std::pair<RuleFold, const char*> folds[] = {{RuleFold::kName, "name"},
                                                      {RuleFold::kSource, "source"},
                                                      {RuleFold::kDestination, "destination"},
                                                      {RuleFold::kQtypeName, "qtype-and-name"},
                                                      {RuleFold::kRegex, "name-and-regex"}};
    std::vector<std::string> parts;
    for (auto [fold, what] : folds) {
      if (uint32_t n = prefix.folded(fold)) {
        parts.push_back(
            fmt::format("{} {}into {} lookups", grouped(n), parts.empty() ? "folded " : "", what));
      }
    }
    if (uint32_t n = prefix.folded(RuleFold::kGeneral))
      parts.push_back(grouped(n) + " as general code");
    std::string list;
    for (const std::string& part : parts) list += (list.empty() ? "" : ", ") + part;
    out += " (" + list + ")";
  }
  if (prefix.rules < total) {
    const ir::Rule& end = p.rules[prefix.rules];
    out += fmt::format("; rule {} '{}' at {} stays in user space: {}", grouped(prefix.rules + 1),
                       end.name, place(sources, end.range), prefix.end_reason);
  }
  return out;
}

void note_kernel_prefix(const pipeline::CompiledPolicy& policy, diag::Diagnostics& diags) {
  if (!policy.model.xdp) return;
  kernel::KernelPrefix prefix = kernel::find_kernel_prefix(policy.optimized.program);
  diag::Diagnostic& d = diags.note(
      "xdp-prefix", policy.model.xdp->range,
      xdp_head(*policy.model.xdp) + ": " + kernel_prefix_sentence(policy, prefix, diags.sources()));
  if (prefix.end_range.valid())
    d.notes.push_back({prefix.end_range, "the kernel's part of the policy ends here"});
}

std::string kernel_section(const pipeline::CompiledPolicy& policy,
                           const diag::SourceManager& sources) {
  kernel::KernelPrefix prefix = kernel::find_kernel_prefix(policy.optimized.program);
  const kernel::KernelLimits limits;
  std::string out = "\nkernel fast path (docs/xdp.md):\n";
  std::string sentence = kernel_prefix_sentence(policy, prefix, sources);
  if (policy.model.xdp) {
    out += fmt::format("  {}: {}\n", xdp_head(*policy.model.xdp), sentence);
  } else {
    out += fmt::format("  off (no `xdp` statement); with one: {}\n", sentence);
  }
  out += fmt::format(
      "  budgets used by general code: name bits {}/{}, source bits {}/{}, destination bits {}/{}, "
      "regexes {}/{}, "
      "rules {}/{}, tests {}/{}\n",
      prefix.name_bits, limits.name_bits, prefix.source_bits, limits.source_bits,
      prefix.destination_bits, limits.destination_bits, prefix.general_regexes,
      limits.general_regexes, grouped(prefix.folded(kernel::RuleFold::kGeneral)),
      grouped(limits.general_rules), grouped(prefix.general_tests), grouped(limits.general_tests));
  if (prefix.rules < policy.optimized.program.rules.size()) {
    out += fmt::format(
        "  a UDP query the kernel does not decide goes up, and user space evaluates it from rule "
        "{}; TCP queries "
        "are evaluated whole in user space\n",
        grouped(prefix.rules + 1));
  } else {
    out +=
        "  every UDP query the kernel parses is decided there; TCP queries are evaluated whole in "
        "user space\n";
  }
  return out;
}

}  // namespace dnspc::cli
