// Live diagnostics: the process-wide dump of running ThreadExecutors, the
// signal dump, and the HTTP endpoints of debug::serve read with a real HTTP
// client on a free loopback port.
#include <gtest/gtest.h>

#include <chanfuzz/chanfuzz.hpp>
#include <chanfuzz/debug_server.hpp>
#include <chanfuzz/thread_executor.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <future>
#include <string>
#include <thread>

#if CHANFUZZ_HAVE_HTTP
#include <httplib.h>
#endif

using namespace chanfuzz;
using namespace std::chrono_literals;

namespace {

// A program on 2 threads, held in a known state while a test looks at it:
// 3 "stuck" tasks blocked forever on a channel nobody sends to, and main
// waiting for `release` (handed to the test through a std::promise), which
// the test closes from outside. Main waits in a select with a 1ms timer, so
// that a timer is always pending: with every task blocked and no timer, the
// executor would rightly stop the run as a deadlock.
// With `orphans`, that many "orphan" tasks more, each blocked on a channel
// only it holds: leaked, where the stuck ones are not (main could still
// send to theirs).
class RunningProgram {
 public:
  explicit RunningProgram(int orphans = 0) : orphans_(orphans) {
    auto ready = std::make_shared<std::promise<Chan<Unit>>>();
    std::future<Chan<Unit>> handle = ready->get_future();
    thread_ = std::thread([this, ready, orphans] {
      ThreadExecutor executor({.threads = 2});
      result_ = executor.run(
          [](std::shared_ptr<std::promise<Chan<Unit>>> ready, int orphans) -> Task<void> {
            auto release = make_chan<Unit>();
            auto nobody = make_chan<int>();
            for (int i = 0; i < 3; ++i) {
              go("stuck", [nobody]() -> Task<> { co_await nobody.recv(); });
            }
            for (int i = 0; i < orphans; ++i) {
              go("orphan", []() -> Task<> {
                auto mine = make_chan<int>();
                co_await mine.recv();
              });
            }
            ready->set_value(release);
            for (;;) {
              auto s = co_await select(release.recv(), after(1ms).recv());
              if (s.index() == 0) break;
            }
          }(ready, orphans));
    });
    release_ = handle.get();
    // The stuck tasks block soon after main starts waiting; wait for them.
    for (int i = 0; i < 2000 && blocked() < 3 + orphans_; ++i) std::this_thread::sleep_for(1ms);
  }
  ~RunningProgram() { finish(); }

  void finish() {
    if (!thread_.joinable()) return;
    release_.close();  // close() needs no executor: main wakes and returns
    thread_.join();
  }
  const ThreadRunResult& result() const { return result_; }

 private:
  static int blocked() {
    int n = 0;
    for (const TaskInfo& task : debug::running_tasks()) {
      if (task.state == "chan receive") ++n;
    }
    return n;
  }
  int orphans_ = 0;
  std::thread thread_;
  Chan<Unit> release_;
  ThreadRunResult result_;
};

TEST(Leaks, reports_only_tasks_nothing_running_can_wake) {
  EXPECT_TRUE(debug::running_leaks().empty());
  {
    RunningProgram program(2);
    std::vector<TaskInfo> leaked = debug::running_leaks();
    ASSERT_EQ(leaked.size(), 2u) << debug::leaks_text();
    for (const TaskInfo& task : leaked) {
      EXPECT_EQ(task.name, "orphan");
      EXPECT_EQ(task.state, "chan receive");
    }
    std::string text = debug::leaks_text();
    EXPECT_NE(text.find("chanfuzz: leak: 2 tasks blocked forever while the program runs"),
              std::string::npos)
        << text;
    EXPECT_EQ(text.find("\"stuck\""), std::string::npos) << text;
    program.finish();
    EXPECT_EQ(program.result().leaked_while_running.size(), 2u);
  }
  {
    RunningProgram program;
    EXPECT_EQ(debug::leaks_text(), "chanfuzz: no leaked tasks (4 tasks on 1 executor checked)\n");
  }
}

TEST(Dump, shows_every_task_of_the_running_executor) {
  EXPECT_EQ(debug::running_task_count(), 0u);
  {
    RunningProgram program;
    EXPECT_EQ(debug::running_task_count(), 4u);
    std::string dump = debug::dump_text();
    EXPECT_NE(dump.find("chanfuzz: 4 tasks on 1 executor"), std::string::npos) << dump;
    EXPECT_NE(dump.find("task 1 \"main\" ["), std::string::npos) << dump;
    EXPECT_NE(dump.find("\"stuck\" [chan receive"), std::string::npos) << dump;
    EXPECT_NE(dump.find("chan int #"), std::string::npos) << dump;
    EXPECT_NE(dump.find("debug_test.cpp:"), std::string::npos) << dump;
  }
  EXPECT_EQ(debug::running_task_count(), 0u);
  EXPECT_EQ(debug::dump_text(), "chanfuzz: 0 tasks on 0 executors\n\n");
}

// Captures what is written to stderr (fd 2) while alive.
class StderrCapture {
 public:
  StderrCapture() {
    ::fflush(stderr);
    saved_ = ::dup(2);
    int fds[2];
    if (::pipe(fds) != 0) std::abort();
    read_ = fds[0];
    ::dup2(fds[1], 2);
    ::close(fds[1]);
    ::fcntl(read_, F_SETFL, O_NONBLOCK);
  }
  ~StderrCapture() {
    ::dup2(saved_, 2);
    ::close(saved_);
    ::close(read_);
  }
  // Reads what arrived until `text` appears or the time runs out.
  std::string wait_for(const std::string& text) {
    for (int i = 0; i < 5000 && got_.find(text) == std::string::npos; ++i) {
      char buffer[4096];
      ssize_t n = ::read(read_, buffer, sizeof buffer);
      if (n > 0) {
        got_.append(buffer, static_cast<std::size_t>(n));
      } else {
        std::this_thread::sleep_for(1ms);
      }
    }
    return got_;
  }

