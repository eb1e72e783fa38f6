# Systematic exploration (dfs:<P>, sleep sets, minimize, swarm):
# exploration_test.cpp. It links the catalogue (OBJECT library) to explore
# its scenarios. One ctest per test and catalogue scenario (TEST_P), so ctest
# -j runs them side by side; bounds are small (docs/exploration.md has the
# dfs:2 figures).
find_package(nlohmann_json CONFIG REQUIRED)
add_executable(chanfuzz_exploration_test exploration_test.cpp)
target_link_libraries(chanfuzz_exploration_test
  PRIVATE chanfuzz_scenarios chanfuzz_harness GTest::gtest_main nlohmann_json::nlohmann_json)
chanfuzz_set_warnings(chanfuzz_exploration_test)
gtest_discover_tests(chanfuzz_exploration_test
  PROPERTIES LABELS harness TIMEOUT 240
  DISCOVERY_TIMEOUT 120)
