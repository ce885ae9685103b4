// The case-file parser: line-based, no policy needed. Grammar (one case a line):
//   [at [+]DURATION] [xN] [every DURATION] QNAME [QTYPE] [QCLASS] {OPTION} => EXPECT {, EXPECT}
//   EXPECT: RULE [ACTION [ARG]] [*COUNT]
#include "dnspc/cases/case_file.h"

#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <limits>
#include <set>

#include "dnspc/diag/read_file.h"
#include "dnspc/dns_names.h"
#include "dnspc/wire.h"

namespace dnspc::cases {

std::string CaseError::to_string() const { return fmt::format("{}:{}: {}", path, line, message); }

NetAddress default_source() {
  const uint8_t loopback[4] = {127, 0, 0, 1};
  return NetAddress::ipv4(loopback, 53000);
}

namespace {

struct Token {
  std::string_view text;
  size_t column = 0;  // 1-based
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Splits `s` (which starts at 1-based column `base`) on blanks.
std::vector<Token> split_words(std::string_view s, size_t base) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    size_t start = i;
    while (i < s.size() && !is_space(s[i])) ++i;
    if (i > start) out.push_back({s.substr(start, i - start), base + start});
  }
  return out;
}

template <typename T>
std::optional<T> parse_uint(std::string_view s, T max) {
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || v > static_cast<uint64_t>(max)) return std::nullopt;
  return static_cast<T>(v);
}

// Words after the query name that are options, never a qtype or qclass.
const std::set<std::string_view>& option_words() {
  static const std::set<std::string_view> words = {
      "from", "to", "udp", "tcp", "rd", "nord", "cd", "ad", "aa", "tc", "ra", "do", "edns",
      "payload", "ednsversion", "option", "ecs", "padding", "opcode", "id", "answer", "answer_bytes"};
  return words;
}

bool is_repeat_word(std::string_view w) {
  return w.size() >= 2 && w[0] == 'x' &&
         std::all_of(w.begin() + 1, w.end(), [](char c) { return c >= '0' && c <= '9'; });
}

class LineParser {
 public:
  LineParser(std::string_view path, size_t line, std::vector<CaseError>& errors)
      : path_(path), line_(line), errors_(errors) {}

  // Parses one non-empty line (comment already stripped). `clock` is the
  // virtual time after the previous case; it advances on success.
  std::optional<Case> parse(std::string_view text, uint64_t& clock) {
    Case c;
    c.line = line_;
    c.text = std::string(trim(text));
    size_t arrow = text.find("=>");
    if (arrow == std::string_view::npos) {
      return fail(0, "missing '=>' and the expected verdict (QNAME ... => RULE)");
    }
    std::vector<Token> left = split_words(text.substr(0, arrow), 1);
    if (!parse_query(left, c, clock)) return std::nullopt;
    if (!parse_expectations(text.substr(arrow + 2), arrow + 3, c)) return std::nullopt;
    clock = c.time_of(c.repeat - 1);
    return c;
  }

 private:
  std::nullopt_t fail(size_t column, std::string message) {
    errors_.push_back({std::string(path_), line_, column, std::move(message)});
    return std::nullopt;
  }
  bool error(size_t column, std::string message) {
    fail(column, std::move(message));
    return false;
  }

