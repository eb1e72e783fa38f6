// What the fuzz targets share: how a finding is reported, input hashing and
// text encoding, the decisions-from-bytes strategy.
//
// A target runs in one of two modes:
// - under libFuzzer (the CHANFUZZ_FUZZ=ON build): a finding prints its report
//   on stderr and aborts, which is how libFuzzer learns of it and writes the
//   input to a crash file;
// - under replay_main.cpp (every other build, the corpus ctests and
//   scripts/repro): a finding prints the same report on stdout and exits 1.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chanfuzz/strategy.hpp"

namespace chanfuzz::fuzz {

class InterleavingFeedback;

// replay_main.cpp switches this on before running any input.
void set_replay_mode(bool on) noexcept;
bool replay_mode() noexcept;

// Prints a finding and ends the process: stderr + abort() under libFuzzer,
// stdout + exit(1) in replay mode. `text` ends with a newline.
[[noreturn]] void report_finding(std::string_view text);

// The SHA-1 of the input, in hex: libFuzzer names a crash file
// crash-<sha1>, and corpus files are corpus/<target>/<sha1> (STYLE.md 10).
std::string sha1_hex(std::span<const std::uint8_t> bytes);

// base64url without padding (RFC 4648 §5), as in cf1: traces.
std::string base64url_encode(std::span<const std::uint8_t> bytes);
// false for text that is not canonical base64url.
bool base64url_decode(std::string_view text, std::vector<std::uint8_t>& out);

// The planted bug of a CHANFUZZ_MUTANT build, or "" (a normal build).
const char* mutant_name() noexcept;

// The lines every report ends with, naming the crash file libFuzzer writes:
//   repro:    [CHANFUZZ_MUTANT=<m>] <command>     (one line per command, if any)
//             [CHANFUZZ_MUTANT=<m>] [<crash_environment>]scripts/repro <target> crash-<sha1>
// `crash_environment` ("NAME=value ") is what the crash file's replay needs
// besides the file (schedule_fuzzer: CHANFUZZ_FUZZ_SCENARIOS when it was set).
std::string repro_lines(std::string_view target, std::span<const std::string> commands,
                        std::span<const std::uint8_t> input,
                        std::string_view crash_environment = {});
// The same with at most one command (none when `first` is empty).
std::string repro_lines(std::string_view target, std::string_view first,
                        std::span<const std::uint8_t> input);

// Decisions from fuzz bytes: each decision takes the next byte, reduced
// modulo its number of options. Once the bytes run out, a deterministic
// default that is fair, so a correct program always ends: a task decision
// runs the task with the next higher id than the one running (round robin,
// wrapping; never the clock option), any other decision takes option 0.
// Reports each decision to the feedback, when there is one.
class FuzzBytesStrategy final : public Strategy {
 public:
  explicit FuzzBytesStrategy(std::span<const std::uint8_t> bytes,
                             InterleavingFeedback* feedback = nullptr) noexcept
      : bytes_(bytes), feedback_(feedback) {}

  std::string name() const override { return "fuzz"; }
  void begin_run(std::uint64_t) override {
    at_ = 0;
    last_task_ = 0;
  }
  std::uint64_t choose(const DecisionPoint& point) override;

 private:
  std::uint64_t round_robin(const DecisionPoint& point) const noexcept;

  std::span<const std::uint8_t> bytes_;
  InterleavingFeedback* feedback_;
  std::size_t at_ = 0;
  std::uint64_t last_task_ = 0;  // id of the task the last task decision ran
};

}  // namespace chanfuzz::fuzz
