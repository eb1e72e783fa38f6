# stress(): the catalogue on ThreadExecutor (stress_test.cpp).
add_executable(chanfuzz_stress_test stress_test.cpp)
target_link_libraries(chanfuzz_stress_test PRIVATE chanfuzz_scenarios chanfuzz_harness
                                                   GTest::gtest_main)
if(CHANFUZZ_SANITIZE)
  target_compile_definitions(chanfuzz_stress_test PRIVATE CHANFUZZ_SANITIZED_BUILD=1)
else()
  target_compile_definitions(chanfuzz_stress_test PRIVATE CHANFUZZ_SANITIZED_BUILD=0)
endif()
chanfuzz_set_warnings(chanfuzz_stress_test)
gtest_discover_tests(chanfuzz_stress_test
  PROPERTIES LABELS threads TIMEOUT 600
  DISCOVERY_TIMEOUT 120)
