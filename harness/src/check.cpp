// check(), replay(), require() and the CHANFUZZ_* environment variables.
#include "chanfuzz/check.hpp"

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "chanfuzz/sim_executor.hpp"
#include "chanfuzz/strategy.hpp"
#include "chanfuzz/trace.hpp"

namespace chanfuzz {

namespace {

std::string& command_name_storage() {
  static std::string name = "chanfuzz";
  return name;
}

// The value of an environment variable, or null when unset or empty.
const char* env(const char* name) {
  const char* value = std::getenv(name);
  return value && *value ? value : nullptr;
}

[[noreturn]] void bad_variable(const char* name, const char* value, const std::string& why) {
  throw std::invalid_argument(std::string(name) + "='" + value + "': " + why);
}

std::uint64_t parse_whole(const char* name, const char* value) {
  std::string_view text(value);
  std::uint64_t out = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (error == std::errc::result_out_of_range) bad_variable(name, value, "too large");
  if (error != std::errc() || end != text.data() + text.size()) {
    bad_variable(name, value, "not a whole number");
  }
  return out;
}

double parse_seconds(const char* name, const char* value) {
  char* end = nullptr;
  double out = std::strtod(value, &end);
  if (end == value || *end != '\0' || !std::isfinite(out) || out < 0) {
    bad_variable(name, value, "not a number of seconds (0 or more)");
  }
  return out;
}

std::string summarize(const RunResult& result) {
  auto task_name = [](const TaskInfo& task) {
    std::string out = "task " + std::to_string(task.id);
    if (!task.name.empty()) out += " \"" + task.name + "\"";
    return out;
  };
  switch (result.outcome) {
    case RunOutcome::deadlock: {
      std::string out = "all tasks are asleep";
      for (const TaskInfo& task : result.tasks) {
        if (task.name == "main") {
          out += ": main blocked in " + task.state + " at " + format_location(task.blocked_at);
        }
      }
      return out;
    }
    case RunOutcome::panic:
    case RunOutcome::assertion:
      if (!result.tasks.empty()) {
        const TaskInfo& task = result.tasks.front();
        return result.message + " (" + task_name(task) + " at " + format_location(task.blocked_at) +
               ")";
      }
      return result.message;
    default:
      return result.message;
  }
}

FailureKind failure_kind(RunOutcome outcome) {
  switch (outcome) {
    case RunOutcome::ok:
      return FailureKind::none;
    case RunOutcome::leak:
      return FailureKind::leak;
    case RunOutcome::deadlock:
      return FailureKind::deadlock;
    case RunOutcome::panic:
      return FailureKind::panic;
    case RunOutcome::assertion:
      return FailureKind::assertion;
    case RunOutcome::step_limit:
      return FailureKind::step_limit;
    case RunOutcome::diverged:
      return FailureKind::diverged;
  }
  return FailureKind::none;
}

void fill(Report& report, RunResult& result) {
  report.kind = failure_kind(result.outcome);
  report.summary = summarize(result);
  report.trace = encode_trace(result.decisions);
  report.tasks = std::move(result.tasks);
  report.steps = result.steps;
}

// The strategy's name, with "+swarm" when Config::swarm asks for it.
std::string strategy_spec(const Config& config) {
  std::string spec = config.strategy;
  if (!config.swarm || spec.ends_with("+swarm")) return spec;
  if (spec.starts_with("dfs:")) {
    throw std::invalid_argument("swarm (CHANFUZZ_SWARM, Config::swarm) varies sampled runs: "
                                "it does not combine with the systematic strategy " + spec);
  }
  return spec + "+swarm";
}

// Strategies that watch the run get its events.
void watch_events(SimOptions& options, Strategy& strategy) {
  if (strategy.wants_events()) {
    options.observer = [&strategy](const SimEvent& event) { strategy.on_event(event); };
  }
}

// A systematic strategy (dfs:<P>): runs until the search is exhausted, a run
// fails, or the time budget is spent. Seeds and `runs` do not apply.
Report search(const Scenario& scenario, const Config& config, Strategy& strategy) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  auto last_progress = start;
  auto elapsed = [&](Clock::time_point at) {
    return std::chrono::duration<double>(at - start).count();
  };
  Report report;
  report.scenario = config.name;
  report.strategy = strategy.name();
  report.systematic = true;
  auto progress = [&](double at) {
    const SearchStatus& status = *strategy.search_status();
    Progress p{report.runs, report.skipped, at, report.strategy.c_str()};
    p.systematic = true;
    p.schedules = status.schedules;
    p.depth = status.depth;
    p.fraction_done = status.fraction_done;
    return p;
  };
  for (;;) {
    SimOptions options;
    options.seed = 0;
    options.max_steps = config.max_steps;
    options.strategy = &strategy;
    watch_events(options, strategy);
    RunResult result;
    {
      SimExecutor sim(options);
      result = sim.run(scenario());
    }
    ++report.runs;
    const SearchStatus& status = *strategy.search_status();
    if (strategy.run_redundant()) {
      // cut short by the reduction: it repeats schedules already run
    } else if (result.outcome == RunOutcome::step_limit &&
               config.on_step_limit == StepLimit::skip) {
      ++report.skipped;
    } else if (result.outcome != RunOutcome::ok) {
      // A failure, or `diverged`: the scenario did not repeat itself.
      fill(report, result);
      if (config.max_steps != Config{}.max_steps) report.max_steps = config.max_steps;
      break;
    }
    if (status.exhausted) {
      report.search_complete = true;
      break;
    }
    const auto now = Clock::now();
    if (config.on_progress && now - last_progress >= std::chrono::milliseconds(100)) {
      last_progress = now;
      config.on_progress(progress(elapsed(now)));
    }
    if (config.time_budget_s > 0 && elapsed(now) >= config.time_budget_s) break;
  }
  const SearchStatus& status = *strategy.search_status();
  report.schedules = status.schedules;
  report.redundant_runs = status.redundant;
  report.preemption_bound = status.preemption_bound;
  report.random_limited = status.random_limited;
  report.fraction_done = status.fraction_done;
  report.elapsed_s = elapsed(Clock::now());
  if (config.on_progress) config.on_progress(progress(report.elapsed_s));
  return report;
}

}  // namespace

