# Install rules and the CMake package, so that an outside project can write
#   find_package(chanfuzz CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE chanfuzz::chanfuzz)
# after `cmake --install`. Included by the top-level CMakeLists.txt when
# CHANFUZZ_INSTALL is ON, after every library target is defined (GNUInstallDirs
# is already included).

include(CMakePackageConfigHelpers)

set(CHANFUZZ_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/chanfuzz" CACHE STRING
    "Where the chanfuzz CMake package files are installed (relative to the prefix)")
mark_as_advanced(CHANFUZZ_INSTALL_CMAKEDIR)

# chanfuzz::runtime, chanfuzz::harness (set beside their targets) and chanfuzz::chanfuzz.
set(_cf_exported_targets chanfuzz_runtime chanfuzz_harness chanfuzz)
if(TARGET chanfuzz_cli)
  list(APPEND _cf_exported_targets chanfuzz_cli)  # chanfuzz::cli: cli_main() for users' own tools
  list(APPEND _cf_exported_targets chanfuzz_main)  # chanfuzz::main: main() calling cli_main()
endif()
set_target_properties(chanfuzz PROPERTIES EXPORT_NAME chanfuzz)

# Public headers (detail/ included: the public headers use it).
install(DIRECTORY
          "${PROJECT_SOURCE_DIR}/runtime/include/"
          "${PROJECT_SOURCE_DIR}/harness/include/"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
        FILES_MATCHING PATTERN "*.hpp")

install(TARGETS ${_cf_exported_targets}
        EXPORT chanfuzzTargets
        ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
        LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
        RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}"
        INCLUDES DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")

install(EXPORT chanfuzzTargets
        NAMESPACE chanfuzz::
        FILE chanfuzzTargets.cmake
        DESTINATION "${CHANFUZZ_INSTALL_CMAKEDIR}")

# --- find_dependency() lines for chanfuzzConfig.cmake ----------------------
# Static libraries export every library they link, even PRIVATE ones (as
# $<LINK_ONLY:...>), so the installed config must find each imported target
# the exported targets link. One line per package we may link:
#   "<prefix of its imported targets>|<find_dependency() arguments>"
# A new dependency of the runtime or the harness needs a line here, nothing
# else; configuring fails with a clear message when one is missing.
set(_cf_known_dependencies
  "Threads::|Threads"
  "fmt::|fmt CONFIG"
  "nlohmann_json::|nlohmann_json CONFIG"
  "CLI11::|CLI11 CONFIG"
)

set(_cf_found_dependencies "")
foreach(_cf_target IN LISTS _cf_exported_targets)
  set(_cf_links "")
  foreach(_cf_prop LINK_LIBRARIES INTERFACE_LINK_LIBRARIES)
    get_target_property(_cf_value ${_cf_target} ${_cf_prop})
    if(_cf_value)
      list(APPEND _cf_links ${_cf_value})
    endif()
  endforeach()
  foreach(_cf_lib IN LISTS _cf_links)
    # $<LINK_ONLY:x> -> x; skip other generator expressions, such as
    # $<BUILD_INTERFACE:...>, and the ::@(directory) markers CMake inserts.
    if(_cf_lib MATCHES "^\\$<LINK_ONLY:([^>]+)>$")
      set(_cf_lib "${CMAKE_MATCH_1}")
    endif()
    if(_cf_lib MATCHES "^\\$<" OR _cf_lib MATCHES "^::@")
      continue()
    endif()
    if(TARGET "${_cf_lib}")
      get_target_property(_cf_aliased "${_cf_lib}" ALIASED_TARGET)
      if(_cf_aliased)
        set(_cf_real "${_cf_aliased}")
      else()
        set(_cf_real "${_cf_lib}")
      endif()
      get_target_property(_cf_imported "${_cf_real}" IMPORTED)
      if(NOT _cf_imported)
        continue()  # one of ours: exported alongside
      endif()
    elseif(NOT _cf_lib MATCHES "::")
      continue()  # a plain library name or flag (pthread, -latomic): exported as is
    endif()
    # An imported target. find_package() in a subdirectory makes it visible
    # there only, so it may not be a TARGET here: go by its name.
    set(_cf_dependency "")
    foreach(_cf_known IN LISTS _cf_known_dependencies)
      string(REPLACE "|" ";" _cf_known "${_cf_known}")
      list(GET _cf_known 0 _cf_prefix)
      list(GET _cf_known 1 _cf_args)
      string(FIND "${_cf_lib}" "${_cf_prefix}" _cf_at)
      if(_cf_at EQUAL 0)
        set(_cf_dependency "${_cf_args}")
        break()
      endif()
    endforeach()
    if(NOT _cf_dependency)
      message(FATAL_ERROR
        "chanfuzz install: ${_cf_target} links the imported target ${_cf_lib}, which the "
        "installed package cannot find yet. Add a line for its package to "
        "_cf_known_dependencies in cmake/ChanfuzzInstall.cmake.")
    endif()
    list(APPEND _cf_found_dependencies "${_cf_dependency}")
  endforeach()
endforeach()
list(REMOVE_DUPLICATES _cf_found_dependencies)

set(CHANFUZZ_CONFIG_DEPENDENCIES "")
foreach(_cf_dependency IN LISTS _cf_found_dependencies)
  string(APPEND CHANFUZZ_CONFIG_DEPENDENCIES "find_dependency(${_cf_dependency})\n")
endforeach()
if(CHANFUZZ_CONFIG_DEPENDENCIES STREQUAL "")
  set(CHANFUZZ_CONFIG_DEPENDENCIES "# (none)\n")
endif()

configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/chanfuzzConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/chanfuzzConfig.cmake"
  INSTALL_DESTINATION "${CHANFUZZ_INSTALL_CMAKEDIR}")

write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/chanfuzzConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}"
  COMPATIBILITY SameMajorVersion)

install(FILES
          "${PROJECT_BINARY_DIR}/chanfuzzConfig.cmake"
          "${PROJECT_BINARY_DIR}/chanfuzzConfigVersion.cmake"
          "${PROJECT_SOURCE_DIR}/cmake/ChanfuzzScenarios.cmake"
          "${PROJECT_SOURCE_DIR}/cmake/ChanfuzzDiscoverScenarios.cmake"
        DESTINATION "${CHANFUZZ_INSTALL_CMAKEDIR}")
