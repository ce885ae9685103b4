// The two-stage parse (../shared/NOTES.md): SLL prediction with a bail-out
// error strategy, over FastLexer's tokens, is fast and right for valid input;
// only when it fails do we lex again with ANTLR's own lexer and parse with
// full LL and error recovery, for precise messages. Large files are split
// into chunks of whole statements parsed on several cores; their diagnostics
// and statements are joined back in file order.
#include "dnspc/parse/parse.h"

#include <antlr4-runtime.h>
#include <fmt/core.h>

#include <algorithm>
#include <thread>

#include "DnsPolicyLexer.h"
#include "DnsPolicyParser.h"
#include "fast_lexer.h"
#include "nesting.h"
#include "split.h"
#include "syntax_errors.h"
#include "transformer.h"

namespace dnspc::parse {

namespace {

constexpr size_t kMinChunk = 256 * 1024;  // below this, threads cost more than they save

// What parsing one chunk builds besides the AST: the code points, tokens and
// parse tree. Freeing them costs as much as a fifth of the parse, so a caller
// about to exit may keep them instead (see parse.h).
struct ChunkState {
  explicit ChunkState(std::string_view text)
      : input(text), fast_lexer(input), fast_tokens(&fast_lexer), parser(&fast_tokens) {}
  CodePointStream input;
  FastLexer fast_lexer;
  antlr4::CommonTokenStream fast_tokens;
  grammar::DnsPolicyParser parser;
  // The error stage's own lexer and tokens.
  std::unique_ptr<grammar::DnsPolicyLexer> lexer;
  std::unique_ptr<antlr4::CommonTokenStream> tokens;
};

// Parses one chunk of the file (whole statements) starting at byte `base`.
std::unique_ptr<ast::Policy> parse_chunk(ChunkState& state, std::string_view text, uint32_t base,
                                         diag::FileId file, diag::Diagnostics& diags) {
  OffsetMap offsets(text, base);
  grammar::DnsPolicyParser& parser = state.parser;
  parser.removeErrorListeners();

  // Both parse stages recurse once per nesting level: bound it first.
  state.fast_tokens.fill();
  if (!check_condition_nesting(state.fast_tokens.getTokens(), offsets, file, diags)) return nullptr;

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
    state.lexer = std::make_unique<grammar::DnsPolicyLexer>(&state.input);
    state.lexer->removeErrorListeners();  // UNEXPECTED_CHAR makes lexing total
    state.tokens = std::make_unique<antlr4::CommonTokenStream>(state.lexer.get());
    parser.setTokenStream(state.tokens.get());
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

// The offset of the first byte that does not belong to a well-formed UTF-8
// sequence, or npos. ANTLR's input stream throws on such text.
size_t first_bad_utf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    size_t n = diag::utf8_sequence_length(text, i);
    if (n == 0) return i;
    i += n;
  }
  return std::string_view::npos;
}

template <typename T>
void append(std::vector<T>& to, std::vector<T>& from) {
  to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
}

}  // namespace

std::unique_ptr<ast::Policy> parse_policy(diag::FileId file, diag::Diagnostics& diags,
                                          std::shared_ptr<const void>* keep,
                                          void (*thread_start)()) {
  std::string_view text = diags.sources().text(file);
  if (size_t bad = first_bad_utf8(text); bad != std::string_view::npos) {
    diags.error("bad-encoding", {file, static_cast<uint32_t>(bad), static_cast<uint32_t>(bad + 1)},
                fmt::format("byte 0x{:02x} does not belong to UTF-8 text; save the policy as UTF-8",
                            static_cast<unsigned char>(text[bad])));
    return nullptr;
  }
  unsigned cores = std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
  std::vector<size_t> starts = split_statements(text, cores, kMinChunk);
  size_t n = starts.size();
  auto states = std::make_shared<std::vector<std::unique_ptr<ChunkState>>>(n);
  // Without `keep`, the states die with `states` on return, as any local.
  if (keep) *keep = states;
  auto chunk = [&](size_t i) {
    return text.substr(starts[i], (i + 1 < n ? starts[i + 1] : text.size()) - starts[i]);
  };
  if (n == 1) {
    (*states)[0] = std::make_unique<ChunkState>(text);
    return parse_chunk(*(*states)[0], text, 0, file, diags);
  }

  // Each chunk reports into its own Diagnostics (they share the read-only
  // sources), joined in order afterwards.
  std::vector<std::unique_ptr<ast::Policy>> parts(n);
  std::vector<std::unique_ptr<diag::Diagnostics>> part_diags;
  for (size_t i = 0; i < n; ++i) part_diags.push_back(std::make_unique<diag::Diagnostics>(diags.sources()));
  auto work = [&](size_t i) {
    (*states)[i] = std::make_unique<ChunkState>(chunk(i));
    parts[i] = parse_chunk(*(*states)[i], chunk(i), static_cast<uint32_t>(starts[i]), file,
                           *part_diags[i]);
  };
  std::vector<std::thread> threads;
  for (size_t i = 1; i < n; ++i) {
    threads.emplace_back([&, i] {
      if (thread_start) thread_start();
      work(i);
    });
  }
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
    append(policy->xdps, p.xdps);
  }
  return policy;
}

}  // namespace dnspc::parse
