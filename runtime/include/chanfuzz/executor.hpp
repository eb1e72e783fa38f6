// Executor: the interface between the runtime and whatever runs its tasks.
//
// Two executors implement it: SimExecutor (harness/: one thread, virtual
// clock, every choice a recorded decision) and ThreadExecutor (real threads,
// real clock). The runtime's operations talk to the current executor only
// through this interface; the harness sees the runtime only through it and
// the public headers.
//
// The protocol of one blocking-capable operation (send, recv, select, lock,
// wait, sleep, yield), all inside the awaiter's await_suspend:
//
//   1. schedule_point(operation, where, subject): the executor may decide to run another task
//      first. true: go on at once (the fast path, nothing is suspended).
//      false: call preempt(self, op) and suspend; when the executor picks the
//      task again it calls op->attempt() on the task's behalf.
//   2. attempt(): under the object's lock, complete the operation if it can
//      (return true: the task continues), or link a waiter into the object's
//      queue and call block(self, reason, where, blocker) (return false).
//   3. Whoever later completes the operation for the waiter (a sender for a
//      blocked receiver, close, a timer) unlinks it, fills in the result,
//      and calls wake(task) after releasing its locks. The executor resumes
//      the task's innermost coroutine. wake(task, op) instead asks the
//      executor to call op->attempt() again first (a woken mutex waiter
//      competes for the lock again, as in Go).
//
// Non-suspending operations (try_send, try_recv, close) call poll_point()
// so that a task that only polls still counts steps and can be cut off.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "chanfuzz/clock.hpp"
#include "chanfuzz/debug.hpp"
#include "chanfuzz/panic.hpp"
#include "chanfuzz/source_location.hpp"
#include "chanfuzz/task.hpp"

namespace chanfuzz {

class Executor;

// Why a task waits: Go's wait reasons, printed as Go prints them.
enum class WaitReason : std::uint8_t {
  none,
  chan_send,         // "chan send"
  chan_receive,      // "chan receive"
  chan_send_nil,     // "chan send (nil chan)"
  chan_receive_nil,  // "chan receive (nil chan)"
  select,            // "select"
  select_no_cases,   // "select (no cases)"
  mutex_lock,        // "sync.Mutex.Lock"
  wait_group_wait,   // "sync.WaitGroup.Wait"
  sleep,             // "sleep"
};
const char* wait_reason_name(WaitReason reason) noexcept;

// What kind of nondeterministic choice an executor makes. The simulator
// records each as a decision of the trace.
enum class DecisionKind : std::uint8_t {
  task = 0,         // which runnable task runs next (or: advance the clock)
  select_case = 1,  // which ready case a select takes
  timer = 2,        // which of several due timers fires first
  random = 3,       // chanfuzz::random(n)
};
const char* decision_kind_name(DecisionKind kind) noexcept;

enum class TaskState : std::uint8_t { runnable, running, waiting, finished };

// An operation the executor must (re)try on a task's behalf before resuming
// it: after a preemption at its scheduling point, or after a wake-up that only
// means "try again" (mutex).
class PendingOp {
 public:
  // true: the operation completed; the executor resumes the task.
  // false: it blocked; it has called Executor::block.
  virtual bool attempt() = 0;

 protected:
  ~PendingOp() = default;
};

namespace detail {
class TrackedObject;
}

// What a blocked operation waits on, for dumps and reports.
class Blocker {
 public:
  virtual void describe(std::vector<WaitObject>& out) const = 0;
  // For online leak detection (detail/tracking.hpp): appends each object this
  // operation waits on, once per reference to it the operation holds, and
  // returns true; nothing appended means it waits on nothing that can wake
  // it (a nil channel). false: unknown (the task is never reported leaked).
  virtual bool references(std::vector<const detail::TrackedObject*>& /*out*/) const {
    return false;
  }

 protected:
  ~Blocker() = default;
};

// One task (Go's g). Owned by its executor.
//
// Invariants:
//   state == waiting   => wait_reason != none, resume_handle suspended
//   state == runnable  => resume_handle suspended (or not yet started)
//   pending != nullptr => state is runnable or running
//   state == finished  => task.done()
struct TaskRecord {
  std::uint64_t id = 0;
  std::string name;
  Executor* executor = nullptr;
  Task<void> task;                        // the root coroutine given to go()
  std::coroutine_handle<> resume_handle;  // the innermost suspended coroutine
  PendingOp* pending = nullptr;           // attempt() before resuming, if set
  TaskState state = TaskState::runnable;
  WaitReason wait_reason = WaitReason::none;
  SourceLocation blocked_at;  // the last scheduling point reached
  const Blocker* blocker = nullptr;
  std::uint64_t blocked_step = 0;
  TimePoint blocked_time{};
  SourceLocation created_at;
  std::uint64_t parent_id = 0;
  std::size_t slot = 0;  // free for the executor's bookkeeping

  // A snapshot for dumps; `step` and `now` are the executor's current ones.
  TaskInfo info(std::uint64_t step, TimePoint now) const;
};

// A timer the executor fires at `when`. The object belongs to whoever
// armed it; the executor only links it into its queue.
class TimerNode {
 public:
  static constexpr std::size_t npos = std::numeric_limits<std::size_t>::max();

