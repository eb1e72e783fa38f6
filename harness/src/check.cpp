// check(), replay(), require() and the CHANFUZZ_* environment variables.
#include "chanfuzz/check.hpp"

#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

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
    throw std::invalid_argument(
        "swarm (CHANFUZZ_SWARM, Config::swarm) varies sampled runs: "
        "it does not combine with the systematic strategy " +
        spec);
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
  report.revisited_runs = status.revisits;
  report.states = status.states;
  report.trace_keyed = status.trace_keyed;
  report.preemption_bound = status.preemption_bound;
  report.random_limited = status.random_limited;
  report.fraction_done = status.fraction_done;
  report.elapsed_s = elapsed(Clock::now());
  if (config.on_progress) config.on_progress(progress(report.elapsed_s));
  return report;
}

// Which run indices a sampling check runs: index i (seed + i) for i below
// `runs` (0: no limit), of the shard's residue class, from the resume seed on.
// Position p (0, 1, 2, ...) is the p-th of them.
struct RunPlan {
  std::uint64_t seed = 1;
  std::uint64_t runs = 0;
  std::uint64_t first = 0;   // index of position 0
  std::uint64_t stride = 1;  // shard count, or 1

  static RunPlan of(const Config& config) {
    RunPlan plan;
    plan.seed = config.seed;
    plan.runs = config.runs;
    plan.stride = config.shard_count > 0 ? config.shard_count : 1;
    std::uint64_t residue = config.shard_count > 0 ? config.shard_index - 1 : 0;
    std::uint64_t start = config.resume_seed > config.seed ? config.resume_seed - config.seed : 0;
    plan.first = start + (residue + plan.stride - start % plan.stride) % plan.stride;
    return plan;
  }
  std::uint64_t index(std::uint64_t position) const { return first + position * stride; }
  bool valid(std::uint64_t position) const { return runs == 0 || index(position) < runs; }
};

// One run of a sampling check.
struct RunOnce {
  RunResult result;
  bool skipped = false;
  bool failed = false;
};

RunOnce run_once(const Scenario& scenario, const Config& config, Strategy& strategy,
                 std::uint64_t seed) {
  SimOptions options;
  options.seed = seed;
  options.max_steps = config.max_steps;
  options.strategy = &strategy;
  watch_events(options, strategy);
  RunOnce once;
  {
    SimExecutor sim(options);
    once.result = sim.run(scenario());
  }
  if (once.result.outcome == RunOutcome::step_limit && config.on_step_limit == StepLimit::skip) {
    once.skipped = true;
  } else if (once.result.outcome != RunOutcome::ok) {
    once.failed = true;
  }
  return once;
}

// The sampling loop on config.jobs threads. Workers take positions in order
// from a shared counter. Once a run fails, no worker takes a later position,
// but every earlier one still runs, so the failure kept (the smallest
// failing position) and the run count are those of one job.
struct ParallelOutcome {
  std::uint64_t runs = 0;     // positions run, up to and including the failing one
  std::uint64_t skipped = 0;  // of those, abandoned at the step limit
  std::uint64_t failing_position = UINT64_MAX;
  RunResult failure;
};

