// FuzzInput: reads a fuzz input front to back, the way the targets decode it.
//
// Our own small reader (g++ cannot see clang's <fuzzer/FuzzedDataProvider.h>,
// TOOLCHAIN.md "Fuzzing"). It never fails: past the end every read returns
// its default (0, an empty view), so that any byte string is a valid input
// and a shorter one is simply a smaller program or schedule.
//
//   FuzzInput in(data, size);
//   std::string_view name = in.line();      // up to '\n' (or the end)
//   std::uint8_t b = in.byte();              // 0 once exhausted
//   std::uint64_t k = in.below(6);           // one byte, reduced modulo 6
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace chanfuzz::fuzz {

class FuzzInput {
 public:
  FuzzInput(const std::uint8_t* data, std::size_t size) noexcept : data_(data), size_(size) {}
  explicit FuzzInput(std::span<const std::uint8_t> bytes) noexcept
      : data_(bytes.data()), size_(bytes.size()) {}

  bool empty() const noexcept { return at_ >= size_; }
  std::size_t remaining() const noexcept { return at_ < size_ ? size_ - at_ : 0; }
  std::size_t position() const noexcept { return at_; }

  // The next byte, or 0 past the end.
  std::uint8_t byte() noexcept { return at_ < size_ ? data_[at_++] : 0; }

  // One byte reduced modulo n (n >= 1): 0 past the end.
  std::uint64_t below(std::uint64_t n) noexcept { return n <= 1 ? (byte(), 0) : byte() % n; }

  // The bytes up to the next '\n' (not included; the '\n' is consumed), or
  // up to the end when there is none.
  std::string_view line() noexcept {
    std::size_t start = at_;
    while (at_ < size_ && data_[at_] != '\n') ++at_;
    std::string_view out(reinterpret_cast<const char*>(data_) + start, at_ - start);
    if (at_ < size_) ++at_;  // the '\n'
    return out;
  }

  // Everything not read yet (nothing is consumed).
  std::span<const std::uint8_t> rest() const noexcept {
    return at_ < size_ ? std::span<const std::uint8_t>(data_ + at_, size_ - at_)
                       : std::span<const std::uint8_t>();
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t at_ = 0;
};

}  // namespace chanfuzz::fuzz