 private:
  int saved_ = -1;
  int read_ = -1;
  std::string got_;
};

TEST(SignalDump, writes_the_dump_to_stderr_on_the_signal) {
  RunningProgram program;
  debug::install_signal_dump({.signal = SIGUSR1});
  std::string got;
  {
    StderrCapture capture;
    std::raise(SIGUSR1);
    got = capture.wait_for("\"stuck\"");
  }
  debug::uninstall_signal_dump();
  EXPECT_NE(got.find("chanfuzz: 4 tasks on 1 executor"), std::string::npos) << got;
  EXPECT_NE(got.find("\"stuck\" [chan receive"), std::string::npos) << got;
  program.finish();
  EXPECT_EQ(program.result().outcome, ThreadRunResult::Outcome::ok);
}

TEST(SignalDump, rejects_signals_that_cannot_be_caught) {
  EXPECT_THROW(debug::install_signal_dump({.signal = SIGKILL}), std::invalid_argument);
  EXPECT_THROW(debug::install_signal_dump({.signal = 0}), std::invalid_argument);
  EXPECT_THROW(debug::install_signal_dump({.signal = 100000}), std::invalid_argument);
}

#if CHANFUZZ_HAVE_HTTP

TEST(Serve, endpoints_answer_with_the_live_tasks) {
  RunningProgram program;
  auto server = debug::serve(0);
  ASSERT_GT(server->port(), 0);
  httplib::Client client("127.0.0.1", server->port());

  auto text = client.Get("/debug/tasks");
  ASSERT_TRUE(text);
  EXPECT_EQ(text->status, 200);
  EXPECT_NE(text->body.find("chanfuzz: 4 tasks on 1 executor"), std::string::npos) << text->body;
  EXPECT_NE(text->body.find("\"stuck\" [chan receive"), std::string::npos) << text->body;

  auto json = client.Get("/debug/tasks?format=json");
  ASSERT_TRUE(json);
  EXPECT_EQ(json->status, 200);
  EXPECT_EQ(json->get_header_value("Content-Type"), "application/json");
  EXPECT_NE(json->body.find("\"name\": \"stuck\""), std::string::npos) << json->body;
  EXPECT_NE(json->body.find("\"state\": \"chan receive\""), std::string::npos) << json->body;

  auto count = client.Get("/debug/tasks/count");
  ASSERT_TRUE(count);
  EXPECT_EQ(count->body, "4\n");

  auto bad = client.Get("/debug/tasks?format=xml");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);

  auto leaks = client.Get("/debug/leaks");
  ASSERT_TRUE(leaks);
  EXPECT_EQ(leaks->status, 200);
  EXPECT_EQ(leaks->body, "chanfuzz: no leaked tasks (4 tasks on 1 executor checked)\n");

  program.finish();
  auto after = client.Get("/debug/tasks/count");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->body, "0\n");
  server->stop();
  EXPECT_FALSE(client.Get("/debug/tasks/count"));
}

TEST(Serve, leaks_endpoint_shows_the_leaked_tasks) {
  RunningProgram program(1);
  auto server = debug::serve(0);
  httplib::Client client("127.0.0.1", server->port());
  auto text = client.Get("/debug/leaks");
  ASSERT_TRUE(text);
  EXPECT_EQ(text->status, 200);
  EXPECT_NE(text->body.find("chanfuzz: leak: 1 task blocked forever"), std::string::npos)
      << text->body;
  EXPECT_NE(text->body.find("\"orphan\" [chan receive"), std::string::npos) << text->body;
  EXPECT_EQ(text->body.find("\"stuck\""), std::string::npos) << text->body;
  auto json = client.Get("/debug/leaks?format=json");
  ASSERT_TRUE(json);
  EXPECT_EQ(json->get_header_value("Content-Type"), "application/json");
  EXPECT_NE(json->body.find("\"name\": \"orphan\""), std::string::npos) << json->body;
  auto bad = client.Get("/debug/leaks?format=yaml");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
}

TEST(Serve, a_busy_port_is_a_clear_error) {
  auto first = debug::serve(0);
  try {
    auto second = debug::serve(first->port());
    FAIL() << "two servers on one port";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot listen on 127.0.0.1:"), std::string::npos);
  }
  EXPECT_THROW(debug::serve(70000), std::invalid_argument);
}

#endif

}  // namespace
