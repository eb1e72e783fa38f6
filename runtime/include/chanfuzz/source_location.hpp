// SourceLocation: where an operation was written, for reports and task dumps.
//
// clang 14 with libstdc++ 12 has no std::source_location, so chanfuzz carries
// its own, built on the builtins both compilers support. Every blocking
// operation takes `SourceLocation where = SourceLocation::current()` as its
// last parameter, so the location is the caller's.
#pragma once

#include <cstdint>

namespace chanfuzz {

struct SourceLocation {
  const char* file = "";
  std::uint32_t line = 0;
  const char* function = "";

  // The location of the call that evaluates this default argument.
  static constexpr SourceLocation current(const char* file = __builtin_FILE(),
                                          std::uint32_t line = __builtin_LINE(),
                                          const char* function = __builtin_FUNCTION()) noexcept {
    return SourceLocation{file, line, function};
  }

  // False for a default-constructed location (nothing recorded).
  constexpr bool known() const noexcept { return line != 0; }
};

}  // namespace chanfuzz
