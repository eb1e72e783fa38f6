// minimize(): a shorter schedule that fails the same way.
//
//   Report found = check(my_scenario, {.runs = 10000});
//   Report small = minimize(my_scenario, found.trace);
//   std::cout << small.text();   // "minimized: 2 decisions + 7 by default, 0 preemptions ..."
//
// Delta debugging (Zeller & Hildebrandt, "Simplifying and Isolating
// Failure-Inducing Input", TSE 2002) over the decisions of a failing trace.
// A candidate schedule is a list of directives, one per decision: which task
// to run (by id, so that a directive still means the same task when earlier
// decisions changed), which select case, timer or random value to take.
// A candidate runs with every missing or unfitting directive, and every
// decision past the directives, replaced by default_choice() (trace.hpp):
// let the current task go on (no preemption), else the runnable task with
// the lowest id; the first select case, timer and value; never the clock
// option. Rounds, while anything shrinks: cut the directives to the
// shortest prefix that still fails; remove chunks of directives, then set
// chunks to the default, halving the chunk size down to one; then try each
// other option of each decision.
//
// A candidate is kept when its run fails in the same category, at the same
// blocked sites (the set of blocked_at locations of the tasks the report is
// about) and, for a panic or an assertion, with the same message; when its
// run takes no more decisions than the original trace's run; and when it is
// smaller: fewer decisions to spell out (up to its last choice that differs
// from the default), else fewer decisions in its run, else fewer
// preemptions, else fewer choices that differ from the default.
//
// The result is the kept run's own trace, cut after its last choice that
// differs from the default, with a default tail (trace version 2) when the
// run goes on past it, else plain (version 1). It replays exactly the kept
// run (`chanfuzz replay --trace`); the report's seed line says how many
// decisions the tail took. Runs take their step limit from
// CHANFUZZ_MAX_STEPS, as replay() does.
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
// minimized_from, minimized_from_decisions (spelled out in the trace given)
// and _preemptions (of its run), decisions (spelled out in the minimized
// trace), default_tail_decisions (taken by its default tail) and preemptions
// (of its run) set, and `runs` the candidate runs made. Throws TraceError
// (std::invalid_argument) for a malformed trace, and std::invalid_argument
// when the trace does not fail: it passes, or no longer fits the scenario.
Report minimize(const Scenario& scenario, std::string_view trace, MinimizeOptions options = {});

}  // namespace chanfuzz
