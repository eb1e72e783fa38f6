// The scenario registry.
#include "chanfuzz/scenario.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace chanfuzz {

namespace {
std::vector<ScenarioInfo>& registry() {
  static std::vector<ScenarioInfo> all;
  return all;
}
bool& sorted() {
  static bool value = false;
  return value;
}
}  // namespace

bool register_scenario(const char* name, const char* description, Task<void> (*make)(),
                       FailureKind expected, SourceLocation where) {
  return register_scenario(name, description, make, expected, where, ScenarioSettings{});
}

bool register_scenario(const char* name, const char* description, Task<void> (*make)(),
                       FailureKind expected, SourceLocation where, ScenarioSettings settings) {
  auto& all = registry();
  for (const auto& other : all) {
    if (other.name == name) {
      std::fprintf(stderr, "chanfuzz: scenario '%s' is defined twice: at %s and at %s\n", name,
                   format_location(other.where).c_str(), format_location(where).c_str());
      std::abort();
    }
  }
  all.push_back(ScenarioInfo{name, description, make, expected, where, settings});
  sorted() = false;
  return true;
}

const std::vector<ScenarioInfo>& scenarios() {
  auto& all = registry();
  if (!sorted()) {
    std::sort(all.begin(), all.end(),
              [](const ScenarioInfo& a, const ScenarioInfo& b) { return a.name < b.name; });
    sorted() = true;
  }
  return all;
}

const ScenarioInfo* find_scenario(std::string_view name) {
  for (const auto& scenario : scenarios()) {
    if (scenario.name == name) return &scenario;
  }
  return nullptr;
}

Config apply_settings(const ScenarioInfo& scenario, Config config) {
  const ScenarioSettings& settings = scenario.settings;
  if (settings.max_steps != 0) config.max_steps = settings.max_steps;
  if (settings.on_step_limit) config.on_step_limit = *settings.on_step_limit;
  return config;
}

bool found_as_expected(const ScenarioInfo& scenario, FailureKind found) noexcept {
  if (found == scenario.expected) return true;
  return scenario.expected != FailureKind::none &&
         scenario.settings.also_expected != FailureKind::none &&
         found == scenario.settings.also_expected;
}

Report check(const ScenarioInfo& scenario, Config config) {
  if (config.name.empty()) config.name = scenario.name;
  return check(Scenario(scenario.make), std::move(config));
}

}  // namespace chanfuzz
