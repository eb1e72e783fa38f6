// Traces: a run's decisions as a string to copy, paste and replay.
//
//   "cf1:AQYCAwA..."   replays with `chanfuzz replay <scenario> --trace cf1:...`
//
// The grammar is written above the encoder in trace.cpp. A trace records,
// for each decision, its kind, how many options it had and which one was
// taken, so a replay that no longer fits the scenario is caught at the first
// decision that differs ("trace diverged at decision N"), never silently run
// as a different schedule (DESIGN.md decision 9).
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "chanfuzz/sim_executor.hpp"

namespace chanfuzz {

// A trace string that cannot be decoded. what() is one line naming the
// problem: "malformed trace: ...".
class TraceError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

std::string encode_trace(const std::vector<Decision>& decisions);

namespace detail {
// A trace string around raw payload bytes (version and decisions, not
// checksummed yet): for tests and fuzzers that build malformed payloads.
std::string frame_trace_payload(std::string_view payload);
}  // namespace detail
// Throws TraceError.
std::vector<Decision> decode_trace(std::string_view trace);

// Replays recorded decisions one by one. A decision whose kind or number of
// options differs from the recorded one, or one past the end of the trace,
// gets an out-of-range answer, so the run stops as `diverged`;
// divergence() then says where and how.
class ReplayStrategy final : public Strategy {
 public:
  explicit ReplayStrategy(std::vector<Decision> decisions) : decisions_(std::move(decisions)) {}

  std::string name() const override { return "replay"; }
  void begin_run(std::uint64_t) override {
    next_ = 0;
    divergence_.clear();
  }
  std::uint64_t choose(const DecisionPoint& point) override;

  // Decisions of the trace that the run has not asked for (trailing ones).
  std::size_t unused() const noexcept { return decisions_.size() - next_; }
  // Empty, or why the run stopped fitting the trace.
  std::string divergence() const override { return divergence_; }

 private:
  std::vector<Decision> decisions_;
  std::size_t next_ = 0;
  std::string divergence_;
};

}  // namespace chanfuzz