ParallelOutcome run_parallel(const Scenario& scenario, const Config& config,
                             const std::string& spec, std::uint64_t step_estimate,
                             const RunPlan& plan, const std::function<double()>& elapsed,
                             const std::function<void(std::uint64_t, std::uint64_t)>& progress) {
  std::mutex mu;
  std::condition_variable finished_cv;
  std::atomic<std::uint64_t> next{0};
  std::atomic<std::uint64_t> failing{UINT64_MAX};
  std::atomic<bool> out_of_time{false};
  std::atomic<std::uint64_t> done_runs{0}, done_skipped{0};
  ParallelOutcome outcome;
  std::vector<std::uint64_t> skipped_positions;  // under mu
  std::exception_ptr error;                      // under mu
  unsigned running = config.jobs;                // under mu

  auto worker = [&] {
    try {
      std::unique_ptr<Strategy> strategy = make_strategy(spec);
      if (strategy->wants_step_estimate()) strategy->set_step_estimate(step_estimate);
      for (;;) {
        std::uint64_t position = next.fetch_add(1);
        if (!plan.valid(position) || position > failing.load()) break;
        if (out_of_time.load() && failing.load() == UINT64_MAX) break;
        RunOnce once = run_once(scenario, config, *strategy, plan.seed + plan.index(position));
        done_runs.fetch_add(1);
        if (once.skipped) {
          done_skipped.fetch_add(1);
          std::lock_guard lock(mu);
          skipped_positions.push_back(position);
        } else if (once.failed) {
          std::lock_guard lock(mu);
          if (position < outcome.failing_position) {
            outcome.failing_position = position;
            outcome.failure = std::move(once.result);
            std::uint64_t seen = failing.load();
            while (position < seen && !failing.compare_exchange_weak(seen, position)) {
            }
          }
        }
        if (config.time_budget_s > 0 && elapsed() >= config.time_budget_s) out_of_time = true;
      }
    } catch (...) {
      std::lock_guard lock(mu);
      if (!error) error = std::current_exception();
      failing = 0;  // stop the others
    }
    std::lock_guard lock(mu);
    --running;
    finished_cv.notify_all();
  };

  std::vector<std::thread> threads;
  threads.reserve(config.jobs);
  for (unsigned j = 0; j < config.jobs; ++j) threads.emplace_back(worker);
  {
    std::unique_lock lock(mu);
    while (running > 0) {
      finished_cv.wait_for(lock, std::chrono::milliseconds(100));
      if (running > 0 && progress) {
        lock.unlock();
        progress(done_runs.load(), done_skipped.load());
        lock.lock();
      }
    }
  }
  for (std::thread& t : threads) t.join();
  if (error) std::rethrow_exception(error);

  if (outcome.failing_position != UINT64_MAX) {
    outcome.runs = outcome.failing_position + 1;
    for (std::uint64_t p : skipped_positions) {
      if (p < outcome.failing_position) ++outcome.skipped;
    }
  } else {
    outcome.runs = done_runs.load();
    outcome.skipped = done_skipped.load();
  }
  return outcome;
}

bool parse_shard(std::string_view text, std::uint64_t& index, std::uint64_t& count) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) return false;
  auto number = [](std::string_view part, std::uint64_t& out) {
    auto [end, error] = std::from_chars(part.data(), part.data() + part.size(), out);
    return !part.empty() && error == std::errc() && end == part.data() + part.size();
  };
  std::uint64_t i = 0, n = 0;
  if (!number(text.substr(0, slash), i) || !number(text.substr(slash + 1), n)) return false;
  if (n == 0 || i == 0 || i > n) return false;
  index = i;
  count = n;
  return true;
}

void write_junit(const Config& config, const Report& report) {
  if (config.junit.empty()) return;
  std::ofstream out(config.junit, std::ios::binary | std::ios::trunc);
  if (out) out << junit_xml(report.scenario.empty() ? "chanfuzz" : report.scenario, report);
  if (!out) {
    throw std::runtime_error("chanfuzz: cannot write the JUnit file '" + config.junit + "'");
  }
}

}  // namespace

bool parse_shard_spec(std::string_view text, std::uint64_t& index, std::uint64_t& count) {
  return parse_shard(text, index, count);
}