  bool parse_query(const std::vector<Token>& t, Case& c, uint64_t clock) {
    size_t i = 0;
    bool have_at = false, have_repeat = false, have_every = false;
    std::optional<uint64_t> at;
    // Prefix items: at, xN, every, in any order.
    while (i < t.size()) {
      std::string_view w = t[i].text;
      if (w == "at") {
        if (have_at) return error(t[i].column, "'at' given twice");
        have_at = true;
        if (i + 1 >= t.size()) return error(t[i].column, "'at' needs a time: at 1500ms, at 2s, at +100ms");
        std::string_view d = t[i + 1].text;
        bool relative = d.starts_with('+');
        if (relative) d.remove_prefix(1);
        auto ns = parse_duration(d);
        if (!ns) return error(t[i + 1].column, fmt::format("bad time '{}': write an integer or decimal with "
                                                           "a unit (us, ms, s, m, h), like 1500ms or 2s",
                                                           t[i + 1].text));
        uint64_t when = relative ? clock + *ns : *ns;
        if (when < clock) {
          return error(t[i + 1].column,
                       fmt::format("time goes back: 'at {}' is before the clock ({}); times are absolute "
                                   "from the start of the file and never decrease ('at +DURATION' steps "
                                   "forward from the clock)",
                                   t[i + 1].text, format_time(clock)));
        }
        at = when;
        i += 2;
      } else if (is_repeat_word(w)) {
        if (have_repeat) return error(t[i].column, "repeat count given twice");
        have_repeat = true;
        auto n = parse_uint<uint32_t>(w.substr(1), kMaxRepeat);
        if (!n || *n == 0) {
          return error(t[i].column, fmt::format("bad repeat count '{}': 1..{}", w, kMaxRepeat));
        }
        c.repeat = *n;
        ++i;
      } else if (w == "every") {
        if (have_every) return error(t[i].column, "'every' given twice");
        have_every = true;
        if (i + 1 >= t.size()) return error(t[i].column, "'every' needs a duration: every 10ms");
        auto ns = parse_duration(t[i + 1].text);
        if (!ns || *ns == 0) {
          return error(t[i + 1].column, fmt::format("bad duration '{}' for 'every': a positive integer "
                                                    "or decimal with a unit (us, ms, s, m, h)",
                                                    t[i + 1].text));
        }
        c.every_ns = *ns;
        i += 2;
      } else {
        break;
      }
    }
    if (have_every && !have_repeat) {
      return error(t.empty() ? 0 : t[0].column, "'every' spaces repetitions and needs a repeat count (x10 every 10ms)");
    }
    c.at_ns = at.value_or(clock);
    if (c.every_ns > 0 && (c.repeat - 1) > (kMaxTimeNs - c.at_ns) / c.every_ns) {
      return error(0, fmt::format("virtual time past {} (a year)", format_time(kMaxTimeNs)));
    }
    if (i >= t.size()) return error(0, "missing the query name before '=>'");

    // The name.
    const Token& name = t[i++];
    if (option_words().count(name.text)) {
      return error(name.column, fmt::format("'{}' is an option; the query name comes first (write '{}.' "
                                            "for a name that reads like an option)",
                                            name.text, name.text));
    }
    uint8_t wire[kMaxNameLength + 1];
    if (encode_name(name.text, wire, sizeof wire) == 0) {
      return error(name.column, fmt::format("'{}' is not a valid DNS name (labels of 1..63 bytes, at most "
                                            "255 bytes in all)",
                                            name.text));
    }
    c.query.qname = std::string(name.text);
    c.query.source = default_source();

    // Positional QTYPE, then QCLASS.
    if (i < t.size() && !option_words().count(t[i].text)) {
      if (auto type = qtype_from_name(t[i].text)) {
        c.query.qtype = *type;
        ++i;
        if (i < t.size() && !option_words().count(t[i].text)) {
          if (auto cls = qclass_from_name(t[i].text)) {
            c.query.qclass = *cls;
            ++i;
          }
        }
      }
    }

    // Options.
    std::set<std::string_view> seen;
    while (i < t.size()) {
      const Token& o = t[i];
      std::string_view w = o.text;
      if (!option_words().count(w)) {
        if (w == "at" || w == "every" || is_repeat_word(w)) {
          return error(o.column, fmt::format("'{}' must come before the query name", w));
        }
        if (qtype_from_name(w) || qclass_from_name(w)) {
          return error(o.column, fmt::format("'{}' is out of place: the query type comes right after the "
                                             "name, then the class, then the options",
                                             w));
        }
        return error(o.column, fmt::format("unknown option '{}' (options: from, to, udp, tcp, rd, nord, cd, "
                                           "ad, aa, tc, ra, do, edns, payload, ednsversion, option, ecs, "
                                           "padding, opcode, id, answer, answer_bytes)",
                                           w));
      }
      // Every option but `option` may appear once; rd/nord and udp/tcp are
      // one setting each.
      std::string_view key = w == "nord" ? "rd" : w == "tcp" ? "udp" : w;
      if (w != "option" && !seen.insert(key).second) {
        return error(o.column, key == w ? fmt::format("'{}' given twice", w)
                                        : fmt::format("'{}' conflicts with an earlier {}", w,
                                                      key == "rd" ? "rd/nord" : "udp/tcp"));
      }
      ++i;
      auto value = [&](const char* what) -> const Token* {
        if (i >= t.size() || t[i].text == "=>") {
          error(o.column, fmt::format("'{}' needs {}", w, what));
          return nullptr;
        }
        return &t[i++];
      };
      if (w == "from" || w == "to") {
        const Token* v = value(w == "from" ? "an address: from 192.0.2.1, from [2001:db8::1]:5300"
                                           : "an address: to 127.0.0.1:5353");
        if (!v) return false;
        auto addr = NetAddress::parse(v->text, w == "from" ? 53000 : 53);
        if (!addr) {
          return error(v->column, fmt::format("bad address '{}': IPv4 with an optional :PORT, or IPv6 "
                                              "(in brackets when a port follows: [2001:db8::1]:53)",
                                              v->text));
        }
        (w == "from" ? c.query.source : c.query.destination.emplace()) = *addr;
      } else if (w == "udp" || w == "tcp") {
        c.query.transport = w == "udp" ? Transport::kUdp : Transport::kTcp;
      } else if (w == "rd" || w == "nord") {
        if (w == "rd") {
          c.query.flags |= header_bits::kRD;
        } else {
          c.query.flags &= static_cast<uint16_t>(~header_bits::kRD);
        }
      } else if (w == "cd" || w == "ad" || w == "aa" || w == "tc" || w == "ra") {
        c.query.flags |= w == "cd"   ? header_bits::kCD
                         : w == "ad" ? header_bits::kAD
                         : w == "aa" ? header_bits::kAA
                         : w == "tc" ? header_bits::kTC
                                     : header_bits::kRA;
      } else if (w == "do") {
        c.query.edns = true;
        c.query.dnssec_ok = true;
      } else if (w == "edns") {
        c.query.edns = true;
      } else if (w == "payload") {
        const Token* v = value("a size: payload 4096");
        if (!v) return false;
        auto n = parse_uint<uint16_t>(v->text, 65535);
        if (!n) return error(v->column, fmt::format("bad payload size '{}': 0..65535", v->text));
        c.query.edns = true;
        c.query.payload = *n;
      } else if (w == "ednsversion") {
        const Token* v = value("a version: ednsversion 1");
        if (!v) return false;
        auto n = parse_uint<uint8_t>(v->text, 255);
        if (!n) return error(v->column, fmt::format("bad EDNS version '{}': 0..255", v->text));
        c.query.edns = true;
        c.query.edns_version = *n;
      } else if (w == "option") {
        const Token* v = value("an option code or name: option NSID, option 65001");
        if (!v) return false;
        std::optional<uint16_t> code = edns_option_from_name(v->text);
        if (!code) code = parse_uint<uint16_t>(v->text, 65535);
        if (!code) {
          return error(v->column, fmt::format("unknown EDNS option '{}' (a name such as NSID, COOKIE, "
                                              "PADDING, or a code 0..65535)",
                                              v->text));
        }
        if (*code == kEdnsOptionEcs) {
          return error(v->column, "Client Subnet needs an address: write 'ecs 192.0.2.0/24' (an empty ECS "
                                  "option is malformed and the codec rejects it)");
        }
        c.query.edns = true;
        c.query.options.push_back({*code, {}});
      } else if (w == "ecs") {
        const Token* v = value("a netmask: ecs 192.0.2.0/24, ecs 2001:db8::/56");
        if (!v) return false;
        if (!add_ecs(*v, c.query)) return false;
      } else if (w == "padding") {
        const Token* v = value("a byte count: padding 100");
        if (!v) return false;
        auto n = parse_uint<uint16_t>(v->text, 60000);
        if (!n) return error(v->column, fmt::format("bad padding '{}': 0..60000 bytes", v->text));
        c.query.edns = true;
        c.query.options.push_back({12, std::vector<uint8_t>(*n, 0)});
      } else if (w == "opcode") {
        const Token* v = value("an opcode: opcode NOTIFY");
        if (!v) return false;
        std::optional<uint8_t> op = opcode_from_name(v->text);
        if (!op) op = parse_uint<uint8_t>(v->text, 15);
        if (!op) {
          return error(v->column, fmt::format("unknown opcode '{}' (QUERY, IQUERY, STATUS, NOTIFY, UPDATE, "
                                              "DSO, OPCODE7 or 0..15)",
                                              v->text));
        }
        c.query.opcode = *op;
      } else if (w == "answer") {
        const Token* v = value("the backend's rcode: answer SERVFAIL");
        if (!v) return false;
        auto rc = rcode_from_name(v->text);
        if (!rc || *rc > 15) {
          return error(v->column, fmt::format("unknown rcode '{}' for 'answer' (NOERROR, SERVFAIL, NXDOMAIN, "
                                              "REFUSED, ... or RCODE0..RCODE15)",
                                              v->text));
        }
        c.query.answer_rcode = static_cast<uint8_t>(*rc);
      } else if (w == "answer_bytes") {
        const Token* v = value("the size of the backend's answer: answer_bytes 1400");
        if (!v) return false;
        auto n = parse_uint<uint32_t>(v->text, 65535);
        if (!n) return error(v->column, fmt::format("bad answer size '{}': 0..65535 bytes", v->text));
        c.query.answer_bytes = *n;
      } else if (w == "id") {
        const Token* v = value("a number: id 4660");
        if (!v) return false;
        auto n = parse_uint<uint16_t>(v->text, 65535);
        if (!n) return error(v->column, fmt::format("bad query ID '{}': 0..65535", v->text));
        c.query.id = *n;
      }
    }
    return true;
  }

