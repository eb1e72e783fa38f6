# Tests of the chanfuzz command-line tool (LABELS cli): cli_test.sh drives
# the built binary, one ctest per case. The cases are the script's
# `case_<name>()` functions, read from it here, so a new case needs no edit
# in this file.
if(NOT TARGET chanfuzz_tool)
  return()
endif()

find_program(CHANFUZZ_BASH bash)
find_program(CHANFUZZ_PYTHON3 python3)  # the JSON checks
if(NOT CHANFUZZ_BASH OR NOT CHANFUZZ_PYTHON3)
  message(STATUS "chanfuzz: CLI tests not registered (they need bash and python3)")
  return()
endif()

set(_cli_script "${CMAKE_CURRENT_SOURCE_DIR}/cli_test.sh")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_cli_script}")
file(STRINGS "${_cli_script}" _cli_cases REGEX "^case_[a-z0-9_]+\\(\\)")
list(TRANSFORM _cli_cases REPLACE "^case_([a-z0-9_]+)\\(\\).*$" "\\1")

foreach(_cli_case IN LISTS _cli_cases)
  add_test(NAME cli_${_cli_case}
           COMMAND "${CHANFUZZ_BASH}" "${_cli_script}" $<TARGET_FILE:chanfuzz_tool>
                   "${PROJECT_SOURCE_DIR}" ${_cli_case})
  set_tests_properties(cli_${_cli_case} PROPERTIES LABELS cli TIMEOUT 120)
endforeach()