FailureKind failure_kind(RunOutcome outcome) noexcept {
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
  if (const char* v = env("CHANFUZZ_SHARD")) {
    if (!parse_shard(v, config.shard_index, config.shard_count)) {
      bad_variable("CHANFUZZ_SHARD", v, "must be <i>/<n> with 1 <= i <= n, e.g. 2/4");
    }
  }
  if (const char* v = env("CHANFUZZ_RESUME"))
    config.resume_seed = parse_whole("CHANFUZZ_RESUME", v);
  if (const char* v = env("CHANFUZZ_RUN_JOBS")) {
    std::uint64_t jobs = parse_whole("CHANFUZZ_RUN_JOBS", v);
    if (jobs == 0 || jobs > 1024) bad_variable("CHANFUZZ_RUN_JOBS", v, "must be from 1 to 1024");
    config.jobs = static_cast<unsigned>(jobs);
  }
  if (const char* v = env("CHANFUZZ_JUNIT")) config.junit = v;
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
  const std::string spec = strategy_spec(config);
  std::unique_ptr<Strategy> strategy = make_strategy(spec);
  if (strategy->search_status()) {
    if (config.shard_count > 0 || config.resume_seed > 0) {
      throw std::invalid_argument("check: the systematic strategy " + config.strategy +
                                  " enumerates schedules: it does not shard or resume by seed");
    }
    Report report = search(scenario, config, *strategy);
    write_junit(config, report);
    return report;
  }
  if (config.shard_count > 0 &&
      (config.shard_index == 0 || config.shard_index > config.shard_count)) {
    throw std::invalid_argument("check: shard_index must be from 1 to shard_count");
  }
  if (config.jobs == 0) throw std::invalid_argument("check: jobs must be at least 1");
  std::uint64_t step_estimate = 0;
  if (strategy->wants_step_estimate()) {
    RandomStrategy calibration;
    SimExecutor sim(SimOptions{.seed = 0, .max_steps = config.max_steps, .strategy = &calibration});
    step_estimate = sim.run(scenario()).steps;
    strategy->set_step_estimate(step_estimate);
  }

  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  auto last_progress = start;
  auto elapsed = [&](Clock::time_point at) {
    return std::chrono::duration<double>(at - start).count();
  };

  const RunPlan plan = RunPlan::of(config);
  Report report;
  report.scenario = config.name;
  report.strategy = strategy->name();
  report.first_seed = config.seed + plan.first;
  report.shard_index = config.shard_index;
  report.shard_count = config.shard_count;
  std::uint64_t position = 0;  // the next position to run
  bool failed = false;
  if (config.jobs <= 1) {
    for (; plan.valid(position); ++position) {
      const std::uint64_t seed = config.seed + plan.index(position);
      RunOnce once = run_once(scenario, config, *strategy, seed);
      report.runs = position + 1;
      if (once.skipped) {
        ++report.skipped;
      } else if (once.failed) {
        report.seed = seed;
        fill(report, once.result);
        failed = true;
        ++position;
        break;
      }
      const auto now = Clock::now();
      if (config.on_progress && now - last_progress >= std::chrono::milliseconds(100)) {
        last_progress = now;
        config.on_progress(
            Progress{report.runs, report.skipped, elapsed(now), report.strategy.c_str()});
      }
      if (config.time_budget_s > 0 && elapsed(now) >= config.time_budget_s) {
        ++position;
        break;
      }
    }
  } else {
    auto progress = [&](std::uint64_t runs, std::uint64_t skipped) {
      if (config.on_progress) {
        config.on_progress(Progress{runs, skipped, elapsed(Clock::now()), report.strategy.c_str()});
      }
    };
    ParallelOutcome outcome = run_parallel(
        scenario, config, spec, step_estimate, plan, [&] { return elapsed(Clock::now()); },
        progress);
    report.runs = outcome.runs;
    report.skipped = outcome.skipped;
    position = outcome.runs;
    if (outcome.failing_position != UINT64_MAX) {
      report.seed = config.seed + plan.index(outcome.failing_position);
      fill(report, outcome.failure);
      failed = true;
    }
  }
  if (!failed && plan.valid(position)) {
    // Stopped by the time budget: the remaining runs start at this seed.
    report.resume_seed = config.seed + plan.index(position);
  }
  if (failed && config.max_steps != Config{}.max_steps) report.max_steps = config.max_steps;
  report.elapsed_s = elapsed(Clock::now());
  if (config.on_progress) {
    config.on_progress(
        Progress{report.runs, report.skipped, report.elapsed_s, report.strategy.c_str()});
  }
  write_junit(config, report);
  return report;
}

Report replay(Scenario scenario, std::string_view trace) {
  return replay(std::move(scenario), trace, "");
}

Report replay(Scenario scenario, std::string_view trace, std::string_view name) {
  if (!scenario) throw std::invalid_argument("replay: the scenario is empty");
  ReplayStrategy strategy(read_trace(trace));
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
  if (result.outcome != RunOutcome::ok) fill(report, result);
  // The trace as given: a run that fits a plain trace records exactly it (a
  // trace has one spelling), and a trace with a default tail stays short.
  report.trace = std::string(trace);
  if (report.kind != FailureKind::diverged) {
    report.default_tail_decisions = strategy.default_tail_decisions();
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
