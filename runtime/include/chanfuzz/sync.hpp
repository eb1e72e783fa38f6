// Mutex and WaitGroup: Go's sync.Mutex and sync.WaitGroup for tasks.
//
// Both are handles: copies share one mutex (one wait group), so a lambda may
// capture them by value. A default-constructed one is ready to use, as Go's
// zero value is.
#pragma once

#include <coroutine>
#include <cstdint>
#include <memory>
#include <utility>

#include "chanfuzz/detail/spin_lock.hpp"
#include "chanfuzz/detail/tracking.hpp"
#include "chanfuzz/detail/wait_queue.hpp"
#include "chanfuzz/executor.hpp"

namespace chanfuzz {

namespace detail {

// Invariants (under lock): !locked => waiters is empty, except for a moment
// after unlock() woke the first waiter and before it runs again.
struct MutexState : TrackedObject {
  explicit MutexState(SourceLocation where);
  mutable SpinLock lock;  // guards the fields below; never held across a wake
  bool locked = false;
  WaitQueue waiters;
  const std::uint64_t id;
  const SourceLocation created_at;
  WaitObject describe() const;
};

// Invariants (under lock): counter >= 0; counter == 0 => waiters is empty.
struct WaitGroupState : TrackedObject {
  explicit WaitGroupState(SourceLocation where);
  mutable SpinLock lock;  // guards the fields below; never held across a wake
  std::int64_t counter = 0;
  WaitQueue waiters;
  const std::uint64_t id;
  const SourceLocation created_at;
  WaitObject describe() const;
};

// Unlocks; panics "sync: unlock of unlocked mutex". Wakes the first waiter.
void unlock_mutex(MutexState& state);

}  // namespace detail

class Mutex;

// Unlocks its mutex when destroyed (unless released or moved from).
class [[nodiscard]] LockGuard {
 public:
  LockGuard() noexcept = default;
  explicit LockGuard(std::shared_ptr<detail::MutexState> state) noexcept
      : state_(std::move(state)) {}
  LockGuard(LockGuard&& other) noexcept = default;
  LockGuard& operator=(LockGuard&& other) noexcept {
    if (this != &other) {
      unlock();
      state_ = std::move(other.state_);
    }
    return *this;
  }
  ~LockGuard() { unlock(); }
  // Unlocks now; a no-op if it no longer owns the lock.
  void unlock();
  bool owns_lock() const noexcept { return static_cast<bool>(state_); }

 private:
  std::shared_ptr<detail::MutexState> state_;
};

// co_await mutex.lock(): blocks while another task holds the mutex
// ("sync.Mutex.Lock"). When the holder unlocks, the first waiter is woken
// and competes for the lock again with tasks that arrive meanwhile (Go's
// normal mode, without its starvation mode).
class [[nodiscard]] LockOp : public PendingOp, public Blocker {
 public:
  LockOp(std::shared_ptr<detail::MutexState> state, SourceLocation where) noexcept
      : state_(std::move(state)), where_(where) {}
  LockOp(LockOp&&) = delete;
  ~LockOp();

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> self);
  void await_resume() noexcept { queued_ = false; }

  bool attempt() override;
  void describe(std::vector<WaitObject>& out) const override;
  bool references(std::vector<const detail::TrackedObject*>& out) const override {
    out.push_back(state_.get());
    return true;
  }
  // unlock() woke this waiter: if it loses the race again, it waits first in line.
  void mark_woken() noexcept { woken_before_ = true; }

 protected:
  std::shared_ptr<detail::MutexState> state_;

 private:
  SourceLocation where_;
  std::coroutine_handle<> self_;
  detail::Waiter waiter_;
  bool queued_ = false;
  bool woken_before_ = false;  // requeue at the front, as Go does for a woken waiter
};

// co_await mutex.scoped(): locks and returns a LockGuard.
class [[nodiscard]] ScopedLockOp : public LockOp {
 public:
  using LockOp::LockOp;
  LockGuard await_resume() noexcept {
    LockOp::await_resume();
    return LockGuard(state_);
  }
};

class Mutex {
 public:
  explicit Mutex(SourceLocation where = SourceLocation::current());

  LockOp lock(SourceLocation where = SourceLocation::current()) const {
    return LockOp(state_.shared(), where);
  }
  // Unlocks. Any task may unlock, as in Go. Panics "sync: unlock of unlocked
  // mutex" if it is not locked.
  void unlock(SourceLocation where = SourceLocation::current()) const;
  // Locks if it is free; never blocks.
  bool try_lock(SourceLocation where = SourceLocation::current()) const;
  ScopedLockOp scoped(SourceLocation where = SourceLocation::current()) const {
    return ScopedLockOp(state_.shared(), where);
  }

  friend bool operator==(const Mutex& a, const Mutex& b) noexcept {
    return a.state_.get() == b.state_.get();
  }

 private:
  detail::TrackedRef<detail::MutexState> state_;  // a registered handle (detail/tracking.hpp)
};

// co_await wg.wait(): blocks until the counter is zero
// ("sync.WaitGroup.Wait").
class [[nodiscard]] WaitGroupOp final : public PendingOp, public Blocker {
 public:
  WaitGroupOp(std::shared_ptr<detail::WaitGroupState> state, SourceLocation where) noexcept
      : state_(std::move(state)), where_(where) {}
  WaitGroupOp(WaitGroupOp&&) = delete;
  ~WaitGroupOp();

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> self);
  void await_resume() noexcept { queued_ = false; }

  bool attempt() override;
  void describe(std::vector<WaitObject>& out) const override;
  bool references(std::vector<const detail::TrackedObject*>& out) const override {
    out.push_back(state_.get());
    return true;
  }

 private:
  std::shared_ptr<detail::WaitGroupState> state_;
  SourceLocation where_;
  std::coroutine_handle<> self_;
  detail::Waiter waiter_;
  bool queued_ = false;
};

class WaitGroup {
 public:
  explicit WaitGroup(SourceLocation where = SourceLocation::current());

  // Adds n (may be negative). Panics "sync: negative WaitGroup counter" if
  // the counter would drop below zero. Reaching zero wakes every waiter.
  void add(std::int64_t n, SourceLocation where = SourceLocation::current()) const;
  void done(SourceLocation where = SourceLocation::current()) const { add(-1, where); }
  WaitGroupOp wait(SourceLocation where = SourceLocation::current()) const {
    return WaitGroupOp(state_.shared(), where);
  }
  // The counter now (for tests and reports).
  std::int64_t count() const noexcept;

 private:
  detail::TrackedRef<detail::WaitGroupState> state_;  // a registered handle (detail/tracking.hpp)
};

}  // namespace chanfuzz
