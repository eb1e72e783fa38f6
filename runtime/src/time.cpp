// now(), sleep_for() and after().
#include "chanfuzz/time.hpp"

namespace chanfuzz {

Clock::time_point Clock::now() { return require_executor("now").now(); }

TimePoint now() { return require_executor("now").now(); }

SleepOp::~SleepOp() {
  if (executor_ && armed()) executor_->cancel_timer(this);
}

bool SleepOp::await_suspend(std::coroutine_handle<> self) {
  self_ = self;
  return detail::suspend_at_scheduling_point(*this, self, "sleep", where_);
}

bool SleepOp::attempt() {
  if (duration_ <= Duration::zero()) return true;
  executor_ = current_executor();
  task_ = executor_->current_task();
  when = executor_->now() + duration_;
  // Block first: on threads the timer may fire on another worker as soon as
  // it is armed, and wake() needs the task already blocked.
  executor_->block(self_, WaitReason::sleep, where_, nullptr);
  executor_->add_timer(this);
  return false;
}

void SleepOp::fire() { task_->executor->wake(task_); }

SleepOp sleep_for(Duration d, SourceLocation where) { return SleepOp(d, where); }

namespace {

// The timer behind after(): sends the time, if there is room, then deletes
// itself. Owned by the executor's timer queue while armed.
class AfterTimer final : public TimerNode {
 public:
  AfterTimer(Chan<TimePoint> channel, Executor* executor) noexcept
      : channel_(std::move(channel)), executor_(executor) {}

  void fire() override {
    auto& state = *channel_.state();
    TimePoint value = executor_->now();
    detail::Waiter* woken = nullptr;
    state.lock.lock();
    if (!state.closed) state.send_locked(value, woken);  // full: dropped, as Go's sendTime
    state.lock.unlock();
    if (woken) detail::wake_waiter(woken);
    delete this;
  }
  void discard() noexcept override { delete this; }

 private:
  Chan<TimePoint> channel_;
  Executor* executor_;
};

}  // namespace

Chan<TimePoint> after(Duration d, SourceLocation where) {
  Executor& executor = require_executor("after");
  auto channel = make_chan<TimePoint>(1, where);
  auto* timer = new AfterTimer(channel, &executor);
  timer->when = executor.now() + (d > Duration::zero() ? d : Duration::zero());
  executor.add_timer(timer);
  return channel;
}

}  // namespace chanfuzz
