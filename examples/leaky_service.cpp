// Debugging a leak in a running program, the way Go programmers do it with
// runtime.NumGoroutine and the /debug/pprof/goroutine dump, on real threads.
//
// The service handles requests one after another. Each request starts a
// worker that computes the answer and sends it on a result channel; the
// handler waits for the answer or for its deadline, whichever comes first.
// The bug: the result channel is unbuffered. When the deadline wins, nobody
// will ever receive the worker's send, and the worker blocks forever: one
// leaked task per slow request. The fix (--fixed) is a buffer of one, so the
// late worker's send completes and the worker exits.
//
// The workflow:
//   1. watch the task count over time: it only grows (num_tasks(), like
//      runtime.NumGoroutine);
//   2. look at the dump (/debug/tasks over HTTP with --serve, or SIGQUIT):
//      the leaked tasks all sit in "chan send" at the same line;
//   3. better: let online leak detection name them while the service runs
//      (ThreadOptions::leak_check_interval; /debug/leaks over HTTP): a
//      worker blocked on a channel that nothing still running can reach
//      is reported the moment the detector looks, not when the program ends;
//   4. fix it and watch the count stay flat and the detector stay quiet.
//
// Run: build/<dir>/examples/leaky_service [--fixed] [--requests N] [--serve PORT] [--hold SEC]
//   --serve PORT   serve the dumps on 127.0.0.1:PORT (0: a free port), e.g.
//                  curl http://127.0.0.1:PORT/debug/tasks  (needs chanfuzz::debug)
//   --hold SEC     keep serving SEC seconds after the requests, for curl
// Exit status: 0 when the program behaved as its version should (the leaky
// one leaks, the fixed one does not), 1 otherwise, 2 bad usage.
#include <chanfuzz/chanfuzz.hpp>
#include <chanfuzz/debug_server.hpp>
#include <chanfuzz/thread_executor.hpp>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#if CHANFUZZ_HAVE_HTTP
#include <httplib.h>
#endif

using namespace chanfuzz;
using namespace std::chrono_literals;

namespace {

struct Options {
  bool fixed = false;
  int requests = 40;
  int serve_port = -1;  // -1: no server
  int hold_s = 0;
};

// The work: slow for every third request (3ms), past the 2ms deadline.
Task<int> compute(int request) {
  co_await sleep_for(request % 3 == 0 ? 3ms : 500us);
  co_return request* request;
}

// One request: the worker computes, the handler waits for it or the deadline.
Task<bool> handle(int request, bool fixed) {
  auto result = make_chan<int>(fixed ? 1 : 0);  // the bug: capacity 0
  go("worker", [result, request]() -> Task<> {
    int answer = co_await compute(request);
    co_await result.send(answer);  // leaked here when nobody receives
  });
  auto s = co_await select(result.recv(), after(2ms).recv());
  co_return s.index() == 0;  // false: timed out
}

// With --serve: the requests are done (set by main), the dump was read over
// HTTP (set by the looker thread).
std::atomic<bool> g_requests_done{false};
std::atomic<bool> g_looked{false};

std::vector<std::size_t>& samples() {
  static std::vector<std::size_t> all;
  return all;
}

Task<void> service(Options options) {
  // The monitor: the task count every 5ms (runtime.NumGoroutine).
  auto stop_monitor = make_chan<Unit>();
  go("monitor", [stop_monitor]() -> Task<> {
    for (;;) {
      samples().push_back(num_tasks());
      auto s = co_await select(stop_monitor.recv(), after(5ms).recv());
      if (s.index() == 0) co_return;
    }
  });
  int timed_out = 0;
  for (int request = 0; request < options.requests; ++request) {
    bool answered = co_await handle(request, options.fixed);
    if (!answered) ++timed_out;
  }
  co_await sleep_for(10ms);  // let late workers finish (the fixed ones can)
  std::cout << options.requests << " requests, " << timed_out << " timed out; " << num_tasks()
            << " tasks alive (main and the monitor are 2)\n";
  if (options.serve_port < 0) {
    std::cout << "\nwhere the tasks are (dump_tasks):\n";
    dump_tasks(std::cout);
  }
  g_requests_done = true;
  if (options.serve_port >= 0) {
    // Still running: wait (at most 5s) while the dump is read over HTTP.
    for (int i = 0; i < 5000 && !g_looked; ++i) co_await sleep_for(1ms);
  }
  if (options.hold_s > 0) co_await sleep_for(std::chrono::seconds(options.hold_s));
  stop_monitor.close();
}

int usage_error(const std::string& what) {
  std::cerr << "leaky_service: " << what
            << " (usage: leaky_service [--fixed] [--requests N] [--serve PORT] [--hold SEC])\n";
  return 2;
}

bool parse_int(const char* text, int low, int high, int& out) {
  const char* end = text + std::strlen(text);
  auto [at, error] = std::from_chars(text, end, out);
  return error == std::errc() && at == end && out >= low && out <= high;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](int low, int high, int& out) {
      if (i + 1 >= argc || !parse_int(argv[i + 1], low, high, out)) return false;
      ++i;
      return true;
    };
    if (arg == "--fixed") {
      options.fixed = true;
    } else if (arg == "--requests") {
      if (!value(1, 100000, options.requests)) return usage_error("--requests needs 1-100000");
    } else if (arg == "--serve") {
      if (!value(0, 65535, options.serve_port)) return usage_error("--serve needs a port 0-65535");
    } else if (arg == "--hold") {
      if (!value(0, 3600, options.hold_s)) return usage_error("--hold needs 0-3600 seconds");
    } else {
      return usage_error("unknown argument '" + arg + "'");
    }
  }

