// Strategy: who decides each nondeterministic choice of a simulated run.
//
// SimExecutor asks its strategy at every decision (DESIGN.md decisions 3-5):
// which task runs next, which ready select case wins, which of several due
// timers fires first, and every chanfuzz::random(n). It records the answer
// in the run's decision trace, so a trace replays the run exactly.
//
// One strategy per file under harness/strategies/, each behind this narrow
// interface (as shuttle does).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "chanfuzz/executor.hpp"
#include "chanfuzz/rng.hpp"

namespace chanfuzz {

// One decision to make. `options` >= 2; the answer must be below it.
//
// For kind == task the options are, in this order:
//   [0, runnable.size())        the runnable tasks, by increasing id
//   runnable.size()             the current task, if `current` is set (it is at
//                               a scheduling point and may simply go on)
//   options - 1                 advance the clock to the next timer, if
//                               `clock_option` (models a slow task)
// For the other kinds, the options are the ready select cases in argument
// order, the due timers in arming order, or the values of random(n).
struct DecisionPoint {
  DecisionKind kind = DecisionKind::task;
  std::uint64_t options = 0;
  std::span<TaskRecord* const> runnable;
  TaskRecord* current = nullptr;
  bool clock_option = false;
  std::uint64_t step = 0;  // scheduling steps so far in this run

  // The task behind option i of a task decision (null: the clock option).
  TaskRecord* task_at(std::uint64_t i) const noexcept {
    if (i < runnable.size()) return runnable[i];
    if (current && i == runnable.size()) return current;
    return nullptr;
  }
  bool is_clock_option(std::uint64_t i) const noexcept { return clock_option && i == options - 1; }
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  // "random", "pct:3", ...: what the CLI and reports call it.
  virtual std::string name() const = 0;
  // A run starts; everything it decides derives from `seed`.
  virtual void begin_run(std::uint64_t seed) = 0;
  // Returns a value below point.options. A value >= options means the
  // strategy cannot go on (a replayed trace that no longer fits): the run
  // stops as `diverged`.
  virtual std::uint64_t choose(const DecisionPoint& point) = 0;
  virtual void end_run() {}
  // How many scheduling steps a run of this scenario takes, measured by
  // check() in one calibration run (random strategy, seed 0) before the
  // first run, when wants_step_estimate() says so. PCT places its change
  // points among them. Being the same for every run of a check, it keeps
  // each run a function of its seed alone, so `--seed S` replays run S.
  virtual bool wants_step_estimate() const { return false; }
  virtual void set_step_estimate(std::uint64_t /*steps*/) {}
  // After an out-of-range answer: why the strategy could not go on (one line).
  virtual std::string divergence() const { return {}; }
};

// Uniformly random: every option of a decision is equally likely, except the
// clock option of a task decision, taken with probability 1/8 (often enough
// to explore timeouts that fire early, rarely enough that ordinary runs reach
// their timers in order).
class RandomStrategy final : public Strategy {
 public:
  std::string name() const override { return "random"; }
  void begin_run(std::uint64_t seed) override { rng_.reseed(seed); }
  std::uint64_t choose(const DecisionPoint& point) override;

 private:
  Rng rng_;
};

// PCT with the given bug depth (>= 1): see strategies/pct.cpp.
std::unique_ptr<Strategy> make_pct_strategy(std::uint64_t depth);

// Makes a strategy from its name: "random" or "pct:<depth>" (depth 1-100).
// ("replay" needs a trace: see ReplayStrategy and check().) Throws
// std::invalid_argument with a one-line message for anything else.
std::unique_ptr<Strategy> make_strategy(std::string_view spec);

}  // namespace chanfuzz
