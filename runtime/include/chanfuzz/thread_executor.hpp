// ThreadExecutor: the runtime on real threads, with the real clock.
//
//   ThreadExecutor executor({.threads = 2});
//   ThreadRunResult result = executor.run(server());   // returns when main returns
//
// Design (after Go's scheduler, runtime/proc.go):
// - N workers, each with a local run queue and a `runnext` slot. A task woken
//   by a worker goes to that worker's runnext and runs next, cache-hot, as a
//   goroutine readied by a channel operation does in Go; a spawned task too.
//   The task displaced from runnext goes to the local queue's tail.
// - An idle worker takes, in order: its runnext, its local queue, the global
//   queue (tasks made runnable from outside the workers), due timers, and
//   half of another worker's queue (stealing). A small lock per queue
//   instead of a lock-free deque: with a handful of workers the queue
//   operations are uncontended, and a spin lock's acquire and release cost
//   less than the coroutine switch they accompany.
// - A worker that finds nothing spins for a few microseconds before it
//   parks: waking a parked thread costs 7-15 us on this VM, a hand-off to a
//   spinning one ~0.5 us (Go does the same). Parked workers wait on a
//   condition variable, until the next timer is due at the latest.
// - Timers live in one heap under a mutex; workers fire them as they look
//   for work, and a parked worker wakes up for the earliest one.
// - Global deadlock: when every worker is idle, no task is queued, no timer
//   is armed and main has not returned, the run ends as a deadlock (Go's
//   "all goroutines are asleep"). Channel operations made from threads
//   outside the executor can defeat this detection; don't mix them.
//
// The parking protocol, and why a worker never touches a task that another
// worker may be running: a task that blocks calls block() from inside its
// awaiter, under the object's lock, and is marked `parking`. A waker that
// finds it parking only marks it `notified`; the worker that ran it, once
// the coroutine has really suspended and control is back in the worker loop,
// turns `parking` into `waiting` or, if it was notified meanwhile, requeues
// it. So a task is only ever resumed by one worker at a time.
//
// Lock order: channel (several: by address) -> task registry. A queue lock
// is never held while taking another lock, except the park mutex after a
// queue lock is released. No runtime lock is held while a task is woken.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "chanfuzz/detail/spin_lock.hpp"
#include "chanfuzz/executor.hpp"
#include "chanfuzz/rng.hpp"

namespace chanfuzz {

struct ThreadOptions {
  unsigned threads = 0;      // 0: std::thread::hardware_concurrency()
  std::uint64_t seed = 0;    // seeds the select and random() choices (0: from the clock)
  Duration leak_wait{};      // after main returns: how long to wait for the other tasks
                             // to exit (retrying with growing sleeps, as goleak does);
                             // 0 stops at once, as a Go program exits with main
  double clock_speed = 1.0;  // the executor's clock runs this many times faster than the
                             // real one: 1000 makes sleep_for(1s) take 1 ms (stress runs)
  // Online leak detection: run find_leaks() this often (real time) while the
  // program runs; 0: only when find_leaks() is called.
  std::chrono::nanoseconds leak_check_interval{};
  // Called on the detector's thread with the tasks each periodic check newly
  // found leaked. Empty: the report (ThreadExecutor::leak_report) goes to stderr.
  std::function<void(const std::vector<TaskInfo>& leaked)> on_leak{};
};

struct ThreadRunResult {
  enum class Outcome : std::uint8_t { ok, leak, deadlock, panic };
  Outcome outcome = Outcome::ok;
  bool main_returned = false;
  std::string message;          // panic: what escaped; deadlock, leak: a summary
  std::vector<TaskInfo> tasks;  // leaked, deadlocked or panicked tasks
  std::uint64_t tasks_spawned = 0;
  // Every task online leak detection reported while the program ran, in the
  // order found (their state as it was then).
  std::vector<TaskInfo> leaked_while_running;
};
const char* thread_outcome_name(ThreadRunResult::Outcome outcome) noexcept;

class ThreadExecutor final : public Executor {
 public:
  explicit ThreadExecutor(ThreadOptions options = {});
  ~ThreadExecutor() override;
  ThreadExecutor(const ThreadExecutor&) = delete;
  ThreadExecutor& operator=(const ThreadExecutor&) = delete;

  // Runs `main` on the workers; returns when it returned (and, with
  // leak_wait, when the other tasks exited or the wait ran out), when every
  // task is blocked (deadlock), or when a task panicked. Then every task
  // still alive is destroyed. Once per executor. A task that never reaches a
  // scheduling point cannot be stopped: run() waits for it.
  ThreadRunResult run(Task<void> main);

  unsigned threads() const noexcept { return static_cast<unsigned>(workers_.size()); }

  // Online leak detection (detail/tracking.hpp has the model): stops the
  // workers at their next scheduling point, marks what running code can
  // still reach, and returns the blocked tasks that nothing can ever wake
  // and that no earlier call reported (each task is reported once). Errs
  // only towards missing a leak: anything it cannot see (a handle on the
  // heap, a timer, an operation it does not know) counts as reachable.
  // Empty outside run(). Any thread but this executor's own workers (a
  // chanfuzz::Panic there: it waits for them). If a worker does not reach
  // a scheduling point within 200ms, the check gives up and finds nothing.
  std::vector<TaskInfo> find_leaks() const;
  // Every task reported leaked so far in this run.
  std::vector<TaskInfo> leaks_found() const;
  // "chanfuzz: leak: N tasks blocked forever while the program runs" and the
  // tasks in the dump format; "" for none.
  static std::string leak_report(const std::vector<TaskInfo>& leaked);

