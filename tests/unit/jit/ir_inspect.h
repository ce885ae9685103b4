// An independent look at emitted IR: the text Engine::emit_llvm prints is
// parsed back with LLVM's own parser and walked (ir_inspect.cc, built
// without RTTI like LLVM; no Catch there).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace dnspc::testing {

struct IrReport {
  std::string error;  // set when the text does not parse
  size_t instructions = 0;
  size_t defined_functions = 0;
  size_t global_variables = 0;
  std::vector<std::string> exported;  // defined functions with external linkage
  std::map<std::string, size_t>
      callees;                   // called declarations (external functions, intrinsics) -> calls
  size_t indirect_calls = 0;     // calls through a pointer
  size_t indirect_branches = 0;  // indirectbr
  std::vector<size_t> switch_cases;  // per switch instruction, its case count
  size_t blockaddresses = 0;         // label addresses taken (computed-goto dispatch)
};

IrReport inspect_ir(const std::string& text);

}  // namespace dnspc::testing
