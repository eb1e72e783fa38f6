// stress(): run a scenario many times on real threads (ThreadExecutor) and
// report what the simulator cannot see: memory-ordering mistakes and lost
// wake-ups under true parallelism, and leaks, in the usual report shape.
//
//   Report r = stress(my_scenario, {.runs = 1000}, {.threads = 2});
//
// After main returns, each run waits for the remaining tasks with growing
// sleeps (as goleak does), up to leak_wait_s, and stops early once nothing
// can run any more; tasks still alive then are reported as leaked, with
// where each blocks. Runs on threads do not replay exactly: the report gives
// the seed (which seeds the select and random() choices), not a trace.
#pragma once

#include "chanfuzz/check.hpp"
#include "chanfuzz/report.hpp"

namespace chanfuzz {

// Every field can be set by the environment variable named beside it; the
// environment wins, and a bad value throws std::invalid_argument naming it.
struct StressOptions {
  unsigned threads = 2;       // CHANFUZZ_THREADS: workers per run
  double clock_speed = 1000;  // CHANFUZZ_CLOCK_SPEED: the executor's clock runs this many
                              // times faster than the real one, so timeouts cost little
  double leak_wait_s = 1.0;   // CHANFUZZ_LEAK_WAIT: seconds to wait for tasks after main
};

// Applies CHANFUZZ_THREADS, CHANFUZZ_CLOCK_SPEED and CHANFUZZ_LEAK_WAIT.
StressOptions apply_environment(StressOptions options);

// Runs config.runs runs (or until config.time_budget_s), each on a fresh
// ThreadExecutor, and stops at the first leak, deadlock or panic. Uses
// config.runs, seed, time_budget_s, name and on_progress.
Report stress(Scenario scenario, Config config = {}, StressOptions options = {});

}  // namespace chanfuzz
