// The last reload as `stats` and `policy` both show it: an object of
// strings, a bool and times in milliseconds, or null before the first.
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "dnspc/runtime/metrics.h"

namespace dnspc::runtime {

// Writes the "last_reload" key and its value.
void write_last_reload(rapidjson::Writer<rapidjson::StringBuffer>& w, const ReloadSummary& last);

}  // namespace dnspc::runtime
