// schedule_fuzzer: the fuzz input is the schedule of a catalogue scenario.
//
// Input:
//   <scenario name> '\n' <decision bytes>
//
// The name picks a scenario expected to pass (CHANFUZZ_SCENARIO, not
// CHANFUZZ_SCENARIO_FAILS); an input naming anything else is rejected (-1:
// libFuzzer does not keep it). With CHANFUZZ_FUZZ_SCENARIOS=a,b,... only the
// scenarios named there are eligible, whatever they expect (the feedback
// benchmark and the tests fuzz a scenario with a planted bug that way).
// Each decision of the run (which task runs next, which ready select case,
// which due timer, random(n)) takes the next byte modulo its number of
// options; once the bytes run out, FuzzBytesStrategy's fair default.
//
// A run that does not pass is a finding: the report of replay() on the
// decisions the run took (the very report `chanfuzz replay <scenario>
// --trace cf1:...` prints), then the scripts/repro commands, then abort().
// A scenario whose settings (CHANFUZZ_SCENARIO_WITH) give a step limit runs
// with it, and one that skips runs past it (a program that may loop forever
// on bug-free schedules) does so here too: such a run is not a finding.
#include <stdlib.h>  // setenv, unsetenv (POSIX)
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "chanfuzz/check.hpp"
#include "chanfuzz/minimize.hpp"
#include "chanfuzz/scenario.hpp"
#include "chanfuzz/sim_executor.hpp"
#include "chanfuzz/trace.hpp"
#include "fuzz_input.hpp"
#include "fuzz_support.hpp"
#include "interleaving_feedback.hpp"