  bool add_ecs(const Token& v, QuerySpec& q) {
    std::string_view text = v.text;
    size_t slash = text.find('/');
    auto bad = [&] {
      return error(v.column, fmt::format("bad ECS netmask '{}': ADDRESS/LENGTH, like 192.0.2.0/24 or "
                                         "2001:db8::/56",
                                         text));
    };
    if (slash == std::string_view::npos) return bad();
    auto addr = NetAddress::parse(text.substr(0, slash));
    if (!addr) return bad();
    unsigned max = addr->is_v4() ? 32 : 128;
    auto len = parse_uint<uint8_t>(text.substr(slash + 1), static_cast<uint8_t>(max));
    if (!len) return bad();
    for (const EdnsOption& o : q.options) {
      if (o.code == kEdnsOptionEcs) return error(v.column, "'ecs' given twice");
    }
    EdnsOption o;
    o.code = kEdnsOptionEcs;
    o.data = {0, static_cast<uint8_t>(addr->is_v4() ? 1 : 2), *len, 0};
    unsigned bytes = (*len + 7u) / 8u;
    for (unsigned b = 0; b < bytes; ++b) {
      uint8_t byte = addr->bytes[b];
      unsigned bits_here = std::min(8u, *len - b * 8u);
      byte &= static_cast<uint8_t>(0xff << (8 - bits_here));  // host bits must be zero (RFC 7871)
      o.data.push_back(byte);
    }
    q.edns = true;
    q.options.push_back(std::move(o));
    return true;
  }

