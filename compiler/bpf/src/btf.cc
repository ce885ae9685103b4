// The BTF the kernel needs before it accepts subprograms (bpf_loop's
// callbacks): one FUNC per subprogram, static, each an `int f(void *, ...)`.
// The verifier checks argument types only for global functions, so these
// few types are all it reads; the layout is the kernel's (linux/btf.h).
#include <cstring>
#include <string>

#include "btf.h"

namespace dnspc::bpf {

namespace {

constexpr uint32_t kInt = 1, kPtr = 2, kFunc = 12, kFuncProto = 13;

uint32_t info(uint32_t kind, uint32_t vlen) { return kind << 24 | vlen; }

class Writer {
 public:
  void u32(uint32_t v) {
    uint8_t b[4];
    std::memcpy(b, &v, 4);
    types_.insert(types_.end(), b, b + 4);
  }
  uint32_t name(const std::string& s) {
    uint32_t off = static_cast<uint32_t>(strings_.size());
    strings_.insert(strings_.end(), s.begin(), s.end());
    strings_.push_back(0);
    return off;
  }
  std::vector<uint8_t> finish() {
    std::vector<uint8_t> out;
    auto put = [&](uint32_t v, size_t bytes) {
      for (size_t i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
    };
    put(0xeB9F, 2);  // magic
    put(1, 1);       // version
    put(0, 1);       // flags
    put(24, 4);      // header length
    put(0, 4);       // type section offset
    put(static_cast<uint32_t>(types_.size()), 4);
    put(static_cast<uint32_t>(types_.size()), 4);  // string section offset
    put(static_cast<uint32_t>(strings_.size()), 4);
    out.insert(out.end(), types_.begin(), types_.end());
    out.insert(out.end(), strings_.begin(), strings_.end());
    return out;
  }
  Writer() { strings_.push_back(0); }

 private:
  std::vector<uint8_t> types_;
  std::vector<uint8_t> strings_;
};

}  // namespace

std::vector<uint8_t> subprogram_btf(size_t subprograms) {
  Writer w;
  // [1] int
  w.u32(w.name("int"));
  w.u32(info(kInt, 0));
  w.u32(4);
  w.u32(1u << 24 | 32);  // signed, 32 bits
  // [2] void *
  w.u32(0);
  w.u32(info(kPtr, 0));
  w.u32(0);
  // [3] int (void *, int): every subprogram's prototype
  w.u32(0);
  w.u32(info(kFuncProto, 2));
  w.u32(1);
  w.u32(w.name("index"));
  w.u32(1);
  w.u32(w.name("context"));
  w.u32(2);
  // [4 + i] the functions
  for (size_t i = 0; i < subprograms; ++i) {
    w.u32(w.name(i == 0 ? "dnspc_xdp" : "dnspc_loop_" + std::to_string(i)));
    w.u32(info(kFunc, 0));  // static linkage
    w.u32(3);
  }
  return w.finish();
}

}  // namespace dnspc::bpf
