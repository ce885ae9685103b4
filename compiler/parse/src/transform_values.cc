#include <fmt/core.h>

#include <charconv>
#include <cstdlib>

#include "transformer.h"

namespace dnspc::parse {

using ast::Value;

std::string Transformer::text(antlr4::tree::ParseTree* tree) {
  std::string out;
  append_text(tree, out);
  return out;
}

void Transformer::append_text(antlr4::tree::ParseTree* tree, std::string& out) {
  if (auto* leaf = dynamic_cast<antlr4::tree::TerminalNode*>(tree)) {
    out += leaf->getText();
    return;
  }
  for (antlr4::tree::ParseTree* child : tree->children) {
    if (child) append_text(child, out);
  }
}

diag::SourceRange Transformer::range(antlr4::ParserRuleContext* ctx) const {
  if (!ctx || !ctx->getStart() || !ctx->getStop()) return {};
  size_t begin = ctx->getStart()->getStartIndex();
  size_t stop = ctx->getStop()->getStopIndex();
  // An empty rule (an epsilon alternative) has its stop before its start.
  if (ctx->getStop()->getTokenIndex() < ctx->getStart()->getTokenIndex()) return {};
  return {file_, offsets_.byte_offset(begin), offsets_.byte_offset(stop + 1)};
}

diag::SourceRange Transformer::range(const antlr4::Token* t) const {
  if (!t) return {};
  return {file_, offsets_.byte_offset(t->getStartIndex()), offsets_.byte_offset(t->getStopIndex() + 1)};
}

ast::Name Transformer::name(antlr4::Token* t) {
  if (!t) return {};
  ast::Name out{t->getText(), range(t)};
  if (out.text.size() > kMaxIdentifierLength) {
    // Names end up in logs, metrics labels and every message about the thing.
    diags_.error("name-too-long", out.range,
                 fmt::format("this name is {} bytes long; names (rules, pools, sets, blocks) may have at most {}",
                             out.text.size(), kMaxIdentifierLength));
  }
  return out;
}

std::string Transformer::unquote(antlr4::Token* t) {
  std::string raw = t->getText();
  std::string out;
  // A backslash takes the next character literally: \" and \\ are the
  // only escapes a policy needs.
  for (size_t i = 1; i + 1 < raw.size(); ++i) {
    if (raw[i] == '\\' && i + 2 < raw.size()) ++i;
    out += raw[i];
  }
  return out;
}

std::optional<int64_t> Transformer::integer(antlr4::Token* t) {
  std::string text = t->getText();
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    diags_.error("bad-integer", range(t), fmt::format("integer '{}' is too large", text));
    return std::nullopt;
  }
  return v;
}

std::optional<uint64_t> Transformer::duration_ms(antlr4::Token* t) {
  std::string text = t->getText();
  size_t digits = text.find_first_not_of("0123456789");
  std::string unit = text.substr(digits);
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + digits, n);
  uint64_t scale = unit == "ms" ? 1 : unit == "s" ? 1000 : unit == "m" ? 60'000 : unit == "h" ? 3'600'000 : 86'400'000;
  if (ec != std::errc{} || n > UINT64_MAX / scale / 1'000'000) {
    diags_.error("bad-duration", range(t), fmt::format("duration '{}' is too long", text));
    return std::nullopt;
  }
  return n * scale;
}

NetAddress Transformer::address(antlr4::Token* t, bool ipv6) {
  auto a = NetAddress::parse(t->getText());
  if (!a || a->is_v6() != ipv6) {
    diags_.error("bad-address", range(t),
                 fmt::format("'{}' is not a valid IPv{} address", t->getText(), ipv6 ? 6 : 4));
    return NetAddress{};
  }
  return *a;
}

uint16_t Transformer::port(antlr4::tree::TerminalNode* n) {
  std::optional<int64_t> parsed = integer(n->getSymbol());
  if (!parsed) return 0;
  int64_t v = *parsed;
  if (v < 1 || v > 65535) {
    diags_.error("bad-port", range(n), fmt::format("port {} is out of range; use 1 to 65535", n->getText()));
    return 0;
  }
  return static_cast<uint16_t>(v);
}

