# chanfuzz_add_scenarios(): every scenario a program defines becomes its own
# ctest test, so `ctest -R` selects scenarios and a failure shows the report.
#
#   add_executable(my_scenarios my_scenarios.cpp)      # CHANFUZZ_SCENARIO(...) { ... }
#   target_link_libraries(my_scenarios PRIVATE chanfuzz::main)
#   chanfuzz_add_scenarios(my_scenarios RUNS 2000 STRATEGY pct:3)
#
# The target is a chanfuzz command over the program's scenarios: it links
# chanfuzz::main (a main() that calls chanfuzz::cli_main) or defines a main()
# calling cli_main itself. After each build, the scenarios are listed
# (`<target> list --json`) and one test per scenario is registered, running
#
#   <target> run <scenario> --runs N --strategy S [--time SEC] [--max-steps N] [ARGS...]
#
# A scenario declared to pass (CHANFUZZ_SCENARIO) passes when no failure is
# found. A scenario declared to fail (CHANFUZZ_SCENARIO_FAILS) passes when the
# check finds its declared failure ("chanfuzz: <category>:" in the output).
#
# Options:
#   RUNS n          runs per scenario (default 1000)
#   STRATEGY s      random (default), pct:<d>, dfs:<P>, random+swarm ...
#   TIME sec        stop each scenario after sec seconds
#   MAX_STEPS n     scheduling steps per run
#   TEST_PREFIX p   test names are <p><scenario> (default "<target>.")
#   LABELS l...     ctest labels (default: chanfuzz)
#   TIMEOUT sec     ctest timeout per scenario (default 600)
#   ARGS a...       more `run` flags, e.g. --skip-step-limit or --junit
#
# The environment still applies when ctest runs them (CHANFUZZ_RUNS,
# CHANFUZZ_SEED, ... as for any chanfuzz check).
include_guard(GLOBAL)

set(_CHANFUZZ_DISCOVER_SCENARIOS_SCRIPT "${CMAKE_CURRENT_LIST_DIR}/ChanfuzzDiscoverScenarios.cmake"
    CACHE INTERNAL "chanfuzz: the script chanfuzz_add_scenarios runs after each build")

function(chanfuzz_add_scenarios target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "RUNS;STRATEGY;TIME;MAX_STEPS;TEST_PREFIX;TIMEOUT"
                        "LABELS;ARGS")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "chanfuzz_add_scenarios(${target}): unknown arguments: "
                        "${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT TARGET ${target})
    message(FATAL_ERROR "chanfuzz_add_scenarios: '${target}' is not a target")
  endif()
  get_target_property(_type ${target} TYPE)
  if(NOT _type STREQUAL "EXECUTABLE")
    message(FATAL_ERROR "chanfuzz_add_scenarios: '${target}' is a ${_type}; it must be an "
                        "executable (link chanfuzz::main)")
  endif()
  if(NOT DEFINED arg_RUNS)
    set(arg_RUNS 1000)
  endif()
  if(NOT arg_RUNS MATCHES "^[0-9]+$")
    message(FATAL_ERROR "chanfuzz_add_scenarios(${target}): RUNS '${arg_RUNS}' is not a number")
  endif()
  if(NOT DEFINED arg_STRATEGY)
    set(arg_STRATEGY random)
  endif()
  if(NOT DEFINED arg_TEST_PREFIX)
    set(arg_TEST_PREFIX "${target}.")
  endif()
  if(NOT DEFINED arg_LABELS)
    set(arg_LABELS chanfuzz)
  endif()
  if(NOT DEFINED arg_TIMEOUT)
    set(arg_TIMEOUT 600)
  endif()

  set(_run_args --runs "${arg_RUNS}" --strategy "${arg_STRATEGY}")
  if(DEFINED arg_TIME)
    list(APPEND _run_args --time "${arg_TIME}")
  endif()
  if(DEFINED arg_MAX_STEPS)
    list(APPEND _run_args --max-steps "${arg_MAX_STEPS}")
  endif()
  list(APPEND _run_args ${arg_ARGS})

  set(_dir "${CMAKE_CURRENT_BINARY_DIR}")
  set(_tests_file "${_dir}/${target}_chanfuzz_scenarios.cmake")
  set(_include_file "${_dir}/${target}_chanfuzz_include.cmake")
  # Lists travel to the script with '|' instead of ';'.
  string(REPLACE ";" "|" _run_args_bar "${_run_args}")
  string(REPLACE ";" "|" _labels_bar "${arg_LABELS}")
  add_custom_command(TARGET ${target} POST_BUILD
    COMMAND "${CMAKE_COMMAND}"
            "-DCHANFUZZ_TOOL=$<TARGET_FILE:${target}>"
            "-DCHANFUZZ_TESTS_FILE=${_tests_file}"
            "-DCHANFUZZ_TEST_PREFIX=${arg_TEST_PREFIX}"
            "-DCHANFUZZ_RUN_ARGS=${_run_args_bar}"
            "-DCHANFUZZ_LABELS=${_labels_bar}"
            "-DCHANFUZZ_TIMEOUT=${arg_TIMEOUT}"
            -P "${_CHANFUZZ_DISCOVER_SCENARIOS_SCRIPT}"
    BYPRODUCTS "${_tests_file}"
    COMMENT "chanfuzz: listing the scenarios of ${target}"
    VERBATIM)
  file(WRITE "${_include_file}"
       "if(EXISTS \"${_tests_file}\")\n"
       "  include(\"${_tests_file}\")\n"
       "else()\n"
       "  add_test(${target}_NOT_BUILT ${target}_NOT_BUILT)\n"
       "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${_include_file}")
endfunction()
