#include "dnspc/frontend/frontend.h"

#include <fmt/core.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <optional>

#include "dnspc/diag/read_file.h"
#include "dnspc/parse/parse.h"
#include "dnspc/sema/sema.h"

namespace dnspc::frontend {

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

bool cancelled(const LoadOptions& options) {
  return options.cancel && options.cancel->load(std::memory_order_relaxed);
}

LoadResult load_policy(const std::string& path, diag::Diagnostics& diags, const LoadOptions& options) {
  LoadResult result;
  auto start = std::chrono::steady_clock::now();
  std::string error;
  std::optional<std::string> text = diag::read_regular_file(path, diag::kMaxPolicyFileBytes, error);
  if (!text) {
    result.status = LoadStatus::kUnreadable;
    result.io_error = fmt::format("{}: cannot read: {}", path, error);
    return result;
  }
  double read_s = seconds_since(start);
  result = load_policy_text(path, std::move(*text), diags, options);
  result.times.read_s = read_s;
  return result;
}

LoadResult load_policy_text(const std::string& path, std::string text, diag::Diagnostics& diags,
                            const LoadOptions& options) {
  LoadResult result;
  diag::FileId file = diags.sources().add(path, std::move(text));
  size_t errors_before = diags.error_count();
  if (diags.sources().text(file).find_first_not_of(" \t\r\n") == std::string_view::npos) {
    diags.error("empty-policy", {file, 0, 0},
                "the policy file is empty; a policy needs at least a pool and a catch-all rule");
    return result;
  }
  auto start = std::chrono::steady_clock::now();
  std::shared_ptr<const void> parse_state;
  auto ast = parse::parse_policy(file, diags, options.keep_parse_state ? &parse_state : nullptr,
                                 options.thread_start);
  result.times.parse_s = seconds_since(start);
  if (!ast) return result;
  if (cancelled(options)) {
    result.status = LoadStatus::kCancelled;
    return result;
  }
  start = std::chrono::steady_clock::now();
  sema::Config config;
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  config.base_dir = dir.empty() ? "." : dir.string();
  config.check_lua = options.check_lua;
  config.thread_start = options.thread_start;
  config.cancel = options.cancel;
  sema::Model model = sema::analyze(*ast, diags, config);
  result.times.sema_s = seconds_since(start);
  if (cancelled(options)) {
    result.status = LoadStatus::kCancelled;
    return result;
  }
  if (diags.error_count() > errors_before) return result;
  result.status = LoadStatus::kOk;
  result.model = std::move(model);
  struct SyntaxTree {
    std::unique_ptr<ast::Policy> ast;
    std::shared_ptr<const void> parse_state;
  };
  result.syntax_tree =
      std::make_shared<const SyntaxTree>(SyntaxTree{std::move(ast), std::move(parse_state)});
  return result;
}

}  // namespace dnspc::frontend
