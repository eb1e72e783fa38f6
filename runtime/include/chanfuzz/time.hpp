// Time: now(), sleep_for() and after(), on the executor's clock.
//
// In SimExecutor the clock is virtual: it starts at zero and advances only
// when no task can run (to the earliest timer), or when the strategy models a
// slow task by jumping to the next timer early. Timeouts cost nothing and
// runs stay deterministic.
#pragma once

#include <coroutine>

#include "chanfuzz/chan.hpp"
#include "chanfuzz/clock.hpp"
#include "chanfuzz/executor.hpp"

namespace chanfuzz {

// The executor's clock. Throws std::logic_error outside an executor.
TimePoint now();

// co_await sleep_for(d): blocks for d ("sleep"); d <= 0 returns at the
// scheduling point.
class [[nodiscard]] SleepOp final : public PendingOp, private TimerNode {
 public:
  SleepOp(Duration d, SourceLocation where) noexcept : duration_(d), where_(where) {}
  SleepOp(SleepOp&&) = delete;
  ~SleepOp();

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> self);
  void await_resume() noexcept {}

  bool attempt() override;

 private:
  void fire() override;

  Duration duration_;
  SourceLocation where_;
  std::coroutine_handle<> self_;
  Executor* executor_ = nullptr;  // where the timer is armed
  TaskRecord* task_ = nullptr;
};

SleepOp sleep_for(Duration d, SourceLocation where = SourceLocation::current());

// Go's time.After: a channel (capacity 1) that receives the time once d has
// passed. The value is dropped if the buffer is full or the channel closed.
// Throws std::logic_error outside an executor.
Chan<TimePoint> after(Duration d, SourceLocation where = SourceLocation::current());

}  // namespace chanfuzz
