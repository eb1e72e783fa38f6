// Support for the property suites.
//
// How a property runs one generated case under many schedules: check() with
// a fixed number of runs, and, when a run fails, RC_FAIL with chanfuzz's
// report and the command that replays that schedule of that case.
//
//   RC_GTEST_PROP(Topology, every_task_exits, ()) {
//     const auto topology = *gen_topology();
//     const auto schedules = *gen_schedules();
//     expect_every_schedule_passes(topology_scenario(topology, Law::exits), schedules);
//   }
//
// RapidCheck prints the failing case (topology and schedules) and, at the
// end of the test program, its RC_PARAMS="reproduce=..." string; the report
// here adds the cf1: trace of the failing schedule. Both together replay it:
//
//   RC_PARAMS="reproduce=..." CHANFUZZ_STRATEGY=replay CHANFUZZ_TRACE=cf1:...
//       <test program> --gtest_filter=<Suite.property>
#pragma once

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <unistd.h>

#include <chanfuzz/chanfuzz.hpp>

#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <ostream>
#include <string>
#include <string_view>

namespace chanfuzz::properties {

// Schedules per generated case: check() runs each case this many times
// (CHANFUZZ_RUNS overrides it, as for every check()).
inline constexpr std::uint64_t kSchedulesPerCase = 32;

// The schedules of one case: a base seed and a strategy. Part of the
// generated case, so RapidCheck's reproduce string replays them too; never
// shrunk (a different seed is a different set of schedules, not a smaller one).
struct Schedules {
  std::uint64_t seed = 1;
  std::string strategy = "random";

