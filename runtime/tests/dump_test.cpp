// dump_tasks, write_task and TaskInfo: Go's goroutine dump for tasks, with
// every wait reason attached to the operation that blocks.
#include <chrono>
#include <cstdint>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "sim_test_support.hpp"

namespace chanfuzz {
namespace {

using namespace std::chrono_literals;
using testing::expect_ok;
using testing::run_once;
using testing::seed_count;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string written(const TaskInfo& task) {
  std::ostringstream out;
  write_task(out, task);
  return out.str();
}

// The paragraph of a dump that describes task `id`.
std::string section_of(const std::string& dump, std::uint64_t id) {
  std::string head = "task " + std::to_string(id) + " ";
  std::size_t begin = dump.find(head);
  if (begin == std::string::npos) return "";
  std::size_t end = dump.find("\n\n", begin);
  return dump.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

std::string state_of(std::uint64_t id) {
  for (const TaskInfo& task : current_executor()->tasks()) {
    if (task.id == id) return task.state;
  }
  return "absent";
}

Task<> block_forever() {
  Chan<int> nil;
  co_await nil.recv();
}

// Yields until task `id` exists and waits in an operation.
Task<> until_blocked(std::uint64_t id) {
  for (int i = 0; i < 10000; ++i) {
    std::string state = state_of(id);
    if (state != "runnable" && state != "running" && state != "absent") co_return;
    co_await yield();
  }
  throw testing::ExpectationFailed("task " + std::to_string(id) + " never blocked");
}

TEST(DumpTasks, blocked_sender_shows_id_name_state_steps_location_channel_and_creator) {
  for (std::uint64_t seed = 1; seed <= seed_count(); ++seed) {
    auto dump = std::make_shared<std::string>();
    auto lines = std::make_shared<std::vector<std::uint32_t>>();
    RunResult result = run_once(
        [dump, lines]() -> Task<> {
          const std::uint32_t make_line = __LINE__ + 1;
          auto ch = make_chan<int>();
          const std::uint32_t send_line = __LINE__ + 1;  // keep: the send is on the next line
          auto producer = [ch]() -> Task<> { co_await ch.send(7); };
          const std::uint32_t spawn_line = __LINE__ + 1;
          go("producer", producer);
          *lines = {make_line, send_line, spawn_line};
          co_await until_blocked(2);
          co_await yield();  // a step while it waits: the dump counts them
          std::ostringstream out;
          dump_tasks(out);
          *dump = out.str();
          auto r = co_await ch.recv();
          CF_EXPECT(r.ok && r.value == 7);
        },
        seed);
    ASSERT_EQ(result.outcome, RunOutcome::ok) << testing::describe(result);
    const std::string task = section_of(*dump, 2);
    SCOPED_TRACE("seed " + std::to_string(seed) + ", dump:\n" + *dump);
    const std::string file = "dump_test.cpp:";
    EXPECT_TRUE(
        std::regex_search(task, std::regex(R"(^task 2 "producer" \[chan send, [0-9]+ steps?\]:)")));
    EXPECT_TRUE(contains(task, file + std::to_string((*lines)[1]) + "\n"));
    EXPECT_TRUE(contains(task, "chan int #"));
    EXPECT_TRUE(contains(task, "cap 0"));
    EXPECT_TRUE(contains(task, "1 sender,"));
    EXPECT_TRUE(contains(task, "made at ") && contains(task, file + std::to_string((*lines)[0])));
    EXPECT_TRUE(std::regex_search(
        task, std::regex("\ncreated by .* in task 1 at .*" + file + std::to_string((*lines)[2]))));
    // The running task is listed too.
    EXPECT_TRUE(contains(*dump, "task 1 \"main\" [running]"));
  }
}

TEST(DumpTasks, outside_an_executor_writes_a_note) {
  std::ostringstream out;
  dump_tasks(out);
  EXPECT_FALSE(out.str().empty());
  EXPECT_TRUE(contains(out.str(), "no executor")) << out.str();
}

// One way to block, the wait reason it must show, and what the dump must
// say about the object waited on.
struct BlockingCase {
  const char* state;
  std::function<Task<void>()> make;  // main spawns the blocking task, then returns
  std::vector<std::string> object_parts;
};

std::vector<BlockingCase> blocking_cases() {
  return {
      {"chan send",
       []() -> Task<> {
         auto ch = make_chan<int>(1);
         co_await ch.send(0);  // fill the buffer
         go([ch]() -> Task<> { co_await ch.send(1); });
       },
       {"chan int #", "cap 1, len 1", "1 sender, 0 receivers"}},
      {"chan receive",
       []() -> Task<> {
         auto ch = make_chan<std::string>();
         go([ch]() -> Task<> {
           auto r = co_await ch.recv();
           (void)r;
         });
         co_return;
       },
       {"chan std::string #", "cap 0", "0 senders, 1 receiver"}},
      {"chan send (nil chan)",
       []() -> Task<> {
         go([]() -> Task<> {
           Chan<int> nil;
           co_await nil.send(1);
         });
         co_return;
       },
       {"nil chan int"}},
      {"chan receive (nil chan)",
       []() -> Task<> {
         go([]() -> Task<> {
           Chan<double> nil;
           auto r = co_await nil.recv();
           (void)r;
         });
         co_return;
       },
       {"nil chan double"}},
      {"select",
       []() -> Task<> {
         auto a = make_chan<int>();
         auto b = make_chan<Unit>(2);
         b.try_send(Unit{});
         b.try_send(Unit{});
         go([a, b]() -> Task<> {
           auto s = co_await select(a.recv(), b.send(Unit{}));
           (void)s;
         });
         co_return;
       },
       {"receive from chan int #", "send on chan Unit #", "cap 2, len 2"}},
      {"select",  // only nil cases and no default: blocks forever, as in Go
       []() -> Task<> {
         go([]() -> Task<> {
           Chan<int> nil;
           auto s = co_await select(nil.recv(), nil.send(1));
           (void)s;
         });
         co_return;
       },
       {"receive from nil chan int", "send on nil chan int"}},
      // "select (no cases)" is not covered: `co_await select()` does not
      // compile (SelectResult<> holds a std::variant<>, which is ill-formed).
      {"sync.Mutex.Lock",
       []() -> Task<> {
         Mutex mu;
         co_await mu.lock();
         go([mu]() -> Task<> { co_await mu.lock(); });
       },
       {"sync.Mutex #", "locked; 1 task waiting"}},
      {"sync.WaitGroup.Wait",
       []() -> Task<> {
         WaitGroup wg;
         wg.add(2);
         wg.done();
         go([wg]() -> Task<> { co_await wg.wait(); });
         co_return;
       },
       {"sync.WaitGroup #", "counter 1; 1 task waiting"}},
  };
}

TEST(TaskInfo, every_wait_reason_is_reported_for_its_operation) {
  for (const BlockingCase& c : blocking_cases()) {
    SCOPED_TRACE(c.state);
    // "task 2 [<state>]" or "task 2 [<state>, <n> steps...]"
    const std::string head = std::string("task 2 [") + c.state;
    for (std::uint64_t seed = 1; seed <= seed_count(); ++seed) {
      RunResult result = run_once(c.make, seed);
      ASSERT_EQ(result.outcome, RunOutcome::leak)
          << "seed " << seed << ": " << testing::describe(result);
      ASSERT_EQ(result.tasks.size(), 1u);
      const TaskInfo& task = result.tasks[0];
      EXPECT_EQ(task.state, c.state) << "seed " << seed;
      EXPECT_EQ(task.id, 2u);
      EXPECT_TRUE(contains(task.blocked_at.file, "dump_test.cpp"));
      const std::string text = written(task);
      EXPECT_TRUE(text.rfind(head + "]", 0) == 0 || text.rfind(head + ",", 0) == 0) << text;
      for (const std::string& part : c.object_parts)
        EXPECT_TRUE(contains(text, part)) << part << " in\n" << text;
    }
  }
}

// A sleeping task is never leaked (its timer fires), so it is looked at
// during the run; without clock jumps the timer cannot fire while main runs.
TEST(TaskInfo, sleeping_task_is_reported_as_sleep) {
  SimOptions options;
  options.clock_jumps = false;
  auto seen = std::make_shared<std::vector<std::string>>();
  testing::expect_outcome(
      [seen]() -> Task<> {
        go("sleeper", []() -> Task<> { co_await sleep_for(1h); });
        co_await until_blocked(2);
        for (const TaskInfo& task : current_executor()->tasks()) {
          if (task.id == 2) seen->push_back(written(task));
        }
        std::ostringstream out;
        dump_tasks(out);
        CF_EXPECT(contains(section_of(out.str(), 2), "task 2 \"sleeper\" [sleep"));
      },
      RunOutcome::ok, seed_count(), options);
  ASSERT_EQ(seen->size(), seed_count());
  for (const std::string& text : *seen)
    EXPECT_TRUE(contains(text, "task 2 \"sleeper\" [sleep")) << text;
}

// Steps and virtual time blocked are both counted: a receiver blocked at 0
// while main sleeps 1.5s before returning.
TEST(TaskInfo, time_blocked_is_virtual_time_since_the_task_blocked) {
  for (std::uint64_t seed = 1; seed <= seed_count(); ++seed) {
    RunResult result = run_once(
        []() -> Task<> {
          auto ch = make_chan<int>();
          go([ch]() -> Task<> {
            auto r = co_await ch.recv();
            (void)r;
          });
          co_await until_blocked(2);
          co_await sleep_for(1500ms);
        },
        seed);
    ASSERT_EQ(result.outcome, RunOutcome::leak) << testing::describe(result);
    ASSERT_EQ(result.tasks.size(), 1u);
    EXPECT_EQ(result.tasks[0].time_blocked, 1500ms);
    EXPECT_GT(result.tasks[0].steps_blocked, 0u);
    EXPECT_TRUE(std::regex_search(written(result.tasks[0]),
                                  std::regex(R"(\[chan receive, [0-9]+ steps?, 1\.5s\])")))
        << written(result.tasks[0]);
  }
}

TEST(TaskInfo, go_records_names_parents_and_creation_sites) {
  for (std::uint64_t seed = 1; seed <= seed_count(); ++seed) {
    RunResult result = run_once(
        []() -> Task<> {
          go("by task", block_forever());
          go("by lambda", []() -> Task<> { co_await block_forever(); });
          go(block_forever());
          co_return;
        },
        seed);
    ASSERT_EQ(result.outcome, RunOutcome::leak) << testing::describe(result);
    ASSERT_EQ(result.tasks.size(), 3u);
    EXPECT_EQ(result.tasks[0].name, "by task");
    EXPECT_EQ(result.tasks[1].name, "by lambda");
    EXPECT_EQ(result.tasks[2].name, "");
    for (const TaskInfo& task : result.tasks) {
      EXPECT_EQ(task.parent_id, 1u);
      EXPECT_NE(std::string(task.created_at.file).find("dump_test.cpp"), std::string::npos);
    }
  }
}

// A task spawned by another task names its parent.
TEST(TaskInfo, created_by_names_the_spawning_task) {
  expect_ok([]() -> Task<> {
    auto ch = make_chan<int>();
    go("parent", [ch]() -> Task<> {
      go("child", [ch]() -> Task<> { co_await ch.send(1); });
      co_return;
    });
    for (int i = 0; i < 3; ++i) co_await yield();
    co_await until_blocked(3);
    std::ostringstream out;
    dump_tasks(out);
    const std::string child = section_of(out.str(), 3);
    CF_EXPECT(contains(child, "task 3 \"child\" [chan send"));
    CF_EXPECT(contains(child, "in task 2 at"));
    auto r = co_await ch.recv();
    CF_EXPECT(r.ok);
  });
}

}  // namespace
}  // namespace chanfuzz