void set_command_name(std::string name) { command_name_storage() = std::move(name); }
const std::string& command_name() { return command_name_storage(); }

Config apply_environment(Config config) {
  if (const char* v = env("CHANFUZZ_RUNS")) config.runs = parse_whole("CHANFUZZ_RUNS", v);
  if (const char* v = env("CHANFUZZ_SEED")) config.seed = parse_whole("CHANFUZZ_SEED", v);
  if (const char* v = env("CHANFUZZ_STRATEGY")) {
    if (std::string_view(v) != "replay") {
      try {
        make_strategy(v);
      } catch (const std::invalid_argument& e) {
        bad_variable("CHANFUZZ_STRATEGY", v, e.what());
      }
    }
    config.strategy = v;
  }
  if (const char* v = env("CHANFUZZ_MAX_STEPS")) {
    config.max_steps = parse_whole("CHANFUZZ_MAX_STEPS", v);
    if (config.max_steps == 0) bad_variable("CHANFUZZ_MAX_STEPS", v, "must be at least 1");
  }
  if (const char* v = env("CHANFUZZ_ON_STEP_LIMIT")) {
    std::string_view text(v);
    if (text == "fail") {
      config.on_step_limit = StepLimit::fail;
    } else if (text == "skip") {
      config.on_step_limit = StepLimit::skip;
    } else {
      bad_variable("CHANFUZZ_ON_STEP_LIMIT", v, "must be fail or skip");
    }
  }
  if (const char* v = env("CHANFUZZ_TIME"))
    config.time_budget_s = parse_seconds("CHANFUZZ_TIME", v);
  if (const char* v = env("CHANFUZZ_TRACE")) {
    try {
      decode_trace(v);
    } catch (const TraceError& e) {
      bad_variable("CHANFUZZ_TRACE", v, e.what());
    }
    config.trace = v;
  }
  if (const char* v = env("CHANFUZZ_SCENARIO_NAME")) config.name = v;
  if (const char* v = env("CHANFUZZ_SWARM")) {
    std::string_view text(v);
    if (text == "1") {
      config.swarm = true;
    } else if (text == "0") {
      config.swarm = false;
    } else {
      bad_variable("CHANFUZZ_SWARM", v, "must be 1 or 0");
    }
  }
  return config;
}

