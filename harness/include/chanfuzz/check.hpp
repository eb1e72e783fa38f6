// check() and replay(): explore schedules of a scenario, stop at the first
// failure, and hand back a Report (report.hpp).
//
//   Report r = check(my_scenario, {.runs = 10000});
//   if (!r.ok()) std::cerr << r.text();        // category, tasks, seed, trace, replay command
//
//   Report again = replay(my_scenario, r.trace);   // the same run, exactly
//
// Each run executes the scenario on a fresh SimExecutor. Run i uses seed
// config.seed + i, so `--seed S` replays one run of a bigger check. Inside a
// scenario, require(cond, message) states a property; a false one fails the
// run with category `assertion`.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "chanfuzz/report.hpp"
#include "chanfuzz/source_location.hpp"
#include "chanfuzz/task.hpp"

namespace chanfuzz {

enum class StepLimit : std::uint8_t {
  fail,  // a run past max_steps fails as step-limit
  skip,  // it is abandoned and the search goes on (programs that may loop
         // forever on bug-free schedules)
};

// Progress of a check, for progress lines.
struct Progress {
  std::uint64_t runs = 0;     // runs finished
  std::uint64_t skipped = 0;  // of those, abandoned at the step limit (StepLimit::skip)
  double elapsed_s = 0;
  const char* strategy = "";
  // A systematic search (dfs:<P>) only:
  bool systematic = false;
  std::uint64_t schedules = 0;  // runs that completed a schedule (the others were cut short
                                // as redundant by the reduction)
  std::uint64_t depth = 0;      // decisions on the path being explored
  double fraction_done = -1;    // estimated share of the bounded space explored (-1: unknown)
};

// What check() does. Every field can be set by the environment variable
// named beside it; the environment wins over the code, so a CI job or a
// person can rerun a test differently without editing it. A bad value throws
// std::invalid_argument naming the variable.
struct Config {
  std::uint64_t runs = 1000;  // CHANFUZZ_RUNS: runs at most (0: no limit, needs a time budget)
  std::uint64_t seed = 1;     // CHANFUZZ_SEED: run i uses seed + i
  std::string strategy = "random";   // CHANFUZZ_STRATEGY: random | pct:<depth> | dfs:<P> | replay
                                     // (dfs: every schedule with at most P preemptions, until
                                     // exhausted or a failure; `runs` and `seed` do not apply)
  std::uint64_t max_steps = 100000;  // CHANFUZZ_MAX_STEPS: scheduling steps per run
  StepLimit on_step_limit = StepLimit::fail;  // CHANFUZZ_ON_STEP_LIMIT: fail | skip
  double time_budget_s = 0;  // CHANFUZZ_TIME: stop after this many seconds (0: no limit)
  std::string trace{};       // CHANFUZZ_TRACE: the cf1: trace the replay strategy runs
  std::string name{};        // CHANFUZZ_SCENARIO_NAME: the scenario's name, for the
                             // replay command in reports ("" : unnamed)
  bool swarm = false;        // CHANFUZZ_SWARM: 1 | 0. Swarm testing: each run switches off
                             // some sources of variety, from its seed (strategy "<s>+swarm")
  // Sharding (CHANFUZZ_SHARD=<i>/<n>, 1 <= i <= n): of the runs 0..runs-1
  // this check takes those with index % n == i - 1, so n shards (CI jobs,
  // machines) cover disjoint seeds and together make the unsharded check:
  // the same runs, and the smallest failing seed among them is the one the
  // unsharded check reports. 0/0: not sharded.
  std::uint64_t shard_index = 0;
  std::uint64_t shard_count = 0;
  // CHANFUZZ_RESUME: skip the runs whose seed is below this one (0: none).
  // A check stopped by its time budget names the seed to resume from
  // (Report::resume_seed); `runs` still counts from `seed`.
  std::uint64_t resume_seed = 0;
  // CHANFUZZ_RUN_JOBS: runs at once, on this many threads (each with its own
  // SimExecutor). The result does not depend on it: the failure reported is
  // the one of the smallest failing run index, as with 1 job. Systematic
  // strategies (dfs) and replay run on one thread.
  unsigned jobs = 1;
  // CHANFUZZ_JUNIT: also write the report as a JUnit XML file here (one
  // test case, named after the scenario), for CI dashboards. "": none.
  std::string junit{};
  std::function<void(const Progress&)> on_progress{};  // called about every 100 ms (no variable)
};

// Parses a shard "<i>/<n>" (1 <= i <= n) into index and count; false when
// malformed.
bool parse_shard_spec(std::string_view text, std::uint64_t& index, std::uint64_t& count);

// Applies the CHANFUZZ_* environment variables to `config`. check() calls it;
// exposed so tools can validate early. Throws std::invalid_argument.
Config apply_environment(Config config);

using Scenario = std::function<Task<void>()>;

// Runs the scenario under config.runs schedules (or until the time budget is
// spent) and stops at the first failure. Throws std::invalid_argument for a
// bad configuration (unknown strategy, malformed trace, bad variable).
Report check(Scenario scenario, Config config = {});

// One run, exactly as `trace` recorded it. A trace that no longer fits the
// scenario gives kind == FailureKind::diverged, naming the first decision
// that differs. Throws TraceError (std::invalid_argument) for a malformed
// trace.
Report replay(Scenario scenario, std::string_view trace);

// The same, naming the scenario for the report's replay command.
Report replay(Scenario scenario, std::string_view trace, std::string_view name);

// Thrown by require() when its condition is false. Under SimExecutor the run
// is already marked failed when it is thrown, so a task that catches it does
// not hide the failure.
class AssertionFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Inside a scenario: fails the run as `assertion` with `message` unless
// `condition` holds.
void require(bool condition, std::string_view message,
             SourceLocation where = SourceLocation::current());

// The program name that reports put in replay commands ("chanfuzz" unless a
// CLI built from cli_main() set its own).
void set_command_name(std::string name);
const std::string& command_name();

}  // namespace chanfuzz
