// Live diagnostics for programs running on ThreadExecutor, like Go's
// goroutine dumps: what every task of the process is doing, now.
//
//   auto server = chanfuzz::debug::serve(6060);   // http://127.0.0.1:6060/debug/tasks
//   chanfuzz::debug::install_signal_dump();       // kill -QUIT <pid>: the dump on stderr
//
// The tasks are those of every ThreadExecutor inside run()
// (for_each_running_thread_executor); each snapshot takes the task's and the
// channel's locks, so it is consistent per task, and a task that is running
// shows as "running". Nothing here touches the tasks themselves.
//
// debug::serve needs the optional library chanfuzz::debug (built when
// cpp-httplib is installed: Debian libcpp-httplib-dev); the dumps and the
// signal dump are in chanfuzz::harness.
#pragma once

#include <csignal>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "chanfuzz/debug.hpp"

namespace chanfuzz::debug {

// Every live task of every running ThreadExecutor, sorted by executor, then id.
std::vector<TaskInfo> running_tasks();
// How many tasks are alive on running ThreadExecutors (Go's NumGoroutine).
std::size_t running_task_count();
// The dump, in the format of Go's pprof goroutine profile with debug=2:
// "chanfuzz: 3 tasks on 1 executor\n\n" then each task as write_task()
// prints it.
std::string dump_text();

// ---- online leak detection ----
// Runs ThreadExecutor::find_leaks() on every running ThreadExecutor now,
// then returns every task each has found leaked in its run so far (blocked
// on something nothing still running can reach), sorted by executor, then id.
std::vector<TaskInfo> running_leaks();
// running_leaks() as a report: "chanfuzz: leak: 2 tasks blocked forever ..."
// and the tasks in the dump format, or "chanfuzz: no leaked tasks (N tasks on
// M executors checked)\n".
std::string leaks_text();

// ---- the signal dump ----
struct SignalDumpOptions {
  int signal = SIGQUIT;     // SIGQUIT as in Go; SIGUSR1, SIGUSR2 ... any catchable signal
  bool exit_after = false;  // after the dump, exit(2), as Go does on SIGQUIT
};
// On `signal`, writes dump_text() to stderr. The handler only wakes a
// watcher thread (async-signal-safe); the watcher takes the snapshot, with
// locks, outside the handler. One signal at a time: installing again
// replaces the previous one. Throws std::invalid_argument for a signal that
// cannot be caught (SIGKILL, SIGSTOP, out of range).
void install_signal_dump(SignalDumpOptions options = {});
// Restores the previous disposition of the signal and stops the watcher.
void uninstall_signal_dump();

// ---- the HTTP endpoints (chanfuzz::debug) ----
struct ServeOptions {
  std::string address = "127.0.0.1";  // loopback by default: dumps show source paths
};

//   GET /debug/tasks               dump_text() (text/plain)
//   GET /debug/tasks?format=json   the tasks as JSON (the shape of a report's "tasks")
//   GET /debug/tasks/count         running_task_count(), one number
//   GET /debug/leaks               leaks_text() (text/plain); ?format=json: the leaked
//                                  tasks as JSON
class Server {
 public:
  virtual ~Server() = default;
  virtual int port() const = 0;  // the port it listens on (useful after serve(0))
  virtual void stop() = 0;       // stops listening; also done by the destructor
};

// Listens on address:port (0: a free port) on a thread of its own; returns
// once it listens. Throws std::runtime_error naming the address when it
// cannot bind.
std::unique_ptr<Server> serve(int port, ServeOptions options = {});

}  // namespace chanfuzz::debug
