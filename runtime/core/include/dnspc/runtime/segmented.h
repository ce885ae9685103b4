// A growable array whose elements never move: a fixed directory of segments,
// each allocated once when the array first grows over it. The registry's
// per-worker counters live in these, indexed by registry id, so a reload can
// add servers, rules and tags while workers keep writing the counters they
// already hold (a std::vector would reallocate under them).
//
// Growth happens on the main thread before the policy that uses the new ids
// is published; a worker reads an element only for an id it got from a
// published policy, so the release/acquire of the swap point orders the
// segment pointer before the worker's read. The directory is plain pointers:
// a worker never reads a directory entry that is being written.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace dnspc::runtime {

template <class T, size_t kSegmentSize, size_t kSegments>
class SegmentedArray {
  static_assert((kSegmentSize & (kSegmentSize - 1)) == 0, "segment size must be a power of two");

 public:
  static constexpr size_t kCapacity = kSegmentSize * kSegments;

  SegmentedArray() : directory_(new T*[kSegments]()) {}
  ~SegmentedArray() {
    for (size_t s = 0; s < kSegments && directory_[s]; ++s) delete[] directory_[s];
  }
  SegmentedArray(const SegmentedArray&) = delete;
  SegmentedArray& operator=(const SegmentedArray&) = delete;

  // Makes ids [0, n) valid (value-initialised); false past kCapacity.
  bool grow(size_t n) {
    if (n > kCapacity) return false;
    for (size_t s = 0; s * kSegmentSize < n; ++s) {
      if (!directory_[s]) directory_[s] = new T[kSegmentSize]();
    }
    if (n > size_) size_ = n;
    return true;
  }
  size_t size() const { return size_; }

  T& operator[](size_t i) { return directory_[i / kSegmentSize][i % kSegmentSize]; }
  const T& operator[](size_t i) const { return directory_[i / kSegmentSize][i % kSegmentSize]; }

 private:
  std::unique_ptr<T*[]> directory_;
  size_t size_ = 0;
};

}  // namespace dnspc::runtime