  TimePoint when{};

  // Due: runs on the executor, outside any task; must not block. May destroy
  // the node (the executor does not touch it afterwards).
  virtual void fire() = 0;
  // The executor shuts down with this timer still armed. May destroy the node.
  virtual void discard() noexcept {}

  bool armed() const noexcept { return heap_index != npos; }

  // Executor bookkeeping.
  std::size_t heap_index = npos;
  std::uint64_t sequence = 0;

 protected:
  ~TimerNode() = default;
};

class Executor {
 public:
  virtual ~Executor();

  // ---- tasks (called from the executor's own threads) ----
  virtual void spawn(Task<void> task, std::string name, SourceLocation where) = 0;
  // The task running on this thread, or null (timer callbacks, teardown).
  virtual TaskRecord* current_task() noexcept = 0;
  virtual std::size_t num_tasks() const = 0;
  // Snapshots of every live task, by id.
  virtual std::vector<TaskInfo> tasks() const = 0;

  // ---- scheduling (see the protocol above) ----
  // `operation` names it as Go names the wait ("chan send", "select",
  // "sync.Mutex.Lock", "sleep", "yield"); `subject` describes what it acts on
  // (may be null). Both are for logs and reports.
  virtual bool schedule_point(const char* operation, SourceLocation where,
                              const Blocker* subject) = 0;
  virtual void poll_point(const char* operation, SourceLocation where) = 0;
  // The same, naming the object it acts on (its new_object_id(); 0: none),
  // for observers that track which objects operations touch.
  virtual void poll_point_on(const char* operation, SourceLocation where, std::uint64_t object) {
    (void)object;
    poll_point(operation, where);
  }
  // The running code changed `object` (its new_object_id()) with no
  // operation of its own: a Context's cancel closed its done channel, a
  // LockGuard unlocked its mutex. No step and no decision: for observers
  // that track which objects the code touches (dfs's reduction).
  virtual void note_change(const char* operation, std::uint64_t object) {
    (void)operation;
    (void)object;
  }
  // Whether go(fn, args...) should fingerprint its closure for spawn()
  // (detail::SpawnOrigin): only observers that compare tasks use it.
  virtual bool wants_spawn_origins() const noexcept { return false; }
  // The running task declared its state at `where` (chanfuzz::checkpoint):
  // no step, no decision; for observers that key states on it (dfs).
  virtual void note_checkpoint(std::uint64_t state, SourceLocation where) {
    (void)state;
    (void)where;
  }
  virtual void preempt(std::coroutine_handle<> self, PendingOp* op) = 0;
  virtual void block(std::coroutine_handle<> self, WaitReason reason, SourceLocation where,
                     const Blocker* blocker) = 0;
  // May be called from any thread, with no runtime lock held.
  virtual void wake(TaskRecord* task, PendingOp* retry = nullptr) = 0;
  // A choice in [0, n), n >= 2: a select case or random().
  virtual std::uint64_t choose(DecisionKind kind, std::uint64_t n) = 0;

  // ---- time ----
  virtual TimePoint now() const = 0;
  virtual void add_timer(TimerNode* timer) = 0;
  // true if it was armed and is now disarmed.
  virtual bool cancel_timer(TimerNode* timer) = 0;

  // ---- object ids, for reports ----
  virtual std::uint64_t new_object_id() = 0;
};

// The executor running on this thread, or null. Non-inline on purpose
// (TOOLCHAIN.md pitfall 5).
Executor* current_executor() noexcept;
// The same, or std::logic_error naming `operation` when there is none.
Executor& require_executor(const char* operation);

namespace detail {

// Runs steps 1-2 of the protocol above for one operation, from its
// await_suspend. Returns what await_suspend returns (true: stay suspended).
template <class Op>
bool suspend_at_scheduling_point(Op& op, std::coroutine_handle<> self, const char* operation,
                                 SourceLocation where) {
  Executor& executor = require_executor(operation);
  const Blocker* subject = nullptr;
  if constexpr (std::is_base_of_v<Blocker, Op>) subject = &op;
  if (!executor.schedule_point(operation, where, subject)) {
    executor.preempt(self, &op);
    return true;
  }
  return !op.attempt();
}

// The step of a non-suspending operation (no-op outside an executor).
inline void poll_point(const char* operation, SourceLocation where) {
  if (Executor* executor = current_executor()) executor->poll_point(operation, where);
}
inline void poll_point(const char* operation, SourceLocation where, std::uint64_t object) {
  if (Executor* executor = current_executor()) executor->poll_point_on(operation, where, object);
}

// See Executor::note_change (no-op outside an executor).
inline void note_change(const char* operation, std::uint64_t object) {
  if (Executor* executor = current_executor()) executor->note_change(operation, object);
}

}  // namespace detail

// Sets the current executor for a scope and restores the previous one.
class CurrentExecutorScope {
 public:
  explicit CurrentExecutorScope(Executor* executor) noexcept;
  ~CurrentExecutorScope();
  CurrentExecutorScope(const CurrentExecutorScope&) = delete;
  CurrentExecutorScope& operator=(const CurrentExecutorScope&) = delete;

 private:
  Executor* previous_;
};

}  // namespace chanfuzz
