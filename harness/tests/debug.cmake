# Live diagnostics (debug_test.cpp): process-wide dumps, the signal dump, and
# debug::serve read with a real HTTP client, on ThreadExecutor with 2 threads.
add_executable(chanfuzz_debug_test debug_test.cpp)
target_link_libraries(chanfuzz_debug_test PRIVATE chanfuzz_harness GTest::gtest_main)
if(TARGET chanfuzz_debug)
  target_link_libraries(chanfuzz_debug_test PRIVATE chanfuzz_debug PkgConfig::CHANFUZZ_HTTPLIB)
  target_compile_definitions(chanfuzz_debug_test PRIVATE CHANFUZZ_HAVE_HTTP=1)
endif()
chanfuzz_set_warnings(chanfuzz_debug_test)
gtest_discover_tests(chanfuzz_debug_test
  PROPERTIES LABELS threads TIMEOUT 120
  DISCOVERY_TIMEOUT 120)

# Online leak detection (online_leak_test.cpp): the catalogue on
# ThreadExecutor with 2 threads, and what the detector can and cannot see.
add_executable(chanfuzz_online_leak_test online_leak_test.cpp)
target_link_libraries(chanfuzz_online_leak_test PRIVATE chanfuzz_scenarios chanfuzz_harness
                                                        GTest::gtest_main)
if(CHANFUZZ_SANITIZE)
  target_compile_definitions(chanfuzz_online_leak_test PRIVATE CHANFUZZ_SANITIZED_BUILD=1)
endif()
chanfuzz_set_warnings(chanfuzz_online_leak_test)
# RUN_SERIAL: the schedule-dependent leaks (semaphore_no_release) need the
# two threads to run side by side; with `ctest -j2` on a 2-core machine a
# busy neighbour test serializes them and the leak may not happen in 400 runs.
gtest_discover_tests(chanfuzz_online_leak_test
  PROPERTIES LABELS threads TIMEOUT 600 RUN_SERIAL TRUE
  DISCOVERY_TIMEOUT 120)
