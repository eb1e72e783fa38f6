// Helpers for tests that run scenarios on SimExecutor under many seeds.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

#include "chanfuzz/chanfuzz.hpp"

namespace chanfuzz::testing {

// Seeds per conformance case: 100, or CHANFUZZ_TEST_SEEDS.
inline std::uint64_t seed_count() {
  if (const char* env = std::getenv("CHANFUZZ_TEST_SEEDS")) {
    std::uint64_t n = std::strtoull(env, nullptr, 10);
    if (n > 0) return n;
  }
  return 100;
}

// Statistical checks need enough seeds, whatever CHANFUZZ_TEST_SEEDS says.
inline std::uint64_t statistical_seeds() { return std::max<std::uint64_t>(seed_count(), 100); }

// Thrown by expect() inside a scenario: the run ends as a panic whose message
// names the broken expectation.
struct ExpectationFailed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

#define CF_EXPECT(cond)                                                                    \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      throw ::chanfuzz::testing::ExpectationFailed(std::string(__FILE__) + ":" +           \
                                                   std::to_string(__LINE__) + ": " #cond); \
    }                                                                                      \
  } while (0)

inline std::string describe(const RunResult& result) {
  std::ostringstream out;
  out << "outcome " << run_outcome_name(result.outcome) << " (" << result.message << "), "
      << result.steps << " steps, " << result.decisions.size() << " decisions\n";
  for (const auto& task : result.tasks) write_task(out, task);
  return out.str();
}

// The executor the conformance tests run on: SimExecutor, or ThreadExecutor
// with N workers when CHANFUZZ_TEST_EXECUTOR=thread:N (ctest registers the
// chan and select suites that way too).
inline unsigned thread_workers() {
  const char* env = std::getenv("CHANFUZZ_TEST_EXECUTOR");
  if (!env || std::string_view(env).substr(0, 7) != "thread:") return 0;
  return static_cast<unsigned>(std::strtoul(env + 7, nullptr, 10));
}

inline RunResult run_on_threads(const std::function<Task<void>()>& make, std::uint64_t seed,
                                unsigned workers) {
  ThreadExecutor executor(
      ThreadOptions{.threads = workers, .seed = seed, .leak_wait = std::chrono::seconds(10)});
  ThreadRunResult run = executor.run(make());
  RunResult result;
  switch (run.outcome) {
    case ThreadRunResult::Outcome::ok:
      result.outcome = RunOutcome::ok;
      break;
    case ThreadRunResult::Outcome::leak:
      result.outcome = RunOutcome::leak;
      break;
    case ThreadRunResult::Outcome::deadlock:
      result.outcome = RunOutcome::deadlock;
      break;
    case ThreadRunResult::Outcome::panic:
      result.outcome = RunOutcome::panic;
      break;
  }
  result.main_returned = run.main_returned;
  result.message = std::move(run.message);
  result.tasks = std::move(run.tasks);
  result.tasks_spawned = run.tasks_spawned;
  return result;
}

inline RunResult run_once(const std::function<Task<void>()>& make, std::uint64_t seed,
                          SimOptions options = {}) {
  if (unsigned workers = thread_workers()) return run_on_threads(make, seed, workers);
  options.seed = seed;
  SimExecutor sim(options);
  return sim.run(make());
}

// Runs make() under seeds 1..seeds and expects `expected` every time.
// Stops at the first seed that does not match.
inline void expect_outcome(const std::function<Task<void>()>& make, RunOutcome expected,
                           std::uint64_t seeds = seed_count(), SimOptions options = {}) {
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    RunResult result = run_once(make, seed, options);
    if (result.outcome != expected) {
      ADD_FAILURE() << "seed " << seed << ": expected " << run_outcome_name(expected) << ", got "
                    << describe(result);
      return;
    }
  }
}

// Inside a scenario: whether every task but the current one is blocked.
inline bool others_blocked() {
  Executor* ex = current_executor();
  std::uint64_t self = ex->current_task()->id;
  for (const TaskInfo& t : ex->tasks()) {
    if (t.id != self && (t.state == "runnable" || t.state == "running")) return false;
  }
  return true;
}

// Yields until every other task is blocked (where Go's tests sleep).
inline Task<> settle() {
  for (int i = 0; i < 10000 && !others_blocked(); ++i) co_await yield();
}

// A check of a finished run: "" if it holds, else why not.
using Check = std::function<std::string(const RunResult&)>;

// Every seed must end with `expected`, and check(result) must return "".
inline void expect_runs(const std::function<Task<void>()>& make, RunOutcome expected,
                        const Check& check, std::uint64_t seeds = seed_count()) {
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    RunResult r = run_once(make, seed);
    std::string why = r.outcome != expected
                          ? std::string("expected outcome ") + run_outcome_name(expected)
                          : check(r);
    if (!why.empty()) {
      ADD_FAILURE() << "seed " << seed << ": " << why << "; got " << describe(r);
      return;
    }
  }
}

// Shorthand: every seed passes (main returns, no task left behind).
inline void expect_ok(const std::function<Task<void>()>& make, std::uint64_t seeds = seed_count(),
                      SimOptions options = {}) {
  expect_outcome(make, RunOutcome::ok, seeds, options);
}

}  // namespace chanfuzz::testing
