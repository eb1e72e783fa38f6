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

struct SimEvent;  // sim_executor.hpp

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

// Where a systematic strategy (dfs:<P>) stands in its search: for check(),
// progress lines and reports.
struct SearchStatus {
  bool exhausted = false;       // every schedule within the bound has been run
  std::uint64_t schedules = 0;  // runs that completed a schedule
  std::uint64_t redundant = 0;  // runs cut short: equivalent to a schedule already run
  std::uint64_t revisits = 0;   // of those, cut short at a state explored before
  std::uint64_t states = 0;     // states remembered (dfs's state cache)
  // Of the cache's lookups, those keyed by the trace (all of them with
  // :nomodel): the state model could not follow the run there (a timer, a
  // mutex, try_send, ...), so symmetry and checkpoints did not apply.
  std::uint64_t trace_keyed = 0;
  std::uint64_t depth = 0;    // decisions on the path being explored
  double fraction_done = -1;  // share of the bounded space explored (estimate), -1: unknown
  std::uint64_t preemption_bound = 0;
  bool reduced = false;             // sleep sets prune equivalent schedules
  std::uint64_t random_values = 0;  // random(n) explores at most this many values (0: all)
  bool random_limited = false;      // some random(n) had more values than that
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

  // Strategies that watch the run as well as decide it (sleep-set reduction,
  // swarm) say so here; check() then passes them every SimEvent.
  virtual bool wants_events() const { return false; }
  virtual void on_event(const SimEvent& /*event*/) {}
  // Systematic strategies (dfs:<P>) enumerate schedules instead of sampling
  // them: check() runs them, ignoring `runs` and seeds, until the status says
  // exhausted (or a failure, or the time budget). Null for the others.
  virtual const SearchStatus* search_status() const { return nullptr; }
  // After end_run(): true when the strategy stopped the run on purpose,
  // because every way on repeats a schedule already run (the run's outcome is
  // then `diverged` and means nothing).
  virtual bool run_redundant() const { return false; }
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

// Systematic exploration: every schedule with at most `preemption_bound`
// preemptions, one run each, with sleep-set reduction when `reduce`; random(n)
// explores at most `random_values` of its values (0: all). See
// strategies/dfs.cpp and docs/exploration.md.
struct DfsOptions {
  std::uint64_t preemption_bound = 2;
  bool reduce = true;
  // With reduce: prune states explored before (harness/strategies/state_cache.hpp),
  // keyed by the state model where it follows the run (`model`), else by the trace.
  bool cache = true;
  bool model = true;
  // With model: tasks go() made from equal closures are interchangeable
  // (symmetry reduction; see detail::SpawnOrigin).
  bool symmetry = true;
  // With model: honour chanfuzz::checkpoint() (a task's promise that its
  // history before it no longer matters).
  bool checkpoints = true;
  // The most memory the table of states explored may take, in MiB (it grows
  // as needed; when full it stops learning and the search goes on, pruning less).
  std::uint64_t state_memory_mib = 1024;
  std::uint64_t random_values = 0;
};
std::unique_ptr<Strategy> make_dfs_strategy(DfsOptions options);

// Swarm testing around a sampling strategy: each run switches off some
// sources of variety, chosen from the run's seed. See strategies/swarm.cpp.
std::unique_ptr<Strategy> make_swarm_strategy(std::unique_ptr<Strategy> inner);

// Makes a strategy from its name: "random" or "pct:<depth>" (depth 1-100);
// "dfs:<P>" (P 0-1000 preemptions) with options ":full" (no reduction),
// ":nocache" (sleep sets without the state cache), ":nomodel" (the cache
// keyed on the trace alone), ":nosym" (no symmetry reduction), ":mem=<MiB>"
// (the state table's limit, default 1024) and ":values=<K>"
// (random(n) explores K values); any sampling one followed by
// "+swarm" ("random+swarm", "pct:3+swarm").
// ("replay" needs a trace: see ReplayStrategy and check().) Throws
// std::invalid_argument with a one-line message for anything else.
std::unique_ptr<Strategy> make_strategy(std::string_view spec);

}  // namespace chanfuzz
