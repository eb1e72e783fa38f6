// Task dumps: what a task is, where it waits, on what, and who created it,
// printed the way Go prints a goroutine in a pprof debug=2 dump:
//
//   task 3 "producer" [chan send, 12 steps]:
//     <lambda>() at examples/leak.cpp:14
//       chan int #1 (cap 0, len 0; 1 sender, 0 receivers waiting), made at examples/leak.cpp:9
//   created by main_task() in task 1 at examples/leak.cpp:20
//
// The state is Go's wait reason; "12 steps" counts the scheduling steps since
// the task began to wait, followed by the executor time when it moved.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "chanfuzz/clock.hpp"
#include "chanfuzz/source_location.hpp"

namespace chanfuzz {

// Something a task waits on, as it was when the snapshot was taken.
struct WaitObject {
  enum class Kind : std::uint8_t { channel, mutex, wait_group };
  Kind kind = Kind::channel;
  std::uint64_t id = 0;       // per-executor id (0: made outside an executor)
  std::string type;           // "chan int", "sync.Mutex", "sync.WaitGroup"
  bool nil = false;           // a nil channel
  bool closed = false;        // channels
  std::size_t capacity = 0;   // channels
  std::size_t length = 0;     // channels: values buffered; wait groups: the counter
  std::size_t senders = 0;    // channels: tasks waiting to send
  std::size_t receivers = 0;  // channels: tasks waiting to receive; mutex, wait group: waiters
  SourceLocation created_at;
  // Channels described by an operation (a send, a receive, a select's case):
  // which of the two it does there. none: described otherwise (Chan::describe).
  enum class Direction : std::uint8_t { none, receive, send };
  Direction direction = Direction::none;

  // "chan int (cap 0, len 0, 1 sender, 0 receivers waiting)"
  std::string describe() const;
};

// A snapshot of one live task.
struct TaskInfo {
  std::uint64_t id = 0;
  std::string name;                 // "" unless given to go()
  std::string state;                // Go's wait reason ("chan send", "select", "sleep", ...),
                                    // or "runnable", "running", "panicked"
  SourceLocation blocked_at;        // where it waits (or last reached a scheduling point)
  SourceLocation created_at;        // the go() call that spawned it
  std::uint64_t parent_id = 0;      // the task that called go() (0: none)
  std::uint64_t steps_blocked = 0;  // scheduling steps since it started waiting
  Duration time_blocked{};          // executor time since it started waiting
  std::vector<WaitObject> waiting_on;
  std::string panic;  // what() of the exception that escaped it, if any
};

// Writes one task in the dump format above, ending with a blank line.
void write_task(std::ostream& out, const TaskInfo& task);

// Shortens a source path for reports: an absolute path under the current
// working directory is made relative to it; any other path is kept.
std::string short_path(const char* path);

// "file:line" with short_path, or "?" when the location is unknown.
std::string format_location(const SourceLocation& where);

// The demangled name of a type, for reports: "int", "std::string".
std::string type_name(const char* mangled);

}  // namespace chanfuzz
