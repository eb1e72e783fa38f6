// `chanfuzz replay <scenario> (--trace cf1:... | --seed S [--strategy S])`.
//
// With --trace, replay() runs the recorded schedule. With --seed, check()
// makes one run with that seed and strategy: run i of a check uses seed
// S + i, so this repeats the run a report's `seed:` line names. --verbose
// first runs the same schedule on a SimExecutor of its own with an observer
// that prints every event; runs are deterministic, so the report that
// follows is about the run just shown.
#include <fmt/format.h>
#include <stdlib.h>  // setenv, unsetenv (POSIX)

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "chanfuzz/sim_executor.hpp"
#include "chanfuzz/strategy.hpp"
#include "chanfuzz/trace.hpp"
#include "commands.hpp"

namespace chanfuzz::cli {

namespace {

// Changes environment variables for the length of a command and puts them
// back afterwards. check() and replay() read the CHANFUZZ_* variables
// themselves: this is how replay makes "one run, this seed, this strategy"
// hold whatever the environment says, and how --max-steps reaches replay().
class ScopedEnvironment {
 public:
  ScopedEnvironment() = default;
  ScopedEnvironment(const ScopedEnvironment&) = delete;
  ScopedEnvironment& operator=(const ScopedEnvironment&) = delete;
  ~ScopedEnvironment() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second) {
        ::setenv(it->first.c_str(), it->second->c_str(), 1);
      } else {
        ::unsetenv(it->first.c_str());
      }
    }
  }

  void set(const char* name, const std::string& value) {
    save(name);
    ::setenv(name, value.c_str(), 1);
  }
  void unset(const char* name) {
    save(name);
    ::unsetenv(name);
  }

 private:
  void save(const char* name) {
    const char* value = std::getenv(name);
    saved_.emplace_back(name, value ? std::optional<std::string>(value) : std::nullopt);
  }

  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

bool environment_has(const char* name) {
  const char* value = std::getenv(name);
  return value && *value;
}

// Runs the schedule once, printing each event on a line; returns how it ended.
RunResult print_interleaving(const ScenarioInfo& scenario, SimOptions options) {
  options.observer = [](const SimEvent& event) {
    if (event.kind == SimEvent::Kind::changed) return;  // bookkeeping for dfs, not a step
    if (event.kind == SimEvent::Kind::blocked && event.subject) {
      // SimExecutor reports `blocked` while the task's channel (mutex, wait
      // group) is still locked, and describing it would take that lock
      // again: print it without the object, which the task's `operation`
      // line just before describes.
      SimEvent without_subject = event;
      without_subject.subject = nullptr;
      std::cout << format_event(without_subject) << "\n";
      return;
    }
    std::cout << format_event(event) << "\n";
  };
  RunResult result;
  {
    SimExecutor sim(std::move(options));
    result = sim.run(scenario.make(), scenario.where);
  }
  std::cout << "\n";
  return result;
}

// The verbose run and the report's run must be the same run; when they are
// not, the scenario depends on something outside the simulator.
void check_same_run(const RunResult& shown, const Report& report) {
  const std::string_view shown_outcome = run_outcome_name(shown.outcome);
  const std::string_view reported = failure_kind_name(report.kind);
  bool same = shown_outcome == reported;
  if (same && !report.ok() && report.kind != FailureKind::diverged) {
    // The shown run took the trace's decisions, then (a default tail) as
    // many default choices as the reported run did.
    const Trace given = read_trace(report.trace);
    same = shown.steps == report.steps &&
           shown.decisions.size() == given.decisions.size() + report.default_tail_decisions &&
           std::equal(given.decisions.begin(), given.decisions.end(), shown.decisions.begin());
  }
  if (!same) {
    std::cout.flush();
    std::cerr << fmt::format(
        "chanfuzz: warning: the run shown step by step ended {}, the reported run {}: the "
        "scenario is not deterministic (does it read the wall clock, rand() or state left by "
        "an earlier run?)\n",
        shown_outcome, reported);
  }
}