namespace {

using namespace chanfuzz;

std::vector<const ScenarioInfo*> g_eligible;
std::uint64_t g_max_steps = Config{}.max_steps;

void choose_eligible() {
  const char* only = std::getenv("CHANFUZZ_FUZZ_SCENARIOS");
  if (only && *only) {
    std::string_view list(only);
    while (!list.empty()) {
      std::size_t comma = list.find(',');
      std::string_view name = list.substr(0, comma);
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
      if (name.empty()) continue;
      const ScenarioInfo* scenario = find_scenario(name);
      if (!scenario) {
        std::fprintf(stderr, "schedule_fuzzer: CHANFUZZ_FUZZ_SCENARIOS: no scenario '%.*s'\n",
                     static_cast<int>(name.size()), name.data());
        std::exit(2);
      }
      g_eligible.push_back(scenario);
    }
    return;
  }
  for (const ScenarioInfo& scenario : scenarios()) {
    if (scenario.expected == FailureKind::none) g_eligible.push_back(&scenario);
  }
}

// The scenario's own step limit, if it has settings (ScenarioSettings; the
// requires-expressions keep this compiling where ScenarioInfo has none).
template <class Info>
std::uint64_t step_limit_of(const Info& scenario) {
  if constexpr (requires { scenario.settings.max_steps; }) {
    if (scenario.settings.max_steps != 0) return scenario.settings.max_steps;
  }
  return g_max_steps;
}
template <class Info>
bool skips_step_limit(const Info& scenario) {
  if constexpr (requires { scenario.settings.on_step_limit; }) {
    return scenario.settings.on_step_limit == StepLimit::skip;
  }
  return false;
}

// Sets an environment variable for a scope (replay() reads CHANFUZZ_MAX_STEPS).
class ScopedVariable {
 public:
  ScopedVariable(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    had_ = std::getenv(name) != nullptr;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedVariable() {
    if (had_) {
      ::setenv(name_, old_.c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedVariable(const ScopedVariable&) = delete;
  ScopedVariable& operator=(const ScopedVariable&) = delete;

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

const ScenarioInfo* eligible(std::string_view name) {
  for (const ScenarioInfo* scenario : g_eligible) {
    if (scenario->name == name) return scenario;
  }
  return nullptr;
}

// minimize() on a finding's trace, bounded by runs (not time, so that the
// report is deterministic and the crash file replays to the identical text).
// At most kMinimizeRuns candidate runs: a finding is rare, and a few
// thousand runs of a catalogue scenario take well under a second even with
// ASan. `trace` is empty when minimize() gave up (a scenario that does not
// fail the same way again).
constexpr std::uint64_t kMinimizeRuns = 2000;

struct Minimized {
  std::string trace;
  // "minimized: N decisions[ + M by default], P preemptions (from ...): cf1:...\n"
  std::string line;
};

Minimized minimize_finding(const ScenarioInfo& scenario, const std::string& trace) {
  ScopedVariable steps("CHANFUZZ_MAX_STEPS", std::to_string(step_limit_of(scenario)));
  MinimizeOptions options;
  options.max_runs = kMinimizeRuns;
  options.name = scenario.name;
  Report small;
  try {
    small = minimize(Scenario(scenario.make), trace, options);
  } catch (const std::invalid_argument& e) {
    return {"", std::string("minimized: none (") + e.what() + ")\n"};
  }
  auto count = [](std::uint64_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
  };
  // "N decisions" spelled out in the trace, "+ M by default" its default tail took.
  std::string spelled = count(small.decisions, "decision", "decisions");
  if (small.default_tail_decisions > 0) {
    spelled += " + " + std::to_string(small.default_tail_decisions) + " by default";
  }
  std::string line =
      "minimized: " + spelled + ", " + count(small.preemptions, "preemption", "preemptions") +
      " (from " + count(small.minimized_from_decisions, "decision", "decisions") + ", " +
      count(small.minimized_from_preemptions, "preemption", "preemptions") + "; " +
      count(small.runs, "candidate run", "candidate runs") + "): " + small.trace + "\n";
  return {small.trace, std::move(line)};
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  choose_eligible();
  try {
    g_max_steps = apply_environment(Config{}).max_steps;  // as replay() will run it
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "schedule_fuzzer: %s\n", e.what());
    std::exit(2);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::FuzzInput in(data, size);
  const ScenarioInfo* scenario = eligible(in.line());
  if (!scenario) return -1;

  static fuzz::InterleavingFeedback feedback;
  const bool with_feedback = fuzz::InterleavingFeedback::enabled() && !fuzz::replay_mode();
  fuzz::FuzzBytesStrategy strategy(in.rest(), with_feedback ? &feedback : nullptr);
  SimOptions options;
  options.seed = 0;
  options.max_steps = step_limit_of(*scenario);
  options.strategy = &strategy;
  if (with_feedback) {
    feedback.begin_run();
    options.observer = [](const SimEvent& event) { feedback.on_event(event); };
  }
  RunResult result;
  {
    SimExecutor sim(std::move(options));
    result = sim.run(scenario->make());
  }
  if (result.outcome == RunOutcome::ok) return 0;
  if (result.outcome == RunOutcome::step_limit && skips_step_limit(*scenario)) return 0;

  // A finding. Its report is replay()'s, so that the trace replays to the
  // same text with `chanfuzz replay` / scripts/repro (with the same step
  // limit: replay() reads it from CHANFUZZ_MAX_STEPS).
  const std::string trace = encode_trace(result.decisions);
  std::string steps_prefix;
  Report report;
  if (const std::uint64_t limit = step_limit_of(*scenario); limit != g_max_steps) {
    steps_prefix = "CHANFUZZ_MAX_STEPS=" + std::to_string(limit) + " ";
    ScopedVariable steps("CHANFUZZ_MAX_STEPS", std::to_string(limit));
    report = replay(Scenario(scenario->make), trace, scenario->name);
  } else {
    report = replay(Scenario(scenario->make), trace, scenario->name);
  }
  std::string text = report.text();
  if (report.kind == FailureKind::diverged || report.trace != trace) {
    text += std::string("warning:  the fuzz run ended ") + run_outcome_name(result.outcome) +
            " but its trace replays " + failure_kind_name(report.kind) +
            ": the scenario is not deterministic\n";
  }
  // A shorter schedule that fails the same way (issue 9: findings print
  // minimized traces), after the report; the original trace stays the one
  // the report is about.
  std::vector<std::string> commands;
  const std::string repro = steps_prefix + "scripts/repro " + scenario->name + " ";
  const Minimized small = minimize_finding(*scenario, trace);
  text += small.line;
  if (!small.trace.empty() && small.trace != trace) {
    commands.push_back(repro + small.trace + "   (minimized)");
  }
  text += "found by: schedule_fuzzer, scenario " + scenario->name + ", " +
          std::to_string(in.remaining()) + " decision bytes for " +
          std::to_string(result.decisions.size()) + " decisions\n";
  commands.push_back(repro + trace);
  // The crash file names its scenario, but only CHANFUZZ_FUZZ_SCENARIOS makes
  // one that is expected to fail eligible: its replay needs the same list.
  const char* only = std::getenv("CHANFUZZ_FUZZ_SCENARIOS");
  const std::string crash_environment =
      only && *only ? std::string("CHANFUZZ_FUZZ_SCENARIOS=") + only + " " : std::string();
  text += fuzz::repro_lines("schedule_fuzzer", commands, std::span<const std::uint8_t>(data, size),
                            crash_environment);
  fuzz::report_finding(text);
}