  Config config() const {
    Config config;
    config.runs = kSchedulesPerCase;
    config.seed = seed;
    config.strategy = strategy;
    return config;
  }
};

inline std::ostream& operator<<(std::ostream& out, const Schedules& s) {
  return out << kSchedulesPerCase << " schedules from seed " << s.seed << ", strategy "
             << s.strategy;
}
inline void showValue(const Schedules& s, std::ostream& out) { out << s; }

// Half random, half PCT of depth 2 or 3.
inline rc::Gen<Schedules> gen_schedules() {
  return rc::gen::noShrink(rc::gen::map(
      rc::gen::tuple(rc::gen::inRange<std::uint64_t>(1, std::uint64_t{1} << 40),
                     rc::gen::element<std::string>("random", "random", "pct:2", "pct:3")),
      [](const std::tuple<std::uint64_t, std::string>& t) {
        return Schedules{std::get<0>(t), std::get<1>(t)};
      }));
}

// The path of this test program, for the replay command.
inline std::string test_program() {
  char path[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  return n > 0 ? std::string(path, static_cast<std::size_t>(n)) : std::string("<test program>");
}

// The gtest filter of the running test, for replay commands.
inline std::string current_test_filter() {
  if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info()) {
    return std::string(info->test_suite_name()) + "." + info->name();
  }
  return "<Suite.property>";
}

// The command that replays one schedule (`trace`) of the failing case.
inline std::string replay_case_command(const std::string& trace) {
  return "RC_PARAMS=\"reproduce=...\" CHANFUZZ_STRATEGY=replay CHANFUZZ_TRACE=" + trace + " " +
         test_program() + " --gtest_filter=" + current_test_filter();
}

// Candidate runs and seconds minimize() may spend on one failing case.
// RapidCheck calls a failing property once for the first failure and once
// for each failing shrink (some 5-20 calls), so each call gets a small budget.
inline constexpr std::uint64_t kMinimizeRuns = 2000;
inline constexpr double kMinimizeSeconds = 1.0;

// Issue 9: a failure prints a minimized schedule beside the original one:
// minimize() (delta debugging over the decisions; chanfuzz/minimize.hpp)
// keeps the category and the blocked sites. Off with
// CHANFUZZ_PROPERTIES_MINIMIZE=0. Runs on failures only.
inline std::string minimized_text(const Scenario& scenario, const Report& report) {
  if (report.trace.empty()) return "";
  const char* env = std::getenv("CHANFUZZ_PROPERTIES_MINIMIZE");
  if (env != nullptr && std::string_view(env) == "0") return "";
  MinimizeOptions options;
  options.max_runs = kMinimizeRuns;
  options.time_budget_s = kMinimizeSeconds;
  Report small;
  try {
    small = minimize(scenario, report.trace, options);
  } catch (const std::exception& e) {  // the trace does not fail again (it should)
    return std::string("minimized: not available (") + e.what() + ")\n";
  }
  const auto count = [](std::uint64_t n, const char* what) {
    return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
  };
  if (small.trace == report.trace) {
    return "minimized: the schedule above is minimal already (" +
           count(small.decisions, "decision") + ", " + count(small.preemptions, "preemption") +
           ")\n";
  }
  std::string spelled = count(small.decisions, "decision");
  if (small.default_tail_decisions > 0) {
    spelled += " + " + std::to_string(small.default_tail_decisions) + " by default";
  }
  return "minimized: " + spelled + ", " + count(small.preemptions, "preemption") + " (from " +
         count(small.minimized_from_decisions, "decision") + ", " +
         count(small.minimized_from_preemptions, "preemption") + "), fails as " +
         failure_kind_name(small.kind) + ": " + small.summary + "\n  trace:  " + small.trace +
         "\n  replay: " + replay_case_command(small.trace) + "\n";
}

// chanfuzz's report, the command that replays the failing schedule of this
// case, and a minimized schedule with its own replay command.
inline std::string failure_text(const Scenario& scenario, const Report& report) {
  std::string text = report.text();
  if (report.trace.empty()) return text;
  text += "replay this schedule of this case (RapidCheck prints the reproduce string):\n  " +
          replay_case_command(report.trace) + "\n";
  return text + minimized_text(scenario, report);
}

// When a schedule is replayed (CHANFUZZ_STRATEGY=replay, CHANFUZZ_TRACE) and
// CHANFUZZ_REPLAY_VERBOSE=1, prints the interleaving step by step to stderr,
// as `chanfuzz replay --verbose` does for catalogue scenarios. With a
// reproduce= string RapidCheck also runs the cases on the way to the shrunk
// one; the trace does not fit those (their replay diverges), so only the
// case the trace fits is printed.
inline void print_replayed_interleaving(const Scenario& scenario) {
  const char* verbose = std::getenv("CHANFUZZ_REPLAY_VERBOSE");
  if (verbose == nullptr || std::string_view(verbose) != "1") return;
  const Config config = apply_environment(Config{});
  if (config.strategy != "replay" || config.trace.empty()) return;
  ReplayStrategy strategy(read_trace(config.trace));
  SimOptions options;
  options.seed = 0;
  options.max_steps = config.max_steps;
  options.strategy = &strategy;
  std::string lines;
  options.observer = [&lines](const SimEvent& event) { lines += format_event(event) + "\n"; };
  SimExecutor sim(options);
  const RunResult result = sim.run(scenario());
  if (result.outcome == RunOutcome::diverged || strategy.unused() > 0) return;
  std::cerr << "the replayed schedule, step by step:\n" << lines;
}

// The last case that failed in this program: its size (each property has
// its own measure: tasks and values, commands, ...), and what failed. When
// RapidCheck has shrunk a failure, the last failing case is the shrunk one
// (every failing shrink is accepted), so the controls read it here.
struct FailureRecord {
  int size = -1;
  FailureKind kind = FailureKind::none;
  std::string report;
};
inline FailureRecord& last_failure() {
  static FailureRecord record;
  return record;
}

// Runs `scenario` under the case's schedules; a failing run fails the
// property with the report. `size`: the case's size, for the controls.
inline void expect_every_schedule_passes(const Scenario& scenario, const Schedules& schedules,
                                         int size = -1) {
  print_replayed_interleaving(scenario);
  const Report report = check(scenario, schedules.config());
  if (!report.ok()) {
    last_failure() = FailureRecord{size, report.kind, failure_text(scenario, report)};
    RC_FAIL(last_failure().report);
  }
}

// ---- running a property programmatically (negative and mutant controls) ----

// Counts the shrinks RapidCheck tries; prints nothing.
class ShrinkCounter final : public rc::detail::TestListener {
 public:
  void onTestCaseFinished(const rc::detail::CaseDescription&) override {}
  void onShrinkTried(const rc::detail::CaseDescription&, bool) override { ++tried; }
  void onTestFinished(const rc::detail::TestMetadata&, const rc::detail::TestResult&) override {}
  int tried = 0;
};

struct ControlResult {
  bool failed = false;
  int cases = 0;            // cases until the first failure (that one included)
  std::size_t shrinks = 0;  // shrinks accepted
  int shrinks_tried = 0;
  FailureRecord shrunk;     // the shrunk case's size and report
  std::string description;  // RapidCheck's failure description (chanfuzz's report)
  rc::detail::Reproduce reproduce;
  std::string counterexample;  // the shrunk case, as RapidCheck prints it
};

// Runs `property` (a callable that uses *gen and RC_ macros, like a
// RC_GTEST_PROP body) as RapidCheck would, with its own seed, as many cases
// as RC_PARAMS asks for, and no reproduce map; prints nothing.
template <class Property>
ControlResult run_control(const std::string& id, Property property, std::uint64_t seed = 20240601) {
  rc::detail::TestParams params;
  params.seed = seed;
  params.maxSuccess = rc::detail::configuration().testParams.maxSuccess;
  rc::detail::TestMetadata metadata;
  metadata.id = id;
  metadata.description = id;
  ShrinkCounter counter;
  last_failure() = FailureRecord{};
  const rc::detail::TestResult result = rc::detail::checkProperty(
      rc::detail::toProperty(std::move(property)), metadata, params, counter, {});
  ControlResult out;
  out.shrinks_tried = counter.tried;
  rc::detail::FailureResult failure;
  if (result.match(failure)) {
    out.failed = true;
    out.cases = failure.numSuccess + 1;
    out.shrinks = failure.reproduce.shrinkPath.size();
    out.shrunk = last_failure();
    out.description = failure.description;
    out.reproduce = failure.reproduce;
    for (const auto& [type, value] : failure.counterExample) out.counterexample += value + "\n";
  }
  return out;
}

// The planted bug of a CHANFUZZ_MUTANT build, or "" (a normal build).
inline std::string mutant_name() {
#ifdef CHANFUZZ_MUTANT_NAME
  return CHANFUZZ_MUTANT_NAME;
#else
  return "";
#endif
}

// ---- inside a scenario ----

// Whether every task but the current one is blocked (or gone).
inline bool others_blocked() {
  Executor* executor = current_executor();
  const std::uint64_t self = executor->current_task()->id;
  for (const TaskInfo& task : executor->tasks()) {
    if (task.id != self && (task.state == "runnable" || task.state == "running")) return false;
  }
  return true;
}

// Waits until every other task is blocked: the point where a Go test would
// sleep to let goroutines reach their blocking operation. It sleeps (in
// virtual time, which costs nothing) rather than yields: a yielding task can
// keep the highest PCT priority and starve the others, a sleeping one cannot.
inline Task<> settle() {
  for (int i = 0; i < 10000; ++i) {
    if (others_blocked()) co_return;
    co_await sleep_for(std::chrono::microseconds(1));
  }
  require(false, "settle(): tasks still runnable after 10000 naps");
}

// The state of task `id` ("gone" once it finished): "chan receive", "select", ...
inline std::string task_state(std::uint64_t id) {
  for (const TaskInfo& task : current_executor()->tasks()) {
    if (task.id == id) return task.state;
  }
  return "gone";
}

}  // namespace chanfuzz::properties
