// stress(): scenarios on ThreadExecutor.
#include "chanfuzz/stress.hpp"

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "chanfuzz/thread_executor.hpp"

namespace chanfuzz {

namespace {

const char* env(const char* name) {
  const char* value = std::getenv(name);
  return value && *value ? value : nullptr;
}

[[noreturn]] void bad_variable(const char* name, const char* value, const std::string& why) {
  throw std::invalid_argument(std::string(name) + "='" + value + "': " + why);
}

double positive_number(const char* name, const char* value) {
  char* end = nullptr;
  double out = std::strtod(value, &end);
  if (end == value || *end != '\0' || !std::isfinite(out) || out <= 0) {
    bad_variable(name, value, "not a positive number");
  }
  return out;
}

FailureKind failure_kind(ThreadRunResult::Outcome outcome) {
  switch (outcome) {
    case ThreadRunResult::Outcome::ok:
      return FailureKind::none;
    case ThreadRunResult::Outcome::leak:
      return FailureKind::leak;
    case ThreadRunResult::Outcome::deadlock:
      return FailureKind::deadlock;
    case ThreadRunResult::Outcome::panic:
      return FailureKind::panic;
  }
  return FailureKind::none;
}

}  // namespace

StressOptions apply_environment(StressOptions options) {
  if (const char* v = env("CHANFUZZ_THREADS")) {
    std::string_view text(v);
    unsigned threads = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), threads);
    if (error != std::errc() || end != text.data() + text.size() || threads == 0 || threads > 256) {
      bad_variable("CHANFUZZ_THREADS", v, "not a number of threads from 1 to 256");
    }
    options.threads = threads;
  }
  if (const char* v = env("CHANFUZZ_CLOCK_SPEED")) {
    options.clock_speed = positive_number("CHANFUZZ_CLOCK_SPEED", v);
  }
  if (const char* v = env("CHANFUZZ_LEAK_WAIT")) {
    options.leak_wait_s = positive_number("CHANFUZZ_LEAK_WAIT", v);
  }
  return options;
}

Report stress(Scenario scenario, Config config, StressOptions options) {
  config = apply_environment(std::move(config));
  options = apply_environment(options);
  if (!scenario) throw std::invalid_argument("stress: the scenario is empty");
  if (options.threads == 0) throw std::invalid_argument("stress: threads must be at least 1");
  if (config.runs == 0 && config.time_budget_s <= 0) {
    throw std::invalid_argument("stress: runs is 0 (no limit) but there is no time budget either");
  }
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  auto last_progress = start;
  auto elapsed = [&](Clock::time_point at) {
    return std::chrono::duration<double>(at - start).count();
  };

  Report report;
  report.scenario = config.name;
  report.strategy = "threads:" + std::to_string(options.threads);
  report.first_seed = config.seed;
  for (std::uint64_t i = 0; config.runs == 0 || i < config.runs; ++i) {
    ThreadOptions thread_options;
    thread_options.threads = options.threads;
    thread_options.seed = config.seed + i;
    thread_options.clock_speed = options.clock_speed;
    thread_options.leak_wait =
        std::chrono::duration_cast<Duration>(std::chrono::duration<double>(options.leak_wait_s));
    ThreadRunResult result;
    {
      ThreadExecutor executor(thread_options);
      result = executor.run(scenario());
    }
    report.runs = i + 1;
    if (result.outcome != ThreadRunResult::Outcome::ok) {
      report.kind = failure_kind(result.outcome);
      report.seed = thread_options.seed;
      report.summary = result.message;
      if (result.outcome == ThreadRunResult::Outcome::panic && !result.tasks.empty()) {
        report.summary += " (task " + std::to_string(result.tasks.front().id) + ")";
      }
      report.tasks = std::move(result.tasks);
      break;
    }
    const auto now = Clock::now();
    if (config.on_progress && now - last_progress >= std::chrono::milliseconds(100)) {
      last_progress = now;
      config.on_progress(Progress{report.runs, 0, elapsed(now), report.strategy.c_str()});
    }
    if (config.time_budget_s > 0 && elapsed(now) >= config.time_budget_s) break;
  }
  report.elapsed_s = elapsed(Clock::now());
  if (config.on_progress) {
    config.on_progress(Progress{report.runs, 0, report.elapsed_s, report.strategy.c_str()});
  }
  return report;
}

}  // namespace chanfuzz
