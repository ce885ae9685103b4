// A control command's JSON answer as an HTTP answer (docs/web.md, "Answers"):
// the API's version first in every object, and a status that says what the
// answer says, so `curl --fail` and the page can tell a failure without
// reading the body.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "dnspc/runtime/web_app.h"

namespace dnspc::runtime {

namespace {

constexpr const char* kJsonType = "application/json";

// The status of a command's answer: see web_app.h.
int status_of(const rapidjson::Document& d) {
  if (d.HasMember("error")) {
    if (d.HasMember("commands")) return 501;  // the command table has no such command
    if (d.HasMember("servers") || d.HasMember("dynblocks"))
      return 404;  // an unknown name, and the known ones
    return 400;
  }
  if (const auto ok = d.FindMember("ok"); ok != d.MemberEnd() && ok->value.IsFalse()) return 422;
  return 200;
}

}  // namespace

HttpResponse api_error(int status, std::string_view message) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("api_version");
  w.Int(1);
  w.Key("error");
  w.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
  w.EndObject();
  HttpResponse r;
  r.status = status;
  r.content_type = kJsonType;
  r.body.assign(buf.GetString(), buf.GetSize());
  return r;
}

HttpResponse api_answer(std::string_view reply) {
  rapidjson::Document d;
  d.Parse(reply.data(), reply.size());
  if (d.HasParseError() || !d.IsObject())
    return api_error(500, "the command's answer is not a JSON object");
  HttpResponse r;
  r.status = status_of(d);
  r.content_type = kJsonType;
  if (d.HasMember("api_version")) {
    r.body = reply;
    return r;
  }
  // Inserted as text: the command's bytes stay as they are.
  const size_t brace = reply.find('{');
  r.body = "{\"api_version\":1";
  if (d.MemberCount() > 0) r.body += ',';
  r.body += reply.substr(brace + 1);
  return r;
}

}  // namespace dnspc::runtime
