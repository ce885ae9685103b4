#include "dnspc/dynblock_recorder.h"

#include "dnspc/wire.h"

namespace dnspc {

BlockRecorder::BlockRecorder(const std::vector<BlockSpec>& specs, unsigned worker,
                             uint32_t capacity, const std::atomic<const BlockSnapshot*>& published)
    : specs_(specs), worker_(worker), published_(published) {
  for (uint32_t b = 0; b < specs.size(); ++b) {
    switch (specs[b].measure) {
      case BlockMeasure::kQueries:
        by_queries_.push_back(b);
        break;
      case BlockMeasure::kQtype:
        by_qtype_.push_back(b);
        break;
      case BlockMeasure::kServfail:
        by_servfail_.push_back(b);
        break;
      case BlockMeasure::kNxdomain:
        by_nxdomain_.push_back(b);
        break;
      case BlockMeasure::kResponseBytes:
        by_bytes_.push_back(b);
        break;
    }
  }
  for (auto& buffer : summaries_) {
    buffer.reserve(specs.size());
    for (size_t b = 0; b < specs.size(); ++b) buffer.emplace_back(capacity);
  }
}

size_t BlockRecorder::bytes() const {
  size_t n = 0;
  for (const auto& buffer : summaries_) {
    for (const HeavyHitters& h : buffer) n += h.bytes();
  }
  return n;
}

// Memory order (the evaluator's half is in BlockEngine::evaluate): the odd
// `sequence_` store and the `active_` load are both seq_cst, and so are the
// evaluator's `active_` store and `sequence_` load. Of two threads that each
// store one variable and then load the other, at least one sees the other's
// store. So either this batch sees the flip, or the evaluator sees this batch
// running (odd) and waits for its end. The snapshot load rides on the same
// order: a snapshot retired before a flip is never loaded by a batch the
// evaluator did not wait for.
void BlockRecorder::begin_batch() {
  uint64_t s = sequence_.load(std::memory_order_relaxed);
  if (!(s & 1)) sequence_.store(s + 1, std::memory_order_seq_cst);
  current_ = active_.load(std::memory_order_seq_cst);
  snapshot_ = published_.load(std::memory_order_seq_cst);
}

// Release: every count this batch wrote is visible to the evaluator once it
// reads the even value (acquire).
void BlockRecorder::end_batch() {
  uint64_t s = sequence_.load(std::memory_order_relaxed);
  if (s & 1) sequence_.store(s + 1, std::memory_order_release);
}

void BlockRecorder::add(uint32_t block, const NetAddress& source, uint64_t weight) {
  const BlockSpec& spec = specs_[block];
  summaries_[current_][block].add(SourcePrefix::of(source, spec.v4_prefix, spec.v6_prefix), weight);
}

void BlockRecorder::record_query(const NetAddress& source, uint16_t qtype) {
  for (uint32_t b : by_queries_) add(b, source, 1);
  for (uint32_t b : by_qtype_) {
    if (specs_[b].qtype == qtype) add(b, source, 1);
  }
}

void BlockRecorder::record_response(const NetAddress& source, uint8_t answer_rcode,
                                    uint32_t bytes) {
  if (answer_rcode == rcode::kServFail) {
    for (uint32_t b : by_servfail_) add(b, source, 1);
  } else if (answer_rcode == rcode::kNxDomain) {
    for (uint32_t b : by_nxdomain_) add(b, source, 1);
  }
  for (uint32_t b : by_bytes_) add(b, source, bytes);
}

}  // namespace dnspc
