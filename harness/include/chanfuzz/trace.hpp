// Traces: a run's decisions as a string to copy, paste and replay.
//
//   "cf1:AQYCAwA..."   replays with `chanfuzz replay <scenario> --trace cf1:...`
//
// The grammar is written above the encoder in trace.cpp. A trace records,
// for each decision, its kind, how many options it had and which one was
// taken, so a replay that no longer fits the scenario is caught at the first
// decision that differs ("trace diverged at decision N"), never silently run
// as a different schedule (DESIGN.md decision 9).
//
// How a trace ends is part of the trace (its version byte):
// - a plain trace (version 1, what every run records) spells out every
//   decision of the run: a replay that asks for one more stops as `diverged`;
// - a trace with a default tail (version 2, what minimize() prints) says "after
//   my last decision, take default_choice() at every decision": its run may go
//   on past the recorded decisions. A replay that does not fit the recorded
//   decisions still diverges at the first difference.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chanfuzz/sim_executor.hpp"

namespace chanfuzz {

// A trace string that cannot be decoded. what() is one line naming the
// problem: "malformed trace: ...".
class TraceError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// What a replay does once the trace's decisions are used up.
enum class TraceEnd : std::uint8_t {
  exact,         // version 1: nothing; one more decision is a divergence
  default_tail,  // version 2: default_choice() at every further decision
};

// A decoded trace: the decisions it spells out, and how it ends.
struct Trace {
  std::vector<Decision> decisions;
  TraceEnd end = TraceEnd::exact;
  friend bool operator==(const Trace&, const Trace&) = default;
};

std::string encode_trace(const std::vector<Decision>& decisions, TraceEnd end = TraceEnd::exact);

namespace detail {
// A trace string around raw payload bytes (version and decisions, not
// checksummed yet): for tests and fuzzers that build malformed payloads.
std::string frame_trace_payload(std::string_view payload);
}  // namespace detail
// Either version. Throws TraceError.
Trace read_trace(std::string_view trace);
// The decisions a trace spells out (read_trace(trace).decisions): for tools
// that look at them. To replay a trace, give ReplayStrategy read_trace()'s
// Trace, which keeps its end. Throws TraceError.
std::vector<Decision> decode_trace(std::string_view trace);

// The deterministic default choice, the one a default tail takes and the one
// minimize() falls back on: at a task decision the current task goes on
// (no preemption), else the runnable task with the lowest id (option 0);
// never the clock option. Option 0 of every other kind (the first ready
// select case, the first due timer, random(n) = 0). No randomness: the same
// point always gets the same answer.
std::uint64_t default_choice(const DecisionPoint& point) noexcept;

// Replays recorded decisions one by one. A decision whose kind or number of
// options differs from the recorded one gets an out-of-range answer, so the
// run stops as `diverged`; divergence() then says where and how. Past the
// end of the trace: a divergence too (TraceEnd::exact), or default_choice()
// (TraceEnd::default_tail).
class ReplayStrategy final : public Strategy {
 public:
  explicit ReplayStrategy(Trace trace) : trace_(std::move(trace)) {}
  // A plain trace (TraceEnd::exact).
  explicit ReplayStrategy(std::vector<Decision> decisions)
      : ReplayStrategy(Trace{std::move(decisions), TraceEnd::exact}) {}

  std::string name() const override { return "replay"; }
  void begin_run(std::uint64_t) override {
    next_ = 0;
    defaults_ = 0;
    divergence_.clear();
  }
  std::uint64_t choose(const DecisionPoint& point) override;

  // Decisions of the trace that the run has not asked for (trailing ones).
  std::size_t unused() const noexcept {
    return next_ < trace_.decisions.size() ? trace_.decisions.size() - next_ : 0;
  }
  // Decisions the run took from the default tail (0 for a plain trace).
  std::uint64_t default_tail_decisions() const noexcept { return defaults_; }
  // Empty, or why the run stopped fitting the trace.
  std::string divergence() const override { return divergence_; }

 private:
  Trace trace_;
  std::size_t next_ = 0;
  std::uint64_t defaults_ = 0;
  std::string divergence_;
};

}  // namespace chanfuzz
