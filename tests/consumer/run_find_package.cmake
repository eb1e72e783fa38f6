# ctest consumer_find_package: installs this build into a fresh prefix, then
# builds tests/consumer against it with find_package(chanfuzz CONFIG) and runs it.
# cmake -DCF_SETTINGS=<build>/tests/consumer-settings.cmake -DCF_CONFIG=<config> -P run_find_package.cmake
include("${CMAKE_CURRENT_LIST_DIR}/consumer_steps.cmake")
if(CF_SKIP_REASON)
  # ctest reports the test as skipped (SKIP_REGULAR_EXPRESSION in tests/CMakeLists.txt).
  message("chanfuzz-consumer-test: SKIPPED: ${CF_SKIP_REASON}")
  return()
endif()

cf_fresh_dir(work consumer-find_package)
set(prefix "${work}/prefix")

cf_run("installing chanfuzz"
       "${CMAKE_COMMAND}" --install "${CF_PARENT_BINARY_DIR}" --prefix "${prefix}" ${CF_CONFIG_ARGS})

foreach(f "${CF_INSTALL_CMAKEDIR}/chanfuzzConfig.cmake"
          "${CF_INSTALL_CMAKEDIR}/chanfuzzConfigVersion.cmake"
          "${CF_INSTALL_CMAKEDIR}/chanfuzzTargets.cmake"
          "${CF_INSTALL_INCLUDEDIR}/chanfuzz/chanfuzz.hpp")
  if(NOT EXISTS "${prefix}/${f}")
    message(FATAL_ERROR "consumer test: the install did not produce ${prefix}/${f}")
  endif()
endforeach()

# Only this prefix (then the parent's own prefix path, for chanfuzz's
# dependencies); never a chanfuzz from the package registry.
set(search_path "${prefix}")
if(CF_PREFIX_PATH)
  list(APPEND search_path ${CF_PREFIX_PATH})
endif()
cf_write_init_cache("${work}/init-cache.cmake" "\
set(CMAKE_PREFIX_PATH [==[${search_path}]==] CACHE STRING \"\")
set(CMAKE_FIND_USE_PACKAGE_REGISTRY OFF CACHE BOOL \"\")
")

cf_build_and_run("${work}/build" "${work}/init-cache.cmake")

# The package found must be the one just installed.
file(STRINGS "${work}/build/CMakeCache.txt" found_dir REGEX "^chanfuzz_DIR:")
string(REGEX REPLACE "^chanfuzz_DIR:[A-Z]+=" "" found_dir "${found_dir}")
file(REAL_PATH "${found_dir}" found_dir)
file(REAL_PATH "${prefix}/${CF_INSTALL_CMAKEDIR}" expected_dir)
if(NOT found_dir STREQUAL expected_dir)
  message(FATAL_ERROR "consumer test: found chanfuzz in '${found_dir}', not in '${expected_dir}'")
endif()
message(STATUS "consumer_find_package: ok (chanfuzz from ${found_dir})")
