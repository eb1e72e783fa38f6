# The built-in scenario catalogue, checked against its own declarations
# (catalogue_test.cpp). Linking the OBJECT library chanfuzz_scenarios links
# its objects, so every scenario's static registration is in the executable.
add_executable(chanfuzz_catalogue_test catalogue_test.cpp)
target_link_libraries(chanfuzz_catalogue_test PRIVATE chanfuzz_scenarios chanfuzz_harness
                                                      GTest::gtest_main)
# The test reads harness/scenarios/tutorial.cpp to find the line a leak blocks at.
if(CHANFUZZ_SANITIZE)
  set(_cf_sanitized 1)
else()
  set(_cf_sanitized 0)
endif()
target_compile_definitions(chanfuzz_catalogue_test
                           PRIVATE CHANFUZZ_SOURCE_DIR="${chanfuzz_SOURCE_DIR}"
                                   CHANFUZZ_SANITIZED_BUILD=${_cf_sanitized})
chanfuzz_set_warnings(chanfuzz_catalogue_test)
# One ctest per scenario and check (TEST_P), so ctest -j runs them side by
# side. Measured in a g++ Debug build: the slowest ctest (10,000 runs of one
# correct scenario) takes ~1-3 s, the whole executable ~40 s of wall time
# serially (~20 s of CPU). The timeout leaves room for ASan+UBSan (~5x) on a
# loaded machine.
gtest_discover_tests(chanfuzz_catalogue_test
  PROPERTIES LABELS harness TIMEOUT 240
  DISCOVERY_TIMEOUT 120)
