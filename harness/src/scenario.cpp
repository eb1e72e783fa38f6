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
  auto& all = registry();
  for (const auto& other : all) {
    if (other.name == name) {
      std::fprintf(stderr, "chanfuzz: scenario '%s' is defined twice: at %s and at %s\n", name,
                   format_location(other.where).c_str(), format_location(where).c_str());
      std::abort();
    }
  }
  all.push_back(ScenarioInfo{name, description, make, expected, where});
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

Report check(const ScenarioInfo& scenario, Config config) {
  if (config.name.empty()) config.name = scenario.name;
  return check(Scenario(scenario.make), std::move(config));
}

}  // namespace chanfuzz
