// The two-stage parse (../shared/NOTES.md): SLL prediction with a bail-out
// error strategy is fast and right for valid input; only when it fails do we
// parse again with full LL and error recovery, for precise messages.
#include "dnspc/parse/parse.h"

#include <antlr4-runtime.h>

#include "DnsPolicyLexer.h"
#include "DnsPolicyParser.h"
#include "syntax_errors.h"
#include "transformer.h"

namespace dnspc::parse {

std::unique_ptr<ast::Policy> parse_policy(diag::FileId file, diag::Diagnostics& diags) {
  std::string_view text = diags.sources().text(file);
  OffsetMap offsets(text);
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

}  // namespace dnspc::parse
