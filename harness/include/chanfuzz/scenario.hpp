// The scenario catalogue: scenarios registered by name, for the chanfuzz
// command, the fuzz targets and the tests.
//
//   CHANFUZZ_SCENARIO(rand_stream_done, "the producer also selects on done") {
//     ... co_return;
//   }
//   CHANFUZZ_SCENARIO_FAILS(rand_stream_leak, leak, "producer blocks forever") {
//     ...
//   }
//
// CHANFUZZ_SCENARIO declares a scenario expected to pass on every schedule;
// CHANFUZZ_SCENARIO_FAILS one with a known bug, and the category the
// harness must find (leak, deadlock, panic, assertion, step_limit).
// CHANFUZZ_SCENARIO_WITH and CHANFUZZ_SCENARIO_FAILS_WITH also take the run
// settings the scenario needs (ScenarioSettings), e.g. for a program that
// never terminates on its bug-free schedules:
//
//   constexpr ScenarioSettings kLoopsForever{.max_steps = 10000,
//                                            .on_step_limit = StepLimit::skip};
//   CHANFUZZ_SCENARIO_FAILS_WITH(busy_loop_leak, leak, kLoopsForever, "...") {...}
//
// The settings argument is one expression: a named constant, or a braced
// initializer in parentheses.
// Registration happens at static initialisation: link the object files that
// define scenarios directly (an OBJECT library or the executable's own
// sources), since a static archive drops objects nobody references.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chanfuzz/check.hpp"
#include "chanfuzz/report.hpp"

namespace chanfuzz {

// Run settings a scenario needs. Every field is optional: the defaults leave
// the Config as it is. apply_settings() applies them; `chanfuzz run` and
// `run --all` do so unless a flag says otherwise, and the environment
// (CHANFUZZ_MAX_STEPS, CHANFUZZ_ON_STEP_LIMIT) still wins over both.
struct ScenarioSettings {
  // Scheduling steps per run (0: the Config's). A program that never ends on
  // its bug-free schedules spends the whole bound on each of them; a bound
  // well above its failing runs keeps those runs cheap.
  std::uint64_t max_steps = 0;
  // What a run past the step limit is (unset: the Config's): StepLimit::skip
  // for a program that may loop forever on bug-free schedules.
  std::optional<StepLimit> on_step_limit{};
  // For a failing scenario: a second category that some of its schedules
  // end in instead of `expected` (none: only `expected`). E.g. a program
  // whose main blocks on some schedules (deadlock) and returns with a task
  // blocked on the others (leak).
  FailureKind also_expected = FailureKind::none;
};

struct ScenarioInfo {
  std::string name;
  std::string description;
  Task<void> (*make)() = nullptr;
  FailureKind expected = FailureKind::none;  // none: expected to pass
  SourceLocation where;
  ScenarioSettings settings{};
};

// Registers a scenario; returns true (for the static initialiser). A second
// scenario with the same name aborts with a message naming both places.
bool register_scenario(const char* name, const char* description, Task<void> (*make)(),
                       FailureKind expected, SourceLocation where);
// The same, with the run settings the scenario needs.
bool register_scenario(const char* name, const char* description, Task<void> (*make)(),
                       FailureKind expected, SourceLocation where, ScenarioSettings settings);

// `config` with the scenario's settings applied: its max_steps and
// on_step_limit where the scenario sets them.
Config apply_settings(const ScenarioInfo& scenario, Config config);

// Whether a check that ended in `found` went as the scenario declares:
// `expected`, or its settings' `also_expected`.
bool found_as_expected(const ScenarioInfo& scenario, FailureKind found) noexcept;

// Every registered scenario, sorted by name.
const std::vector<ScenarioInfo>& scenarios();
// The scenario with that name, or null.
const ScenarioInfo* find_scenario(std::string_view name);

// check() with the scenario's name in the config (for the replay command).
Report check(const ScenarioInfo& scenario, Config config = {});

}  // namespace chanfuzz

#define CHANFUZZ_SCENARIO_IMPL_(name, kind, description)                                           \
  static ::chanfuzz::Task<void> chanfuzz_scenario_##name();                                        \
  [[maybe_unused]] static const bool chanfuzz_registered_##name = ::chanfuzz::register_scenario(   \
      #name, description, &chanfuzz_scenario_##name, kind, ::chanfuzz::SourceLocation::current()); \
  static ::chanfuzz::Task<void> chanfuzz_scenario_##name()

#define CHANFUZZ_SCENARIO(name, description) \
  CHANFUZZ_SCENARIO_IMPL_(name, ::chanfuzz::FailureKind::none, description)

#define CHANFUZZ_SCENARIO_FAILS(name, kind, description) \
  CHANFUZZ_SCENARIO_IMPL_(name, ::chanfuzz::FailureKind::kind, description)

#define CHANFUZZ_SCENARIO_WITH_IMPL_(name, kind, settings, description)                           \
  static ::chanfuzz::Task<void> chanfuzz_scenario_##name();                                       \
  [[maybe_unused]] static const bool chanfuzz_registered_##name = ::chanfuzz::register_scenario(  \
      #name, description, &chanfuzz_scenario_##name, kind, ::chanfuzz::SourceLocation::current(), \
      ::chanfuzz::ScenarioSettings(settings));                                                    \
  static ::chanfuzz::Task<void> chanfuzz_scenario_##name()

#define CHANFUZZ_SCENARIO_WITH(name, settings, description) \
  CHANFUZZ_SCENARIO_WITH_IMPL_(name, ::chanfuzz::FailureKind::none, settings, description)

#define CHANFUZZ_SCENARIO_FAILS_WITH(name, kind, settings, description) \
  CHANFUZZ_SCENARIO_WITH_IMPL_(name, ::chanfuzz::FailureKind::kind, settings, description)
