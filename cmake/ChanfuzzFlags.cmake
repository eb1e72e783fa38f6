# Warning and sanitizer flags shared by every chanfuzz target.
# chanfuzz_set_warnings(<target>) applies the project's warning set.

function(chanfuzz_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
  if(CHANFUZZ_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# g++ 12 does not emit symmetric transfer as a tail call below -O2
# (TOOLCHAIN.md pitfall 1). The runtime never relies on it (it resumes through
# a trampoline), but user code that writes its own awaiters might: keep sibling
# calls on in every build type.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  add_compile_options(-foptimize-sibling-calls)
endif()

if(CHANFUZZ_SANITIZE)
  set(_cf_san "${CHANFUZZ_SANITIZE}")
  add_compile_options(-fsanitize=${_cf_san} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${_cf_san})
  if(_cf_san MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
      # clang 14: UBSan's function check plus coroutines fails to compile
      # (TOOLCHAIN.md pitfall 2).
      add_compile_options(-fno-sanitize=function)
    endif()
  endif()
endif()

# ---- libFuzzer build (CHANFUZZ_FUZZ=ON) -------------------------------------
# The whole build is instrumented (coverage for libFuzzer, ASan + UBSan), so
# every library and test links consistently; only the fuzz executables
# (harness/fuzz) add -fsanitize=fuzzer, which brings libFuzzer's main().
# TOOLCHAIN.md, "Fuzzing"; -fno-sanitize=function: pitfall 2.
if(CHANFUZZ_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR
      "CHANFUZZ_FUZZ=ON needs clang (libFuzzer is part of clang), but the C++ compiler is "
      "${CMAKE_CXX_COMPILER_ID} (${CMAKE_CXX_COMPILER}). Configure a fresh build folder with "
      "-DCMAKE_CXX_COMPILER=clang++-14 -DCHANFUZZ_FUZZ=ON.")
  endif()
  if(CHANFUZZ_SANITIZE AND NOT CHANFUZZ_SANITIZE MATCHES "^(address|undefined|address,undefined|undefined,address)$")
    message(FATAL_ERROR
      "CHANFUZZ_FUZZ=ON builds with address,undefined already; CHANFUZZ_SANITIZE="
      "'${CHANFUZZ_SANITIZE}' cannot be combined with it (leave CHANFUZZ_SANITIZE empty).")
  endif()
  if(NOT CHANFUZZ_FUZZ_EXTERNAL_FLAGS)
    add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=function
                        -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g)
    add_link_options(-fsanitize=address,undefined)
  endif()
endif()
# OSS-Fuzz / ClusterFuzzLite (.clusterfuzzlite/build.sh): the builder's
# $CXXFLAGS carry the sanitizer and coverage flags, and $LIB_FUZZING_ENGINE
# links the engine; chanfuzz then adds none of its own.
option(CHANFUZZ_FUZZ_EXTERNAL_FLAGS
       "With CHANFUZZ_FUZZ: take the instrumentation from CMAKE_CXX_FLAGS (OSS-Fuzz)" OFF)
set(CHANFUZZ_FUZZING_ENGINE "-fsanitize=fuzzer" CACHE STRING
    "With CHANFUZZ_FUZZ: how the fuzz targets link the fuzzing engine ($LIB_FUZZING_ENGINE)")

# ---- mutants (test-only) ------------------------------------------------------
# CHANFUZZ_MUTANT=<name> plants one known runtime bug in the whole build, so
# that the fuzzers can show they find it (scripts/fuzz --mutants). The blocks
# are `#if defined(CHANFUZZ_MUTANT_<NAME>)` in runtime/include/chanfuzz/.
set(CHANFUZZ_MUTANTS lost_wakeup_select close_no_wake_senders drop_oldest_when_full
                     default_while_ready)
set(CHANFUZZ_MUTANT "" CACHE STRING
    "Test only: plant a known runtime bug (${CHANFUZZ_MUTANTS}); empty: none")
set_property(CACHE CHANFUZZ_MUTANT PROPERTY STRINGS "" ${CHANFUZZ_MUTANTS})
if(CHANFUZZ_MUTANT)
  if(NOT CHANFUZZ_MUTANT IN_LIST CHANFUZZ_MUTANTS)
    string(REPLACE ";" ", " _cf_known_mutants "${CHANFUZZ_MUTANTS}")
    message(FATAL_ERROR
      "CHANFUZZ_MUTANT='${CHANFUZZ_MUTANT}' is not a known mutant (known: ${_cf_known_mutants})")
  endif()
  string(TOUPPER "${CHANFUZZ_MUTANT}" _cf_mutant)
  add_compile_definitions(CHANFUZZ_MUTANT_${_cf_mutant}=1 CHANFUZZ_MUTANT_NAME="${CHANFUZZ_MUTANT}")
  message(STATUS "chanfuzz: MUTANT build, planted bug: ${CHANFUZZ_MUTANT} (never ship this)")
endif()
