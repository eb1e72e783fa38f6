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
// Registration happens at static initialisation: link the object files that
// define scenarios directly (an OBJECT library or the executable's own
// sources), since a static archive drops objects nobody references.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "chanfuzz/check.hpp"
#include "chanfuzz/report.hpp"

namespace chanfuzz {

struct ScenarioInfo {
  std::string name;
  std::string description;
  Task<void> (*make)() = nullptr;
  FailureKind expected = FailureKind::none;  // none: expected to pass
  SourceLocation where;
};

// Registers a scenario; returns true (for the static initialiser). A second
// scenario with the same name aborts with a message naming both places.
bool register_scenario(const char* name, const char* description, Task<void> (*make)(),
                       FailureKind expected, SourceLocation where);

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
