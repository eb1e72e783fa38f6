# ctest consumer_add_subdirectory: builds tests/consumer with chanfuzz's source
# tree added by add_subdirectory (chanfuzz's own tests off), and runs it.
# cmake -DCF_SETTINGS=<build>/tests/consumer-settings.cmake -DCF_CONFIG=<config> -P run_add_subdirectory.cmake
include("${CMAKE_CURRENT_LIST_DIR}/consumer_steps.cmake")
if(CF_SKIP_REASON)
  # ctest reports the test as skipped (SKIP_REGULAR_EXPRESSION in tests/CMakeLists.txt).
  message("chanfuzz-consumer-test: SKIPPED: ${CF_SKIP_REASON}")
  return()
endif()

cf_fresh_dir(work consumer-add_subdirectory)

cf_write_init_cache("${work}/init-cache.cmake" "\
set(CHANFUZZ_SOURCE_DIR [==[${CF_PARENT_SOURCE_DIR}]==] CACHE PATH \"\")
set(CHANFUZZ_BUILD_TESTS OFF CACHE BOOL \"\")
set(CHANFUZZ_WERROR [==[${CF_WERROR}]==] CACHE BOOL \"\")
")

cf_build_and_run("${work}/build" "${work}/init-cache.cmake")
message(STATUS "consumer_add_subdirectory: ok")
