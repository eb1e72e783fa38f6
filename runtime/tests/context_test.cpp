// Context: Go's context cancellation (background, with_cancel, with_timeout,
// with_deadline), on the virtual clock.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim_test_support.hpp"

namespace chanfuzz {
namespace {

using namespace std::chrono_literals;
using testing::expect_ok;
using testing::run_once;
using testing::seed_count;

using testing::statistical_seeds;

constexpr int kDescendants = 1000;

// done() is closed: a receive completes at once with ok == false.
bool done_closed(const Context& ctx) {
  auto r = ctx.done().try_recv();
  return r.has_value() && !r->ok;
}
// done() is open: a receive would block.
bool done_open(const Context& ctx) { return !ctx.done().try_recv().has_value(); }

TEST(Context, background_has_a_nil_done_channel_no_error_and_no_deadline) {
  Context ctx = background();
  EXPECT_FALSE(static_cast<bool>(ctx.done()));
  EXPECT_EQ(ctx.err(), ContextError::none);
  EXPECT_FALSE(ctx.deadline().has_value());
  EXPECT_TRUE(ctx == Context());
}

TEST(Context, error_messages_are_gos) {
  EXPECT_STREQ(context_error_message(ContextError::none), "");
  EXPECT_STREQ(context_error_message(ContextError::canceled), "context canceled");
  EXPECT_STREQ(context_error_message(ContextError::deadline_exceeded), "context deadline exceeded");
}

TEST(Context, cancel_closes_done_sets_canceled_and_is_idempotent) {
  expect_ok([]() -> Task<> {
    auto [ctx, cancel] = with_cancel(background());  // clang 14 cannot capture structured bindings
    Context watched = ctx;
    CF_EXPECT(static_cast<bool>(ctx.done()));
    CF_EXPECT(ctx.err() == ContextError::none);
    CF_EXPECT(done_open(ctx));
    auto woken = make_chan<bool>(1);
    go([watched, woken]() -> Task<> {
      auto r = co_await watched.done().recv();
      co_await woken.send(!r.ok);
    });
    co_await yield();
    cancel();
    CF_EXPECT(ctx.err() == ContextError::canceled);
    CF_EXPECT(done_closed(ctx));
    cancel();  // a second close of done would panic
    cancel();
    CF_EXPECT(ctx.err() == ContextError::canceled);
    auto r = co_await woken.recv();
    CF_EXPECT(r.ok && r.value);
  });
}

TEST(Context, cancel_propagates_down_a_chain_1000_deep) {
  expect_ok([]() -> Task<> {
    auto root = with_cancel(background());
    std::vector<Context> chain{root.first};
    for (int i = 0; i < kDescendants; ++i) chain.push_back(with_cancel(chain.back()).first);
    // A few tasks wait on contexts deep in the chain.
    WaitGroup wg;
    for (int depth : {1, 500, kDescendants}) {
      wg.add(1);
      go([ctx = chain[static_cast<std::size_t>(depth)], wg]() -> Task<> {
        auto r = co_await ctx.done().recv();
        CF_EXPECT(!r.ok);
        wg.done();
      });
    }
    co_await yield();
    for (const Context& ctx : chain) CF_EXPECT(done_open(ctx));
    root.second();
    for (const Context& ctx : chain) {
      CF_EXPECT(ctx.err() == ContextError::canceled);
      CF_EXPECT(done_closed(ctx));
    }
    co_await wg.wait();
  });
}

TEST(Context, cancel_propagates_to_a_fan_of_1000_children) {
  expect_ok([]() -> Task<> {
    auto root = with_cancel(background());
    std::vector<Context> children;
    for (int i = 0; i < kDescendants; ++i) children.push_back(with_cancel(root.first).first);
    WaitGroup wg;
    for (std::size_t k : {std::size_t{0}, std::size_t{499}, std::size_t{999}}) {
      wg.add(1);
      go([ctx = children[k], wg]() -> Task<> {
        auto r = co_await ctx.done().recv();
        CF_EXPECT(!r.ok);
        wg.done();
      });
    }
    co_await yield();
    root.second();
    CF_EXPECT(root.first.err() == ContextError::canceled);
    for (const Context& ctx : children) {
      CF_EXPECT(ctx.err() == ContextError::canceled);
      CF_EXPECT(done_closed(ctx));
    }
    co_await wg.wait();
  });
}

TEST(Context, a_child_never_cancels_its_parent_or_siblings) {
  expect_ok([]() -> Task<> {
    auto parent = with_cancel(background());
    auto child = with_cancel(parent.first);
    auto sibling = with_cancel(parent.first);
    auto grandchild = with_cancel(child.first);
    child.second();
    CF_EXPECT(child.first.err() == ContextError::canceled);
    CF_EXPECT(grandchild.first.err() == ContextError::canceled);
    CF_EXPECT(done_closed(grandchild.first));
    CF_EXPECT(parent.first.err() == ContextError::none);
    CF_EXPECT(done_open(parent.first));
    CF_EXPECT(sibling.first.err() == ContextError::none);
    CF_EXPECT(done_open(sibling.first));
    // The parent still cancels what is left.
    parent.second();
    CF_EXPECT(sibling.first.err() == ContextError::canceled);
    co_return;
  });
}

TEST(Context, a_child_of_a_cancelled_parent_starts_cancelled) {
  expect_ok([]() -> Task<> {
    auto parent = with_cancel(background());
    parent.second();
    auto child = with_cancel(parent.first);
    CF_EXPECT(child.first.err() == ContextError::canceled);
    CF_EXPECT(done_closed(child.first));
    auto timed = with_timeout(parent.first, 1h);
    CF_EXPECT(timed.first.err() == ContextError::canceled);
    // A child of a context past its deadline inherits deadline_exceeded.
    auto expired = with_timeout(background(), 1ms);
    co_await sleep_for(2ms);
    auto late = with_cancel(expired.first);
    CF_EXPECT(late.first.err() == ContextError::deadline_exceeded);
    CF_EXPECT(done_closed(late.first));
  });
}

// A busy task yields meanwhile: schedules differ, and the clock may be
// advanced early to the deadline, but never past it.
TEST(Context, with_timeout_fires_at_exactly_its_virtual_deadline) {
  expect_ok([]() -> Task<> {
    go([]() -> Task<> {
      for (int i = 0; i < 50; ++i) co_await yield();
    });
    co_await sleep_for(3ms);
    TimePoint start = now();
    auto [ctx, cancel] = with_timeout(background(), 250ms);
    CF_EXPECT(ctx.deadline() == start + 250ms);
    CF_EXPECT(ctx.err() == ContextError::none);
    auto r = co_await ctx.done().recv();
    CF_EXPECT(!r.ok);
    CF_EXPECT(now() == start + 250ms);
    CF_EXPECT(ctx.err() == ContextError::deadline_exceeded);
    cancel();  // after the deadline: keeps deadline_exceeded
    CF_EXPECT(ctx.err() == ContextError::deadline_exceeded);
  });
}

// Without clock jumps the deadline cannot pass while tasks can run, so the
// cancel always comes first.
TEST(Context, cancel_before_the_deadline_gives_canceled_and_disarms_the_timer) {
  SimOptions no_jumps;
  no_jumps.clock_jumps = false;
  for (std::uint64_t seed = 1; seed <= seed_count(); ++seed) {
    RunResult result = run_once(
        []() -> Task<> {
          auto [ctx, cancel] = with_timeout(background(), 1s);
          auto child = with_timeout(ctx, 2s);
          go([]() -> Task<> {
            for (int i = 0; i < 5; ++i) co_await yield();
          });
          for (int i = 0; i < 5; ++i) co_await yield();
          cancel();
          CF_EXPECT(ctx.err() == ContextError::canceled);
          CF_EXPECT(child.first.err() == ContextError::canceled);
          CF_EXPECT(done_closed(ctx));
        },
        seed, no_jumps);
    ASSERT_EQ(result.outcome, RunOutcome::ok)
        << "seed " << seed << ": " << testing::describe(result);
    // A timer still armed would keep the run going until it fired.
    EXPECT_EQ(result.end_time, TimePoint{}) << "seed " << seed;
  }
  expect_ok([]() -> Task<> {
    auto [ctx, cancel] = with_timeout(background(), 1s);
    cancel();
    co_await sleep_for(5s);  // long past the deadline
    CF_EXPECT(ctx.err() == ContextError::canceled);
  });
}

TEST(Context, with_deadline_in_the_past_is_cancelled_at_once) {
  expect_ok([]() -> Task<> {
    co_await sleep_for(10ms);
    auto past = with_deadline(background(), TimePoint{} + 5ms);
    CF_EXPECT(past.first.err() == ContextError::deadline_exceeded);
    CF_EXPECT(done_closed(past.first));
    CF_EXPECT(past.first.deadline() == TimePoint{} + 5ms);
    auto present = with_deadline(background(), now());
    CF_EXPECT(present.first.err() == ContextError::deadline_exceeded);
    auto negative = with_timeout(background(), -1s);
    CF_EXPECT(negative.first.err() == ContextError::deadline_exceeded);
    CF_EXPECT(now() == TimePoint{} + 10ms);
  });
}

// Clock jumps off: with two deadlines pending, a jump could otherwise pass
// both before the first wait is observed.
TEST(Context, a_childs_deadline_is_the_earlier_of_its_parents_and_its_own) {
  SimOptions no_jumps;
  no_jumps.clock_jumps = false;
  testing::expect_outcome(
      []() -> Task<> {
        auto parent = with_deadline(background(), TimePoint{} + 10ms);
        auto later = with_deadline(parent.first, TimePoint{} + 20ms);
        auto earlier = with_deadline(parent.first, TimePoint{} + 5ms);
        CF_EXPECT(later.first.deadline() == TimePoint{} + 10ms);
        CF_EXPECT(earlier.first.deadline() == TimePoint{} + 5ms);
        auto r = co_await earlier.first.done().recv();
        CF_EXPECT(!r.ok && now() == TimePoint{} + 5ms);
        CF_EXPECT(earlier.first.err() == ContextError::deadline_exceeded);
        CF_EXPECT(parent.first.err() == ContextError::none);
        CF_EXPECT(later.first.err() == ContextError::none);
        r = co_await later.first.done().recv();
        CF_EXPECT(!r.ok && now() == TimePoint{} + 10ms);  // at the parent's deadline
        CF_EXPECT(later.first.err() == ContextError::deadline_exceeded);
        CF_EXPECT(parent.first.err() == ContextError::deadline_exceeded);
      },
      RunOutcome::ok, seed_count(), no_jumps);
}

TEST(Context, deadline_reports_the_effective_deadline) {
  expect_ok([]() -> Task<> {
    co_await sleep_for(1ms);
    TimePoint start = now();
    CF_EXPECT(!background().deadline().has_value());
    auto plain = with_cancel(background());
    CF_EXPECT(!plain.first.deadline().has_value());
    auto timed = with_timeout(background(), 3s);
    CF_EXPECT(timed.first.deadline() == start + 3s);
    auto inherited = with_cancel(timed.first);
    CF_EXPECT(inherited.first.deadline() == start + 3s);
    auto absolute = with_deadline(plain.first, TimePoint{} + 7s);
    CF_EXPECT(absolute.first.deadline() == TimePoint{} + 7s);
    timed.second();
    absolute.second();
  });
}

TEST(Context, a_task_blocked_in_select_on_done_is_woken_by_cancel) {
  auto blocked_first = std::make_shared<int>(0);
  expect_ok(
      [blocked_first]() -> Task<> {
        auto [ctx, cancel] = with_cancel(background());
        Context watched = ctx;  // clang 14 cannot capture structured bindings
        auto work = make_chan<int>();
        auto reply = make_chan<int>();
        go([watched, work, reply]() -> Task<> {
          int handled = 0;
          for (;;) {
            auto s = co_await select(work.recv(), watched.done().recv());
            if (s.index() == 1) break;
            ++handled;
          }
          CF_EXPECT(watched.err() == ContextError::canceled);
          co_await reply.send(handled);
        });
        co_await work.send(1);
        co_await work.send(2);
        for (int i = 0; i < 3; ++i) co_await yield();
        for (const TaskInfo& task : current_executor()->tasks()) {
          if (task.id == 2 && task.state == "select") ++*blocked_first;
        }
        cancel();
        auto r = co_await reply.recv();
        CF_EXPECT(r.ok && r.value == 2);
      },
      statistical_seeds());
  EXPECT_GT(*blocked_first, 0) << "the worker was never blocked in select when cancelled";
}

}  // namespace
}  // namespace chanfuzz
