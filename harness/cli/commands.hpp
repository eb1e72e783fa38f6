// The commands of the chanfuzz tool, behind cli_main() (cli.cpp parses the
// command line with CLI11 and calls one of them). Internal to harness/cli/.
//
// Option values reach the commands as the text the user typed, and are
// parsed here, so that every message names the flag it is about:
// "--runs: 'abc' is not a whole number".
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "chanfuzz/check.hpp"
#include "chanfuzz/report.hpp"
#include "chanfuzz/scenario.hpp"

namespace chanfuzz::cli {

inline constexpr int kExitOk = 0;       // no failure
inline constexpr int kExitFailure = 1;  // a failure was found
inline constexpr int kExitUsage = 2;    // bad usage or input

// Bad usage or input. cli_main() prints "chanfuzz: <what()>" on stderr and
// exits 2; what() is one line.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// `run`'s flags, as typed (nullopt: not given).
struct RunArgs {
  std::string scenario;  // "" with --all
  bool all = false;
  std::optional<std::string> runs, seed, strategy, time, max_steps;
  bool skip_step_limit = false;
  bool json = false;
  bool swarm = false;
  std::optional<std::string> shard, resume, jobs, junit;
};

// `replay`'s flags, as typed (nullopt: not given).
struct ReplayArgs {
  std::string scenario;
  std::optional<std::string> trace, seed, strategy, max_steps;
  bool verbose = false;
  bool json = false;
};

int list_command(bool json);
int run_command(const RunArgs& args);        // run <scenario> (run.cpp)
int run_all_command(const RunArgs& args);    // run --all (run.cpp)
int replay_command(const ReplayArgs& args);  // (replay.cpp)

// `minimize`'s flags, as typed (nullopt: not given).
struct MinimizeArgs {
  std::string scenario;
  std::optional<std::string> trace, runs, time, max_steps;
  bool json = false;
};
int minimize_command(const MinimizeArgs& args);  // (minimize.cpp)

// `stress`'s flags, as typed (nullopt: not given).
struct StressArgs {
  std::string scenario;
  bool all = false;
  std::optional<std::string> runs, seed, time, threads, leak_wait, soak;
  bool json = false;
};
int stress_command(const StressArgs& args);      // stress <scenario> (stress.cpp)
int stress_all_command(const StressArgs& args);  // stress --all (stress.cpp)
int soak_command(const StressArgs& args);        // stress --soak SEC (stress.cpp)

// ---- shared by the commands (cli.cpp) ----

// A whole number, for `flag`. Throws UsageError.
std::uint64_t parse_whole(std::string_view flag, const std::string& text);
// A number of seconds, 0 or more. Throws UsageError.
double parse_seconds(std::string_view flag, const std::string& text);
// A strategy that make_strategy() accepts ("random", "pct:3"); "replay" is
// refused (it needs a trace: `replay --trace`). Throws UsageError.
std::string parse_strategy(std::string_view flag, const std::string& text);

// The registered scenario, or UsageError: "unknown scenario 'x' (...)",
// suggesting the closest name within edit distance 2.
const ScenarioInfo& find_scenario_or_fail(const std::string& name);

// What a scenario is expected to do, for tables: "pass", "leak", "deadlock",
// "panic", "assertion", "step-limit".
const char* expectation_name(FailureKind expected) noexcept;

// apply_environment(), with its std::invalid_argument (a bad CHANFUZZ_*
// variable, message naming it) turned into UsageError.
Config environment_applied(Config config);

// The exit status for a report: 0 ok, 1 a failure, 2 diverged (the trace does
// not fit the scenario: bad input).
int exit_status(const Report& report) noexcept;

// "12,345"
std::string group_digits(std::uint64_t n);

// A live progress line on stderr, rewritten in place with "\r" (only when
// enabled: stderr is a terminal and the output is not JSON).
class ProgressLine {
 public:
  explicit ProgressLine(bool enabled) : enabled_(enabled) {}
  ~ProgressLine() { clear(); }
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  bool enabled() const noexcept { return enabled_; }
  void show(const std::string& text);
  // Erases the line, if one is shown (before the report is printed).
  void clear();

 private:
  bool enabled_;
  bool shown_ = false;
};

// True when stderr is a terminal.
bool stderr_is_terminal() noexcept;

// "rand_stream_done: 12,345 runs  8,120 runs/s  1.5s  strategy random"; for
// dfs: "pipeline: 12,345 schedules  8,120/s  depth 57  ~34% done, ~3s left  1.5s  strategy dfs:2"
std::string progress_text(std::string_view scenario, const Progress& progress);

}  // namespace chanfuzz::cli
