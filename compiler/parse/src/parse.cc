// The two-stage parse (../shared/NOTES.md): SLL prediction with a bail-out
// error strategy is fast and right for valid input; only when it fails do we
// parse again with full LL and error recovery, for precise messages. Large
// files are split into chunks of whole statements parsed on several cores;
// their diagnostics and statements are joined back in file order.
#include "dnspc/parse/parse.h"

#include <antlr4-runtime.h>

#include <algorithm>
#include <thread>

#include "DnsPolicyLexer.h"
#include "DnsPolicyParser.h"
#include "split.h"
#include "syntax_errors.h"
#include "transformer.h"

namespace dnspc::parse {

namespace {

constexpr size_t kMinChunk = 256 * 1024;  // below this, threads cost more than they save

// Parses one chunk of the file (whole statements) starting at byte `base`.
std::unique_ptr<ast::Policy> parse_chunk(std::string_view text, uint32_t base, diag::FileId file,
                                         diag::Diagnostics& diags) {
  OffsetMap offsets(text, base);
  antlr4::ANTLRInputStream input(text.data(), text.size());
  grammar::DnsPolicyLexer lexer(&input);
  lexer.removeErrorListeners();  // UNEXPECTED_CHAR makes lexing total
  antlr4::CommonTokenStream tokens(&lexer);
  grammar::DnsPolicyParser parser(&tokens);
  parser.removeErrorListeners();

  grammar::DnsPolicyParser::PolicyContext* tree = nullptr;
  parser.setErrorHandler(std::make_shared<antlr4::BailErrorStrategy>());
  parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(
      antlr4::atn::PredictionMode::SLL);
  try {
    tree = parser.policy();
  } catch (const antlr4::ParseCancellationException&) {
    tree = nullptr;
  }
  if (!tree) {
    tokens.seek(0);
    parser.reset();
    SyntaxErrorListener listener(diags, file, offsets);
    parser.addErrorListener(&listener);
    parser.setErrorHandler(std::make_shared<antlr4::DefaultErrorStrategy>());
    parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(
        antlr4::atn::PredictionMode::LL);
    tree = parser.policy();
    parser.removeErrorListeners();
    if (listener.errors() > 0) return nullptr;
  }
  Transformer transformer(diags, file, offsets);
  return transformer.transform(tree);
}

template <typename T>
void append(std::vector<T>& to, std::vector<T>& from) {
  to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
}

}  // namespace

std::unique_ptr<ast::Policy> parse_policy(diag::FileId file, diag::Diagnostics& diags) {
  std::string_view text = diags.sources().text(file);
  unsigned cores = std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
  std::vector<size_t> starts = split_statements(text, cores, kMinChunk);
  if (starts.size() == 1) return parse_chunk(text, 0, file, diags);

  // Each chunk reports into its own Diagnostics (they share the read-only
  // sources), joined in order afterwards.
  size_t n = starts.size();
  std::vector<std::unique_ptr<ast::Policy>> parts(n);
  std::vector<std::unique_ptr<diag::Diagnostics>> part_diags;
  for (size_t i = 0; i < n; ++i) part_diags.push_back(std::make_unique<diag::Diagnostics>(diags.sources()));
  auto work = [&](size_t i) {
    size_t end = i + 1 < n ? starts[i + 1] : text.size();
    parts[i] = parse_chunk(text.substr(starts[i], end - starts[i]), static_cast<uint32_t>(starts[i]), file,
                           *part_diags[i]);
  };
  std::vector<std::thread> threads;
  for (size_t i = 1; i < n; ++i) threads.emplace_back(work, i);
  work(0);
  for (auto& t : threads) t.join();

  bool failed = false;
  for (size_t i = 0; i < n; ++i) {
    diags.append(*part_diags[i]);
    failed |= parts[i] == nullptr;
  }
  if (failed) return nullptr;
  auto policy = std::move(parts[0]);
  for (size_t i = 1; i < n; ++i) {
    ast::Policy& p = *parts[i];
    append(policy->listens, p.listens);
    append(policy->acls, p.acls);
    append(policy->endpoints, p.endpoints);
    append(policy->lua_files, p.lua_files);
    append(policy->options, p.options);
    append(policy->pools, p.pools);
    append(policy->sets, p.sets);
    append(policy->rules, p.rules);
    append(policy->response_rules, p.response_rules);
    append(policy->dynblocks, p.dynblocks);
  }
  return policy;
}

}  // namespace dnspc::parse
