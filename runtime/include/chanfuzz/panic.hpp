// Panic: the exception chanfuzz throws when a task misuses the API, exactly
// where Go panics. what() is Go's message, word for word.
//
// A Panic is thrown inside the task that made the call (at its co_await or
// call), so the task may catch it, as Go's recover does. One that escapes the
// task fails the run with category `panic`.
//
// A broken internal invariant is not a Panic: it aborts the process with the
// prefix "chanfuzz internal error:" (see internal_error()).
#pragma once

#include <stdexcept>
#include <string>

namespace chanfuzz {

class Panic : public std::runtime_error {
 public:
  explicit Panic(const std::string& message) : std::runtime_error(message) {}
  explicit Panic(const char* message) : std::runtime_error(message) {}
};

// Go's panic messages.
namespace panic_message {
inline constexpr const char* send_on_closed = "send on closed channel";
inline constexpr const char* close_of_closed = "close of closed channel";
inline constexpr const char* close_of_nil = "close of nil channel";
inline constexpr const char* negative_wait_group = "sync: negative WaitGroup counter";
inline constexpr const char* unlock_of_unlocked = "sync: unlock of unlocked mutex";
}  // namespace panic_message

// Aborts with "chanfuzz internal error: <what>": a bug in chanfuzz itself.
[[noreturn]] void internal_error(const char* what) noexcept;

}  // namespace chanfuzz
