#include "nesting.h"

#include <fmt/core.h>

#include "DnsPolicyLexer.h"
#include "dnspc/parse/parse.h"

namespace dnspc::parse {

using L = grammar::DnsPolicyLexer;

bool check_condition_nesting(const std::vector<antlr4::Token*>& tokens, const OffsetMap& offsets,
                             diag::FileId file, diag::Diagnostics& diags) {
  // A `not` stays open until its operand ends: at the next predicate, or at
  // the `)` that closes the group it applies to. So the depth is the open
  // parentheses plus the `not`s waiting on each of them plus those waiting
  // at the current level.
  std::vector<uint32_t> nots_before_group;  // per open parenthesis
  uint32_t waiting_nots = 0;                 // at the current level
  uint32_t nots_in_groups = 0;               // the sum of nots_before_group
  for (const antlr4::Token* t : tokens) {
    switch (t->getType()) {
      case L::NOT:
        ++waiting_nots;
        break;
      case L::LPAREN:
        nots_before_group.push_back(waiting_nots);
        nots_in_groups += waiting_nots;
        waiting_nots = 0;
        break;
      case L::RPAREN:
        waiting_nots = 0;
        if (!nots_before_group.empty()) {
          nots_in_groups -= nots_before_group.back();
          nots_before_group.pop_back();
        }
        continue;
      case L::SEMI:  // a statement ends; unbalanced groups are the parser's to report
        nots_before_group.clear();
        nots_in_groups = waiting_nots = 0;
        continue;
      default:
        waiting_nots = 0;
        continue;
    }
    size_t depth = nots_before_group.size() + nots_in_groups + waiting_nots;
    if (depth > kMaxConditionNesting) {
      diag::SourceRange at{file, offsets.byte_offset(t->getStartIndex()),
                           offsets.byte_offset(t->getStopIndex() + 1)};
      diags.error("nesting-too-deep", at,
                  fmt::format("this condition nests more than {} levels of parentheses and `not`; "
                              "write it flatter (a long `or` or `and` chain needs no parentheses) "
                              "or move the names into a set",
                              kMaxConditionNesting));
      return false;
    }
  }
  return true;
}

}  // namespace dnspc::parse
