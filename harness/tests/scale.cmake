# Running at scale (scale_test.cpp): sharding, --resume, parallel runs
# (Config::jobs) and JUnit output, over the catalogue and small scenarios.
add_executable(chanfuzz_scale_test scale_test.cpp)
target_link_libraries(chanfuzz_scale_test PRIVATE chanfuzz_scenarios chanfuzz_harness
                                                  GTest::gtest_main)
chanfuzz_set_warnings(chanfuzz_scale_test)
gtest_discover_tests(chanfuzz_scale_test
  PROPERTIES LABELS harness TIMEOUT 300
  DISCOVERY_TIMEOUT 120)
