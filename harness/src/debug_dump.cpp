// Process-wide task dumps and the signal dump (debug_server.hpp).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "chanfuzz/debug_server.hpp"
#include "chanfuzz/thread_executor.hpp"

namespace chanfuzz::debug {

std::vector<TaskInfo> running_tasks() {
  std::vector<TaskInfo> out;
  for_each_running_thread_executor([&](const ThreadExecutor& executor) {
    std::vector<TaskInfo> tasks = executor.tasks();
    out.insert(out.end(), std::make_move_iterator(tasks.begin()),
               std::make_move_iterator(tasks.end()));
  });
  return out;
}

std::size_t running_task_count() {
  std::size_t n = 0;
  for_each_running_thread_executor(
      [&](const ThreadExecutor& executor) { n += executor.num_tasks(); });
  return n;
}

std::string dump_text() {
  std::size_t executors = 0;
  std::vector<TaskInfo> tasks;
  for_each_running_thread_executor([&](const ThreadExecutor& executor) {
    ++executors;
    std::vector<TaskInfo> more = executor.tasks();
    tasks.insert(tasks.end(), std::make_move_iterator(more.begin()),
                 std::make_move_iterator(more.end()));
  });
  std::ostringstream out;
  out << "chanfuzz: " << tasks.size() << (tasks.size() == 1 ? " task" : " tasks") << " on "
      << executors << (executors == 1 ? " executor" : " executors") << "\n\n";
  for (const TaskInfo& task : tasks) write_task(out, task);
  return out.str();
}

namespace {

// Checks every running executor now; returns what each found in its run so
// far, and counts the executors and their tasks.
std::vector<TaskInfo> check_for_leaks(std::size_t& executors, std::size_t& tasks) {
  std::vector<TaskInfo> leaked;
  for_each_running_thread_executor([&](const ThreadExecutor& executor) {
    ++executors;
    (void)executor.find_leaks();
    tasks += executor.num_tasks();
    std::vector<TaskInfo> found = executor.leaks_found();
    std::sort(found.begin(), found.end(),
              [](const TaskInfo& a, const TaskInfo& b) { return a.id < b.id; });
    leaked.insert(leaked.end(), std::make_move_iterator(found.begin()),
                  std::make_move_iterator(found.end()));
  });
  return leaked;
}

}  // namespace

std::vector<TaskInfo> running_leaks() {
  std::size_t executors = 0;
  std::size_t tasks = 0;
  return check_for_leaks(executors, tasks);
}

std::string leaks_text() {
  std::size_t executors = 0;
  std::size_t tasks = 0;
  std::vector<TaskInfo> leaked = check_for_leaks(executors, tasks);
  if (leaked.empty()) {
    return "chanfuzz: no leaked tasks (" + std::to_string(tasks) +
           (tasks == 1 ? " task" : " tasks") + " on " + std::to_string(executors) +
           (executors == 1 ? " executor" : " executors") + " checked)\n";
  }
  return ThreadExecutor::leak_report(leaked);
}

namespace {

// The signal dump's state. The handler reads only the pipe's write end.
std::mutex g_mutex;  // guards the fields below (not the handler's atomics)
std::atomic<int> g_write_fd{-1};
int g_read_fd = -1;
int g_signal = 0;
bool g_exit_after = false;
struct sigaction g_previous {};
std::thread g_watcher;

void on_signal(int) {
  int saved = errno;
  int fd = g_write_fd.load(std::memory_order_relaxed);
  if (fd >= 0) {
    char byte = 'd';
    [[maybe_unused]] ssize_t n = ::write(fd, &byte, 1);  // a full pipe: a dump is pending anyway
  }
  errno = saved;
}

void write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

void watch(int read_fd, bool exit_after) {
  for (;;) {
    char byte = 0;
    ssize_t n = ::read(read_fd, &byte, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || byte == 'q') return;  // closed, or uninstall
    write_all(2, dump_text());
    if (exit_after) std::_Exit(2);
  }
}

void stop_locked() {
  if (g_signal == 0) return;
  ::sigaction(g_signal, &g_previous, nullptr);
  int fd = g_write_fd.exchange(-1);
  char quit = 'q';
  [[maybe_unused]] ssize_t n = ::write(fd, &quit, 1);
  if (g_watcher.joinable()) g_watcher.join();
  ::close(fd);
  ::close(g_read_fd);
  g_read_fd = -1;
  g_signal = 0;
}

}  // namespace

void install_signal_dump(SignalDumpOptions options) {
  if (options.signal <= 0 || options.signal >= NSIG || options.signal == SIGKILL ||
      options.signal == SIGSTOP) {
    throw std::invalid_argument("chanfuzz::debug::install_signal_dump: signal " +
                                std::to_string(options.signal) + " cannot be caught");
  }
  std::lock_guard<std::mutex> lock(g_mutex);
  stop_locked();
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw std::runtime_error("chanfuzz::debug::install_signal_dump: pipe2 failed");
  }
  ::fcntl(fds[1], F_SETFL, O_NONBLOCK);  // the handler never blocks
  g_read_fd = fds[0];
  g_write_fd = fds[1];
  g_exit_after = options.exit_after;
  g_watcher = std::thread(watch, fds[0], options.exit_after);
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  if (::sigaction(options.signal, &action, &g_previous) != 0) {
    g_signal = options.signal;
    stop_locked();
    throw std::invalid_argument("chanfuzz::debug::install_signal_dump: sigaction failed for " +
                                std::to_string(options.signal));
  }
  g_signal = options.signal;
}

void uninstall_signal_dump() {
  std::lock_guard<std::mutex> lock(g_mutex);
  stop_locked();
}

}  // namespace chanfuzz::debug