#if CHANFUZZ_HAVE_HTTP
  std::unique_ptr<debug::Server> server;
  if (options.serve_port >= 0) {
    server = debug::serve(options.serve_port);
    std::cout << "serving: curl http://127.0.0.1:" << server->port() << "/debug/tasks\n";
  }
#else
  if (options.serve_port >= 0) return usage_error("--serve: built without chanfuzz::debug");
#endif
  debug::install_signal_dump();  // kill -QUIT <pid>: the dump on stderr, the program goes on

  std::cout << (options.fixed ? "fixed" : "leaky") << " service on 2 threads\n";
  // leak_wait: after main returns, give the other tasks 100ms to exit; the
  // ones still blocked then are the leaked ones (as goleak does).
  ThreadOptions thread_options{.threads = 2, .leak_wait = 100ms};
  // Online leak detection every 10ms: the first report is printed as it
  // comes, the others counted.
  std::atomic<std::size_t> online{0};
  thread_options.leak_check_interval = 10ms;
  thread_options.on_leak = [&online](const std::vector<TaskInfo>& leaked) {
    if (online.fetch_add(leaked.size()) == 0) {
      std::cout << "online leak detection, while the service runs:\n"
                << ThreadExecutor::leak_report({leaked.front()});
    }
  };
  ThreadExecutor executor(thread_options);
#if CHANFUZZ_HAVE_HTTP
  // With --serve, look at the dump over HTTP while the program still runs,
  // as one would with curl.
  std::thread looker;
  if (server) {
    looker = std::thread([port = server->port()] {
      while (!g_requests_done) std::this_thread::sleep_for(1ms);
      httplib::Client client("127.0.0.1", port);
      if (auto count = client.Get("/debug/tasks/count")) {
        std::cout << "GET /debug/tasks/count: " << count->body;
      }
      if (auto dump = client.Get("/debug/tasks")) {
        std::cout << "GET /debug/tasks:\n" << dump->body;
      }
      if (auto leaks = client.Get("/debug/leaks")) {
        std::cout << "GET /debug/leaks: " << leaks->body.substr(0, leaks->body.find('\n')) << "\n";
      }
      g_looked = true;
    });
  }
#endif
  ThreadRunResult result = executor.run(service(options));
#if CHANFUZZ_HAVE_HTTP
  if (looker.joinable()) looker.join();
#endif
  debug::uninstall_signal_dump();

  std::cout << "\ntasks over time:";
  for (std::size_t n : samples()) std::cout << ' ' << n;
  std::cout << "\n";
  std::size_t leaked = 0;
  for (const TaskInfo& task : result.tasks) {
    if (task.name == "worker") ++leaked;
  }
  // The executor ends a run when main returns: tasks still alive are leaked.
  std::cout << "run: " << thread_outcome_name(result.outcome) << ", " << leaked
            << " worker(s) still blocked when main returned\n";
  std::cout << "online leak detection reported " << result.leaked_while_running.size()
            << " task(s) while the service ran\n";
  bool grew = samples().size() >= 2 && samples().back() > samples().front() + 2;
  if (options.fixed) {
    bool quiet = leaked == 0 && result.leaked_while_running.empty();
    std::cout << (quiet ? "as expected: no leak with the buffered result channel\n"
                        : "UNEXPECTED: the fixed service leaked\n");
    return quiet ? 0 : 1;
  }
  bool seen = leaked > 0 && grew && !result.leaked_while_running.empty();
  std::cout << (seen ? "as expected: one leaked worker per timed-out request\n"
                     : "UNEXPECTED: the leaky service did not leak (or it went unseen)\n");
  return seen ? 0 : 1;
}