  bool parse_expectations(std::string_view text, size_t base, Case& c) {
    size_t start = 0;
    for (;;) {
      size_t comma = text.find(',', start);
      std::string_view item = text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
      if (!parse_expectation(item, base + start, c)) return false;
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    uint64_t total = 0;
    if (c.expect.size() == 1 && !c.expect[0].count_given) {
      c.expect[0].count = c.repeat;  // one verdict for every repetition
    }
    for (const Expectation& e : c.expect) total += e.count;
    if (total != c.repeat) {
      return error(c.expect.front().column,
                   fmt::format("the expected verdicts cover {} quer{}, but the case sends {} (x{}); the "
                               "*COUNTs must add up to the repeat count",
                               total, total == 1 ? "y" : "ies", c.repeat, c.repeat));
    }
    return true;
  }

  bool parse_expectation(std::string_view item, size_t base, Case& c) {
    Expectation e;
    std::string_view words = item;
    size_t star = item.find('*');
    if (star != std::string_view::npos) {
      words = item.substr(0, star);
      std::string_view count = trim(item.substr(star + 1));
      auto n = parse_uint<uint32_t>(count, kMaxRepeat);
      if (!n || *n == 0) {
        return error(base + star, fmt::format("bad count '*{}': a number of queries, 1..{}", count, kMaxRepeat));
      }
      e.count = *n;
      e.count_given = true;
    }
    std::vector<Token> t = split_words(words, base);
    if (t.empty()) {
      return error(base, c.expect.empty() && trim(item).empty() && star == std::string_view::npos
                             ? "missing the expected verdict after '=>' (RULE [ACTION [ARG]])"
                             : "empty expectation: write RULE [ACTION [ARG]] [*COUNT]");
    }
    if (t.size() > 3) {
      return error(t[3].column, fmt::format("unexpected '{}': an expectation is RULE [ACTION [ARG]] [*COUNT], "
                                            "separated by commas",
                                            t[3].text));
    }
    e.rule = std::string(t[0].text);
    e.column = t[0].column;
    if (t.size() >= 2) {
      static const std::set<std::string_view> actions = {"pool", "allow", "drop", "refuse", "rcode",
                                                         "truncate", "spoof", "lua", "no_recurse"};
      if (!actions.count(t[1].text)) {
        return error(t[1].column, fmt::format("unknown action '{}' (pool, allow, drop, refuse, rcode, "
                                              "truncate, spoof, lua; no_recurse for a dynamic block)",
                                              t[1].text));
      }
      e.action = std::string(t[1].text);
    }
    if (t.size() == 3) {
      std::string_view a = e.action;
      if (a != "pool" && a != "allow" && a != "rcode" && a != "lua") {
        return error(t[2].column, fmt::format("'{}' takes no argument", a));
      }
      if (a == "rcode" && !rcode_from_name(t[2].text)) {
        return error(t[2].column, fmt::format("unknown rcode '{}' (NOERROR, SERVFAIL, NXDOMAIN, NOTIMP, "
                                              "REFUSED, ... or RCODE0..RCODE15)",
                                              t[2].text));
      }
      e.argument = std::string(t[2].text);
    }
    c.expect.push_back(std::move(e));
    return true;
  }

  std::string_view path_;
  size_t line_;
  std::vector<CaseError>& errors_;
};

}  // namespace

