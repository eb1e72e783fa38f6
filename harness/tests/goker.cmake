# The GoKer kernels (harness/scenarios/goker/, goker_test.cpp): each one found
# by each strategy within a small budget, each fixed variant passing. One
# ctest per scenario and check (TEST_P). Measured in a g++ Debug build: about
# 10 s of CPU for the whole executable; the slowest ctest (2,000 runs of a
# fixed variant with PCT, abandoning runs at the step bound) about 1 s.
add_executable(chanfuzz_goker_test goker_test.cpp)
target_link_libraries(chanfuzz_goker_test PRIVATE chanfuzz_scenarios chanfuzz_harness
                                                  GTest::gtest_main)
if(CHANFUZZ_SANITIZE)
  target_compile_definitions(chanfuzz_goker_test PRIVATE CHANFUZZ_SANITIZED_BUILD=1)
else()
  target_compile_definitions(chanfuzz_goker_test PRIVATE CHANFUZZ_SANITIZED_BUILD=0)
endif()
chanfuzz_set_warnings(chanfuzz_goker_test)
gtest_discover_tests(chanfuzz_goker_test
  PROPERTIES LABELS goker TIMEOUT 240
  DISCOVERY_TIMEOUT 120)
