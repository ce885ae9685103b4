// A control command's JSON answer as an HTTP answer (docs/web.md, "Answers"):
// the API's version first in every object, and a status that says what the
// answer says, so `curl --fail` and the page can tell a failure without
// reading the body.
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>

#include "dnspc/runtime/web_app.h"

namespace dnspc::runtime {

namespace {

constexpr const char* kJsonType = "application/json";

// What the status depends on: the top-level object's member names, and
// whether "ok" is false. Read with the SAX reader, without building a
// document (and without document.h, which clang 16+ refuses in the
// rapidjson Debian ships: the fuzz target builds this file with clang).
struct TopLevel : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, TopLevel> {
  int depth = 0;
  bool object = false;
  size_t members = 0;
  bool error = false, commands = false, names = false, api_version = false, ok_false = false;
  std::string key;  // the last top-level member's name

  bool Bool(bool b) {
    if (depth == 1 && key == "ok" && !b) ok_false = true;
    return true;
  }
  bool StartObject() {
    if (depth++ == 0) object = true;
    return true;
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    if (depth != 1) return true;
    ++members;
    key.assign(s, n);
    error = error || key == "error";
    commands = commands || key == "commands";
    names = names || key == "servers" || key == "dynblocks";
    api_version = api_version || key == "api_version";
    return true;
  }
  bool EndObject(rapidjson::SizeType) {
    --depth;
    return true;
  }
  bool StartArray() {
    ++depth;
    return true;
  }
  bool EndArray(rapidjson::SizeType) {
    --depth;
    return true;
  }
};

// The status of a command's answer: see web_app.h.
int status_of(const TopLevel& t) {
  if (t.error) {
    if (t.commands) return 501;  // the command table has no such command
    if (t.names) return 404;     // an unknown name, and the known ones
    return 400;
  }
  return t.ok_false ? 422 : 200;
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
  TopLevel top;
  rapidjson::Reader reader;
  rapidjson::MemoryStream in(reply.data(), reply.size());
  if (!reader.Parse(in, top) || !top.object)
    return api_error(500, "the command's answer is not a JSON object");
  HttpResponse r;
  r.status = status_of(top);
  r.content_type = kJsonType;
  if (top.api_version) {
    r.body = reply;
    return r;
  }
  // Inserted as text: the command's bytes stay as they are.
  const size_t brace = reply.find('{');
  r.body = "{\"api_version\":1";
  if (top.members > 0) r.body += ',';
  r.body += reply.substr(brace + 1);
  return r;
}

}  // namespace dnspc::runtime
