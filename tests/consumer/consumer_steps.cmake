# Shared steps of run_find_package.cmake and run_add_subdirectory.cmake
# (cmake -P scripts). Needs CF_SETTINGS (written by tests/CMakeLists.txt) and
# CF_CONFIG (the ctest configuration, $<CONFIG>).
cmake_minimum_required(VERSION 3.22)

if(NOT CF_SETTINGS OR NOT EXISTS "${CF_SETTINGS}")
  message(FATAL_ERROR "consumer test: CF_SETTINGS='${CF_SETTINGS}' is not a settings file")
endif()
include("${CF_SETTINGS}")

# Runs a command, echoing it; a failure ends the test with `what` in the message.
function(cf_run what)
  string(JOIN " " _shown ${ARGN})
  message(STATUS "+ ${_shown}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "consumer test: ${what} failed (${_rc})")
  endif()
endfunction()

# Fresh folder for one test: `var` receives its path.
function(cf_fresh_dir var name)
  set(_dir "${CF_WORK_ROOT}/${name}")
  file(REMOVE_RECURSE "${_dir}")
  file(MAKE_DIRECTORY "${_dir}")
  set(${var} "${_dir}" PARENT_SCOPE)
endfunction()

# Writes an initial-cache file for configuring tests/consumer with the parent
# build's toolchain; `extra` is appended verbatim (more set(... CACHE ...) lines).
function(cf_write_init_cache file extra)
  set(_c "# chanfuzz consumer test: the parent build's settings\n")
  foreach(_pair
          "CMAKE_CXX_COMPILER|FILEPATH|${CF_CXX_COMPILER}"
          "CMAKE_CXX_COMPILER_LAUNCHER|STRING|${CF_CXX_COMPILER_LAUNCHER}"
          "CMAKE_CXX_FLAGS|STRING|${CF_CXX_FLAGS}"
          "CMAKE_EXE_LINKER_FLAGS|STRING|${CF_EXE_LINKER_FLAGS}"
          "CMAKE_MAKE_PROGRAM|FILEPATH|${CF_MAKE_PROGRAM}"
          "CMAKE_TOOLCHAIN_FILE|FILEPATH|${CF_TOOLCHAIN_FILE}"
          "CHANFUZZ_SANITIZE|STRING|${CF_SANITIZE}")
    string(FIND "${_pair}" "|" _a)
    string(SUBSTRING "${_pair}" 0 ${_a} _name)
    math(EXPR _a "${_a} + 1")
    string(SUBSTRING "${_pair}" ${_a} -1 _rest)
    string(FIND "${_rest}" "|" _b)
    string(SUBSTRING "${_rest}" 0 ${_b} _type)
    math(EXPR _b "${_b} + 1")
    string(SUBSTRING "${_rest}" ${_b} -1 _value)
    if(NOT _value STREQUAL "")
      string(APPEND _c "set(${_name} [==[${_value}]==] CACHE ${_type} \"\")\n")
    endif()
  endforeach()
  if(NOT CF_MULTI_CONFIG AND NOT CF_CONFIG STREQUAL "")
    string(APPEND _c "set(CMAKE_BUILD_TYPE [==[${CF_CONFIG}]==] CACHE STRING \"\")\n")
  endif()
  if(CF_WERROR)
    string(APPEND _c "set(CONSUMER_WERROR ON CACHE BOOL \"\")\n")
  endif()
  string(APPEND _c "${extra}")
  file(WRITE "${file}" "${_c}")
endfunction()

# Skip (not fail) when the build tool this build was made with is gone: the
# calling script prints CF_SKIP_REASON and stops (a return() here would only
# leave this included file).
set(CF_SKIP_REASON "")
if(CF_MAKE_PROGRAM AND NOT EXISTS "${CF_MAKE_PROGRAM}")
  set(CF_SKIP_REASON "the build program '${CF_MAKE_PROGRAM}' is not usable")
endif()

set(CF_GENERATOR_ARGS -G "${CF_GENERATOR}")
if(CF_GENERATOR_PLATFORM)
  list(APPEND CF_GENERATOR_ARGS -A "${CF_GENERATOR_PLATFORM}")
endif()
if(CF_GENERATOR_TOOLSET)
  list(APPEND CF_GENERATOR_ARGS -T "${CF_GENERATOR_TOOLSET}")
endif()
set(CF_CONFIG_ARGS "")
if(NOT CF_CONFIG STREQUAL "")
  set(CF_CONFIG_ARGS --config "${CF_CONFIG}")
endif()

# Configures, builds and runs tests/consumer in `build_dir` with `init_cache`.
function(cf_build_and_run build_dir init_cache)
  cf_run("configuring tests/consumer"
         "${CMAKE_COMMAND}" -S "${CF_CONSUMER_SOURCE_DIR}" -B "${build_dir}"
         ${CF_GENERATOR_ARGS} -C "${init_cache}")
  cf_run("building tests/consumer" "${CMAKE_COMMAND}" --build "${build_dir}" ${CF_CONFIG_ARGS})
  set(_exe "${build_dir}/bin/consumer${CF_EXECUTABLE_SUFFIX}")
  if(NOT EXISTS "${_exe}")
    message(FATAL_ERROR "consumer test: the build did not produce ${_exe}")
  endif()
  cf_run("running the consumer program" "${_exe}")

  # chanfuzz_add_scenarios: ctest runs one test per scenario; the correct one
  # and the declared leak pass, the undeclared leak fails with its report.
  execute_process(COMMAND "${CMAKE_CTEST_COMMAND}" --output-on-failure ${CF_CONFIG_ARGS}
                  WORKING_DIRECTORY "${build_dir}"
                  OUTPUT_VARIABLE _out ERROR_VARIABLE _err RESULT_VARIABLE _rc)
  message(STATUS "ctest in the consumer (exit ${_rc}):\n${_out}${_err}")
  if(_rc EQUAL 0)
    message(FATAL_ERROR "consumer test: ctest passed, but scenario.consumer_unexpected_leak "
                        "must fail")
  endif()
  foreach(_expect
          "scenario.consumer_handoff [.]+ *Passed"
          "scenario.consumer_known_leak [.]+ *Passed"
          "scenario.consumer_unexpected_leak [.]+[*]*Failed"
          "chanfuzz: leak: 1 task still blocked after main returned"
          "replay: +.*consumer_scenarios replay consumer_unexpected_leak --trace cf1:"
          "67% tests passed, 1 tests failed out of 3")
    if(NOT _out MATCHES "${_expect}")
      message(FATAL_ERROR "consumer test: the consumer's ctest output lacks /${_expect}/")
    endif()
  endforeach()
endfunction()