Report check(Scenario scenario, Config config) {
  config = apply_environment(std::move(config));
  if (!scenario) throw std::invalid_argument("check: the scenario is empty");
  if (config.max_steps == 0) throw std::invalid_argument("check: max_steps must be at least 1");
  if (config.runs == 0 && config.time_budget_s <= 0) {
    throw std::invalid_argument("check: runs is 0 (no limit) but there is no time budget either");
  }
  if (config.strategy == "replay") {
    if (config.trace.empty()) {
      throw std::invalid_argument(
          "check: strategy replay needs a trace (CHANFUZZ_TRACE or Config::trace)");
    }
    return replay(std::move(scenario), config.trace, config.name);
  }
  std::unique_ptr<Strategy> strategy = make_strategy(strategy_spec(config));
  if (strategy->search_status()) return search(scenario, config, *strategy);
  if (strategy->wants_step_estimate()) {
    RandomStrategy calibration;
    SimExecutor sim(SimOptions{.seed = 0, .max_steps = config.max_steps, .strategy = &calibration});
    strategy->set_step_estimate(sim.run(scenario()).steps);
  }

  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  auto last_progress = start;
  auto elapsed = [&](Clock::time_point at) {
    return std::chrono::duration<double>(at - start).count();
  };

  Report report;
  report.scenario = config.name;
  report.strategy = strategy->name();
  report.first_seed = config.seed;
  for (std::uint64_t i = 0; config.runs == 0 || i < config.runs; ++i) {
    SimOptions options;
    options.seed = config.seed + i;
    options.max_steps = config.max_steps;
    options.strategy = strategy.get();
    watch_events(options, *strategy);
    RunResult result;
    {
      SimExecutor sim(options);
      result = sim.run(scenario());
    }
    report.runs = i + 1;
    if (result.outcome == RunOutcome::step_limit && config.on_step_limit == StepLimit::skip) {
      ++report.skipped;
    } else if (result.outcome != RunOutcome::ok) {
      report.seed = options.seed;
      fill(report, result);
      if (config.max_steps != Config{}.max_steps) report.max_steps = config.max_steps;
      break;
    }
    const auto now = Clock::now();
    if (config.on_progress && now - last_progress >= std::chrono::milliseconds(100)) {
      last_progress = now;
      config.on_progress(
          Progress{report.runs, report.skipped, elapsed(now), report.strategy.c_str()});
    }
    if (config.time_budget_s > 0 && elapsed(now) >= config.time_budget_s) break;
  }
  report.elapsed_s = elapsed(Clock::now());
  if (config.on_progress) {
    config.on_progress(
        Progress{report.runs, report.skipped, report.elapsed_s, report.strategy.c_str()});
  }
  return report;
}

Report replay(Scenario scenario, std::string_view trace) {
  return replay(std::move(scenario), trace, "");
}

Report replay(Scenario scenario, std::string_view trace, std::string_view name) {
  if (!scenario) throw std::invalid_argument("replay: the scenario is empty");
  ReplayStrategy strategy(decode_trace(trace));
  Config config = apply_environment(Config{});
  SimOptions options;
  options.seed = 0;
  options.max_steps = config.max_steps;
  options.strategy = &strategy;
  const auto start = std::chrono::steady_clock::now();
  RunResult result;
  {
    SimExecutor sim(options);
    result = sim.run(scenario());
  }
  Report report;
  report.scenario = std::string(name);
  report.strategy = "replay";
  report.runs = 1;
  if (result.outcome != RunOutcome::diverged && strategy.unused() > 0) {
    result.outcome = RunOutcome::diverged;
    result.message = "trace diverged: the run ended after " +
                     std::to_string(result.decisions.size()) + " decisions, the trace has " +
                     std::to_string(result.decisions.size() + strategy.unused());
    result.tasks.clear();
  }
  if (result.outcome != RunOutcome::ok) {
    fill(report, result);
    if (report.kind == FailureKind::diverged) report.trace = std::string(trace);
  } else {
    report.trace = std::string(trace);
  }
  if (config.max_steps != Config{}.max_steps) report.max_steps = config.max_steps;
  report.elapsed_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

void require(bool condition, std::string_view message, SourceLocation where) {
  if (condition) return;
  std::string text(message);
  if (auto* sim = dynamic_cast<SimExecutor*>(current_executor())) sim->fail_assertion(text, where);
  throw AssertionFailed("require failed: " + text + " at " + format_location(where));
}

}  // namespace chanfuzz