void print_report(const Report& report, bool json) {
  std::cout << (json ? report.json() + "\n" : report.text());
  std::cout.flush();
}

}  // namespace

int replay_command(const ReplayArgs& args) {
  const ScenarioInfo& scenario = find_scenario_or_fail(args.scenario);
  if (args.trace && args.seed) {
    throw UsageError("replay: --trace and --seed exclude each other (give one)");
  }
  if (!args.trace && !args.seed) {
    throw UsageError(
        "replay: give --trace cf1:... or --seed S (the report's trace: or seed: line)");
  }
  if (args.trace && args.strategy) {
    throw UsageError("--strategy: only with --seed (a trace already fixes every decision)");
  }
  if (args.verbose && args.json) {
    throw UsageError("--verbose: not with --json (the step lines are not JSON)");
  }
  std::optional<std::uint64_t> max_steps;
  if (args.max_steps) {
    max_steps = parse_whole("--max-steps", *args.max_steps);
    if (*max_steps == 0) throw UsageError("--max-steps: must be at least 1");
  }
  environment_applied(Config{});  // a bad CHANFUZZ_* variable is reported first

  ScopedEnvironment environment;
  if (args.trace) {
    Trace given;
    try {
      given = read_trace(*args.trace);
    } catch (const TraceError& e) {
      throw UsageError(fmt::format("--trace: {}", e.what()));
    }
    // replay() takes its step limit from the environment only; as with
    // `run`, a CHANFUZZ_MAX_STEPS already set wins over the flag.
    if (max_steps && !environment_has("CHANFUZZ_MAX_STEPS")) {
      environment.set("CHANFUZZ_MAX_STEPS", std::to_string(*max_steps));
    }
    std::optional<RunResult> shown;
    if (args.verbose) {
      ReplayStrategy strategy(std::move(given));
      SimOptions options;
      options.seed = 0;  // as replay() does
      options.max_steps = environment_applied(Config{}).max_steps;
      options.strategy = &strategy;
      shown = print_interleaving(scenario, std::move(options));
    }
    Report report;
    try {
      report = replay(Scenario(scenario.make), *args.trace, scenario.name);
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
    // A shown run that ran past the trace is diverged only in the report
    // (replay() checks for unused decisions afterwards): compare only when
    // the report is not about divergence.
    if (shown && report.kind != FailureKind::diverged) check_same_run(*shown, report);
    print_report(report, args.json);
    if (report.kind == FailureKind::diverged) {
      std::cerr << fmt::format("chanfuzz: --trace: does not fit scenario {}: {}\n", scenario.name,
                               report.summary);
    }
    return exit_status(report);
  }

  // --seed: one run of check(). The flags say which run; the variables that
  // would make it another run (or several) are set aside for this command.
  const std::uint64_t seed = parse_whole("--seed", *args.seed);
  const std::string strategy_name =
      args.strategy ? parse_strategy("--strategy", *args.strategy) : std::string("random");
  for (const char* name : {"CHANFUZZ_RUNS", "CHANFUZZ_SEED", "CHANFUZZ_STRATEGY", "CHANFUZZ_TIME",
                           "CHANFUZZ_TRACE", "CHANFUZZ_ON_STEP_LIMIT", "CHANFUZZ_SCENARIO_NAME"}) {
    environment.unset(name);
  }
  Config config;
  config.runs = 1;
  config.seed = seed;
  config.strategy = strategy_name;
  if (max_steps) config.max_steps = *max_steps;
  config.name = scenario.name;

  std::optional<RunResult> shown;
  if (args.verbose) {
    std::unique_ptr<Strategy> strategy = make_strategy(strategy_name);
    SimOptions options;
    options.seed = seed;
    options.max_steps = environment_applied(config).max_steps;
    options.strategy = strategy.get();
    shown = print_interleaving(scenario, std::move(options));
  }
  Report report;
  try {
    report = check(scenario, std::move(config));
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  if (shown) check_same_run(*shown, report);
  print_report(report, args.json);
  return exit_status(report);
}

}  // namespace chanfuzz::cli
