// Rules that can never match (private to sema).
#pragma once

#include "dnspc/diag/diagnostics.h"
#include "dnspc/sema/model.h"

namespace dnspc::sema {

void check_shadowed_rules(const Model& model, diag::Diagnostics& diags);

}  // namespace dnspc::sema