  // ---- Executor ----
  void spawn(Task<void> task, std::string name, SourceLocation where) override;
  TaskRecord* current_task() noexcept override;
  std::size_t num_tasks() const override { return live_.load(std::memory_order_relaxed); }
  // Consistent once the run is over, or at a deadlock; during a run the
  // states of running tasks may be a moment old.
  std::vector<TaskInfo> tasks() const override;
  bool schedule_point(const char* operation, SourceLocation where, const Blocker* subject) override;
  void poll_point(const char* operation, SourceLocation where) override;
  void preempt(std::coroutine_handle<> self, PendingOp* op) override;
  void block(std::coroutine_handle<> self, WaitReason reason, SourceLocation where,
             const Blocker* blocker) override;
  void wake(TaskRecord* task, PendingOp* retry = nullptr) override;
  std::uint64_t choose(DecisionKind kind, std::uint64_t n) override;
  TimePoint now() const override;
  void add_timer(TimerNode* timer) override;
  bool cancel_timer(TimerNode* timer) override;
  std::uint64_t new_object_id() override {
    return next_object_id_.fetch_add(1, std::memory_order_relaxed);
  }

 private:
  struct ThreadTask;
  struct Worker;

  void worker_loop(Worker& worker);
  ThreadTask* find_work(Worker& worker);
  ThreadTask* steal(Worker& thief);
  void run_task(Worker& worker, ThreadTask* task);
  void finish(Worker& worker, ThreadTask* task);
  void make_runnable(ThreadTask* task);
  void push_global(ThreadTask* task);
  void notify_work();
  bool fire_due_timers();
  bool timer_due() const;  // reads the clock only when a timer is armed
  void park(Worker& worker);
  void stop(ThreadRunResult::Outcome outcome, std::string message, std::vector<TaskInfo> tasks);
  void enter_step(Worker& worker);
  void leave_step(Worker& worker);
  std::vector<ThreadTask*> leaked_now() const;  // the world is stopped
  void leak_monitor();
  std::vector<TaskInfo> live_task_infos() const;
  void teardown();

  const std::chrono::steady_clock::time_point epoch_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;

  // Tasks made runnable outside the workers (main, timers on no worker).
  detail::SpinLock global_lock_;
  std::deque<ThreadTask*> global_queue_;  // guarded by global_lock_

  std::atomic<std::int64_t> queued_{0};  // tasks in queues others can take (not runnext)
  std::atomic<unsigned> idle_{0};        // workers parked or about to park
  std::atomic<unsigned> spinning_{0};    // workers looking for work without parking
  std::mutex park_mutex_;                // guards the parking decision
  std::condition_variable park_cv_;

  // Timers: a binary heap on (when, sequence).
  mutable std::mutex timer_mutex_;  // guards heap_, timer_sequence_
  std::vector<TimerNode*> heap_;
  std::uint64_t timer_sequence_ = 0;
  std::atomic<std::int64_t> next_timer_ns_{INT64_MAX};  // earliest `when`, for quick checks

  // Every live task, for dumps and teardown.
  mutable std::mutex registry_mutex_;  // guards registry_
  std::vector<ThreadTask*> registry_;
  std::atomic<std::size_t> live_{0};
  std::atomic<std::uint64_t> next_task_id_{1};
  std::atomic<std::uint64_t> next_object_id_{1};
  std::atomic<std::uint64_t> seed_counter_;

  // The end of the run.
  std::mutex done_mutex_;  // guards result_, main_finished_, done_ (with done_cv_)
  std::condition_variable done_cv_;
  std::atomic<bool> stopping_{false};
  bool done_ = false;
  bool main_finished_ = false;
  ThreadTask* main_ = nullptr;
  ThreadRunResult result_;
  bool ran_ = false;
  ThreadOptions options_;

  // Online leak detection: find_leaks() stops the world with pause_; each
  // worker is `active` while it takes or runs a task.
  mutable std::mutex detect_mutex_;  // one detection at a time; guards in_run_, reported_
  mutable std::atomic<bool> pause_{false};
  mutable std::mutex pause_mutex_;  // with pause_cv_: workers wait for the end of a pause
  mutable std::condition_variable pause_cv_;
  bool in_run_ = false;                              // workers are up and find_leaks may stop them
  mutable std::vector<TaskInfo> reported_;           // every task reported leaked, in order
  mutable std::vector<std::uint64_t> reported_ids_;  // sorted
  std::thread monitor_;                              // runs find_leaks() every leak_check_interval
  std::mutex monitor_mutex_;                         // with monitor_cv_: ends the monitor
  std::condition_variable monitor_cv_;
  bool monitor_stop_ = false;
};

// Calls `visit` for every ThreadExecutor currently inside run(), in the
// order they started, holding a lock that keeps each from finishing its run
// meanwhile (so `visit` must not wait for the executor's tasks). For
// process-wide dumps: debug::serve, the signal dump. executor.tasks() and
// num_tasks() are safe to call from any thread.
void for_each_running_thread_executor(
    const std::function<void(const ThreadExecutor& executor)>& visit);

}  // namespace chanfuzz
