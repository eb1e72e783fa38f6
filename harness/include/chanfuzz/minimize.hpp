// minimize(): a shorter schedule that fails the same way.
//
//   Report found = check(my_scenario, {.runs = 10000});
//   Report small = minimize(my_scenario, found.trace);
//   std::cout << small.text();   // "minimized: 9 decisions, 0 preemptions (from 57 ...)"
//
// Delta debugging (Zeller & Hildebrandt, "Simplifying and Isolating
// Failure-Inducing Input", TSE 2002) over the decisions of a failing trace.
// A candidate schedule is a list of directives, one per decision: which task
// to run (by id, so that a directive still means the same task when earlier
// decisions changed), which select case, timer or random value to take.
// A candidate runs with every missing or unfitting directive replaced by the
// default choice: let the current task go on (no preemption), else the
// runnable task with the lowest id; the first select case, timer and value;
// never the clock option. Passes remove chunks of directives, then set
// chunks to the default, halving the chunk size down to one, and start over
// after each success, until nothing shrinks or the run budget is spent.
//
// A candidate is kept when its run fails in the same category, at the same
// blocked sites (the set of blocked_at locations of the tasks the report is
// about) and, for a panic or an assertion, with the same message; and when
// it is smaller: fewer decisions, else fewer preemptions, else fewer choices
// that differ from the default. The result is the kept run's own trace,
// which replays exactly (`chanfuzz replay --trace`). Runs take their step
// limit from CHANFUZZ_MAX_STEPS, as replay() does.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "chanfuzz/check.hpp"
#include "chanfuzz/report.hpp"

namespace chanfuzz {

struct MinimizeOptions {
  std::uint64_t max_runs = 20000;  // candidate runs at most
  double time_budget_s = 0;        // stop after this many seconds (0: no limit)
  std::string name{};              // the scenario's name, for the replay command
};

// The replay report of the shortest failing trace found, with
// minimized_from, minimized_from_decisions/_preemptions, decisions and
// preemptions set, and `runs` the candidate runs made. Throws TraceError
// (std::invalid_argument) for a malformed trace, and std::invalid_argument
// when the trace does not fail: it passes, or no longer fits the scenario.
Report minimize(const Scenario& scenario, std::string_view trace, MinimizeOptions options = {});

}  // namespace chanfuzz
