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