ast::Endpoint Transformer::transform_endpoint(P::EndpointContext* ctx) {
  ast::Endpoint out;
  out.range = range(ctx);
  if (ctx->IPV4()) {
    out.address = address(ctx->IPV4()->getSymbol(), false);
  } else if (ctx->IPV6()) {
    out.address = address(ctx->IPV6()->getSymbol(), true);
  }
  if (ctx->INT()) {
    out.address.port = port(ctx->INT());
    out.has_port = true;
  }
  return out;
}

ast::Endpoint Transformer::transform_endpoint_value(P::EndpointValueContext* ctx) {
  ast::Endpoint out;
  out.range = range(ctx);
  if (ctx->IPV4()) out.address = address(ctx->IPV4()->getSymbol(), false);
  if (ctx->IPV6()) out.address = address(ctx->IPV6()->getSymbol(), true);
  if (ctx->INT()) {
    out.address.port = port(ctx->INT());
    out.has_port = true;
  }
  return out;
}

ast::Netmask Transformer::transform_netmask(P::NetmaskContext* ctx) {
  ast::Netmask out;
  out.range = range(ctx);
  if (ctx->IPV4()) out.address = address(ctx->IPV4()->getSymbol(), false);
  if (ctx->IPV6()) out.address = address(ctx->IPV6()->getSymbol(), true);
  if (ctx->INT()) {
    std::optional<int64_t> parsed = integer(ctx->INT()->getSymbol());
    if (!parsed) {
      out.address.family = AddressFamily::kNone;  // reported; sema skips it
      return out;
    }
    int64_t len = *parsed;
    int64_t max = out.address.is_v6() ? 128 : 32;
    if (len > max) {
      diags_.error("bad-prefix", range(ctx->INT()),
                   fmt::format("prefix length /{} is longer than an IPv{} address (/{})", len,
                               out.address.is_v6() ? 6 : 4, max));
      len = max;
    }
    out.prefix = static_cast<int>(len);
  }
  return out;
}

Value Transformer::transform_number(P::NumberContext* ctx) {
  Value v;
  v.range = range(ctx);
  v.text = text(ctx);
  if (ctx->INT()) {
    v.kind = Value::Kind::kInt;
    auto parsed = integer(ctx->INT()->getSymbol());
    v.invalid = !parsed;
    v.integer = parsed.value_or(0);
    v.number = static_cast<double>(v.integer);
  } else {
    v.kind = Value::Kind::kFloat;
    v.number = std::strtod(v.text.c_str(), nullptr);
  }
  return v;
}

Value Transformer::transform_value(P::ValueContext* ctx) {
  Value v;
  v.range = range(ctx);
  v.text = text(ctx);
  if (ctx->STRING()) {
    v.kind = Value::Kind::kString;
    v.text = unquote(ctx->STRING()->getSymbol());
  } else if (ctx->INT()) {
    v.kind = Value::Kind::kInt;
    auto parsed = integer(ctx->INT()->getSymbol());
    v.invalid = !parsed;
    v.integer = parsed.value_or(0);
    v.number = static_cast<double>(v.integer);
  } else if (ctx->FLOAT()) {
    v.kind = Value::Kind::kFloat;
    v.number = std::strtod(v.text.c_str(), nullptr);
  } else if (ctx->DURATION()) {
    v.kind = Value::Kind::kDuration;
    auto parsed = duration_ms(ctx->DURATION()->getSymbol());
    v.invalid = !parsed;
    v.duration_ms = parsed.value_or(0);
  } else if (ctx->IDENT() || ctx->DROP() || ctx->REFUSE()) {
    v.kind = Value::Kind::kIdent;
  } else if (ctx->TRUE() || ctx->FALSE()) {
    v.kind = Value::Kind::kBool;
    v.integer = ctx->TRUE() ? 1 : 0;
  } else if (ctx->netmask()) {
    v.kind = Value::Kind::kNetmask;
    v.netmask = transform_netmask(ctx->netmask());
  } else if (ctx->endpointValue()) {
    v.kind = Value::Kind::kEndpoint;
    v.endpoint = transform_endpoint_value(ctx->endpointValue());
  }
  return v;
}

}  // namespace dnspc::parse
