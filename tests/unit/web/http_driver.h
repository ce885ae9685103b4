// Drives an HttpConnection as the server's socket would, without one: bytes
// in, answers collected and parsed, a clock moved by hand.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "dnspc/runtime/web_http.h"

namespace web_test {

struct Answer {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  bool has(const std::string& name) const { return headers.count(name) != 0; }
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// The answers in `bytes`, in order (bodies by Content-Length; a HEAD
// answer's body is not there, so `head` says to take none).
inline std::vector<Answer> parse_answers(const std::string& bytes, bool head = false) {
  std::vector<Answer> out;
  size_t pos = 0;
  while (pos < bytes.size()) {
    const size_t end = bytes.find("\r\n\r\n", pos);
    if (end == std::string::npos) break;
    Answer a;
    const std::string head_text = bytes.substr(pos, end - pos);
    a.status = std::stoi(head_text.substr(9, 3));
    size_t line = head_text.find("\r\n");
    while (line != std::string::npos) {
      const size_t next = head_text.find("\r\n", line + 2);
      const std::string h = head_text.substr(
          line + 2, next == std::string::npos ? std::string::npos : next - line - 2);
      const size_t colon = h.find(':');
      std::string name = h.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      a.headers[name] = h.substr(colon + 2);
      line = next;
    }
    pos = end + 4;
    const size_t length =
        head ? 0
             : std::stoul(a.header("content-length").empty() ? "0" : a.header("content-length"));
    a.body = bytes.substr(pos, length);
    pos += length;
    out.push_back(std::move(a));
  }
  return out;
}

struct Driver {
  using Answerer = std::function<dnspc::runtime::HttpResponse(const dnspc::runtime::HttpRequest&)>;

  explicit Driver(dnspc::runtime::HttpLimits limits = {}, Answerer answerer = nullptr)
      : answer(answerer ? std::move(answerer) : [](const dnspc::runtime::HttpRequest& r) {
          dnspc::runtime::HttpResponse out;
          out.content_type = "text/plain";
          out.body = "you asked " + r.method + " " + r.target;
          return out;
        }),
        conn(limits, [this](const dnspc::runtime::HttpRequest& r) {
          requests.push_back(r);
          if (sync) conn.respond(answer(r));
        }, now) {}

  void send(const std::string& bytes) {
    conn.feed(bytes, now);
    flush();
  }
  void flush() {
    for (;;) {
      std::string out = conn.take_output();
      if (out.empty()) break;
      output += out;
      conn.written(now);
    }
  }
  void advance(uint64_t ms) {
    now += ms;
    conn.tick(now);
    flush();
  }
  std::vector<Answer> answers(bool head = false) const { return parse_answers(output, head); }

  uint64_t now = 1'000'000;
  bool sync = true;  // answer inside the handler; else the test calls conn.respond
  std::vector<dnspc::runtime::HttpRequest> requests;
  std::string output;
  Answerer answer;
  dnspc::runtime::HttpConnection conn;
};

}  // namespace web_test