std::string format_time(uint64_t ns) {
  if (ns % 1'000'000'000 == 0) return fmt::format("{}s", ns / 1'000'000'000);
  if (ns % 1'000'000 == 0) return fmt::format("{}ms", ns / 1'000'000);
  if (ns % 1'000 == 0) return fmt::format("{}us", ns / 1'000);
  return fmt::format("{}ns", ns);
}

std::optional<uint64_t> parse_duration(std::string_view text) {
  size_t unit_at = 0;
  while (unit_at < text.size() && ((text[unit_at] >= '0' && text[unit_at] <= '9') || text[unit_at] == '.')) {
    ++unit_at;
  }
  std::string_view number = text.substr(0, unit_at), unit = text.substr(unit_at);
  uint64_t scale = 0;
  if (unit == "us") scale = 1'000;
  else if (unit == "ms") scale = 1'000'000;
  else if (unit == "s") scale = 1'000'000'000;
  else if (unit == "m") scale = 60'000'000'000;
  else if (unit == "h") scale = 3'600'000'000'000;
  else return std::nullopt;
  size_t dot = number.find('.');
  std::string_view whole = number.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view{} : number.substr(dot + 1);
  if (whole.empty() || (dot != std::string_view::npos && frac.empty())) return std::nullopt;
  auto w = parse_uint<uint64_t>(whole, kMaxTimeNs);
  if (!w || *w > kMaxTimeNs / scale) return std::nullopt;
  uint64_t ns = *w * scale;
  // The fraction must be exact in nanoseconds: 1.5ms is fine, 1.0000001us is not.
  uint64_t place = scale;
  for (char ch : frac) {
    if (ch < '0' || ch > '9') return std::nullopt;
    if (place % 10 != 0) {
      if (ch != '0') return std::nullopt;
      continue;
    }
    place /= 10;
    ns += static_cast<uint64_t>(ch - '0') * place;
  }
  if (ns > kMaxTimeNs) return std::nullopt;
  return ns;
}

ParseResult parse_cases(std::string_view path, std::string_view text) {
  ParseResult result;
  result.file.path = std::string(path);
  uint64_t clock = 0;
  size_t line = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view raw = text.substr(pos, end - pos);
    ++line;
    pos = end + 1;
    if (size_t hash = raw.find('#'); hash != std::string_view::npos) raw = raw.substr(0, hash);
    if (trim(raw).empty()) {
      if (end == text.size()) break;
      continue;
    }
    LineParser parser(path, line, result.errors);
    if (auto c = parser.parse(raw, clock)) result.file.cases.push_back(std::move(*c));
    if (end == text.size()) break;
  }
  return result;
}

std::optional<ParseResult> load_cases(const std::string& path, std::string& io_error) {
  std::string error;
  std::optional<std::string> text = diag::read_regular_file(path, diag::kMaxPolicyFileBytes, error);
  if (!text) {
    io_error = fmt::format("{}: cannot read: {}", path, error);
    return std::nullopt;
  }
  return parse_cases(path, *text);
}

}  // namespace dnspc::cases
