// Report: what check() and replay() found, for people (text()) and tools
// (json()).
//
// text() follows one shape (DESIGN.md decision 10):
//
//   chanfuzz: leak: 1 task still blocked after main returned
//
//   task 2 "producer" [chan send, 3 steps]:
//     <lambda>() at harness/scenarios/tutorial.cpp:21
//       chan int #1 (cap 0, len 0; 1 sender, 0 receivers waiting), made at ...
//   created by rand_stream_leak() in task 1 at harness/scenarios/tutorial.cpp:19
//
//   seed:     7 (run 7 of 1000, strategy random)
//   trace:    cf1:AQgBCAEIAQgA
//   replay:   chanfuzz replay rand_stream_leak --trace cf1:AQgBCAEIAQgA
//
// The JSON schema is in README.md ("Report JSON").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "chanfuzz/debug.hpp"

namespace chanfuzz {

enum class FailureKind : std::uint8_t {
  none,
  leak,
  deadlock,
  panic,
  assertion,
  step_limit,
  diverged
};

// "ok", "leak", "deadlock", "panic", "assertion", "step-limit", "diverged"
const char* failure_kind_name(FailureKind kind) noexcept;

enum class RunOutcome : std::uint8_t;  // sim_executor.hpp
// The report's category for how a SimExecutor run ended (ok: none).
FailureKind failure_kind(RunOutcome outcome) noexcept;

struct Report {
  bool ok() const noexcept { return kind == FailureKind::none; }

  FailureKind kind = FailureKind::none;
  std::uint64_t runs = 0;       // runs executed
  std::uint64_t seed = 0;       // seed of the failing run
  std::string trace;            // "cf1:..." replays the failing run
  std::vector<TaskInfo> tasks;  // the tasks the failure is about

  std::string scenario;           // its name, "" if unnamed
  std::string strategy;           // "random", "pct:3", "replay"
  std::string summary;            // the text after "chanfuzz: <category>: "
  std::uint64_t steps = 0;        // scheduling steps of the failing run
  std::uint64_t skipped = 0;      // runs abandoned at the step limit (StepLimit::skip)
  std::uint64_t first_seed = 0;   // seed of the first run
  std::uint64_t max_steps = 0;    // the step limit, when not the default (for the replay command)
  std::uint64_t shard_index = 0;  // Config::shard_index/shard_count, when sharded
  std::uint64_t shard_count = 0;
  std::uint64_t resume_seed = 0;  // stopped by the time budget: the seed to resume from (0: none)
  double elapsed_s = 0;

  // A systematic search (strategy dfs:<P>): "explored all N schedules with at
  // most P preemptions: no failure" when search_complete.
  bool systematic = false;
  bool search_complete = false;      // every schedule within the bound was run
  std::uint64_t schedules = 0;       // runs that completed a schedule
  std::uint64_t redundant_runs = 0;  // runs cut short by the reduction (they repeat schedules)
  std::uint64_t revisited_runs = 0;  // of those, at a state explored before (the state cache)
  std::uint64_t states = 0;          // states the cache remembers
  std::uint64_t trace_keyed = 0;     // cache lookups the state model could not key (SearchStatus)
  std::uint64_t preemption_bound = 0;
  bool random_limited = false;  // some random(n) explored only some of its values
  double fraction_done = -1;    // estimated share explored, when incomplete (-1: unknown)

  // minimize(): the trace it started from, and both lengths (decisions and
  // preemptions). minimized_from is "" for other reports.
  std::string minimized_from;
  std::uint64_t minimized_from_decisions = 0;
  std::uint64_t minimized_from_preemptions = 0;
  std::uint64_t decisions = 0;    // of `trace` (spelled out in it), when minimized
  std::uint64_t preemptions = 0;  // of `trace`'s run, when minimized

  // A replayed trace with a default tail (trace.hpp): the decisions its run
  // took from the tail, after the ones the trace spells out. The run made
  // decisions + default_tail_decisions in all (minimize()), 0 otherwise.
  std::uint64_t default_tail_decisions = 0;

  // The command that replays the failing run.
  std::string replay_command() const;
  std::string text() const;
  std::string json() const;
};

// One test case of a JUnit XML file: a scenario's report, and whether it went
// as the scenario declares (a scenario declared to fail passes its test when
// the check finds that failure). `failure` explains a failed case in one line
// ("" : the report's own summary).
struct JUnitCase {
  const Report* report = nullptr;
  bool passed = false;
  std::string failure{};
};

// JUnit XML (the schema CI dashboards read: <testsuites><testsuite
// name tests failures errors skipped time><testcase classname name time>
// with <failure message type> holding the report text and its replay
// command, and <system-out> holding a passing report).
std::string junit_xml(std::string_view suite, const std::vector<JUnitCase>& cases);
// Tasks as the JSON array a report's "tasks" holds (id, name, state,
// blocked_at, created_at, waiting_on, ...).
std::string tasks_json(const std::vector<TaskInfo>& tasks);

// A single report: passed when ok().
std::string junit_xml(std::string_view suite, const Report& report);

}  // namespace chanfuzz
