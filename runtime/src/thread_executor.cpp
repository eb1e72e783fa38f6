// ThreadExecutor: see thread_executor.hpp for the design and the parking
// protocol.
#include "chanfuzz/thread_executor.hpp"

#include "chanfuzz/detail/tracking.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <sstream>
#include <stdexcept>

namespace chanfuzz {

// A task with the state of the parking protocol.
//
// Invariants:
//   run == running            => exactly one worker has it as `current`
//   run == parking / notified => that worker has not yet finished parking it
//   run == waiting            => no worker touches it; only wake() moves it on
//   run == runnable           => it is in exactly one queue (or runnext)
// The status fields of TaskRecord (state, wait_reason, blocked_at, blocker)
// change only under `status`, and a dump reads them under it: a blocked
// task's blocker, which lives in its frame, stays valid while described.
// Lock order: channel -> status (block() runs under the channel's lock);
// a dump takes status -> channel, which is safe because the task it
// describes is blocked, so no worker runs it and holds a lock for it.
struct ThreadExecutor::ThreadTask final : TaskRecord {
  enum : std::uint8_t { runnable, running, parking, notified, waiting };
  std::atomic<std::uint8_t> run{runnable};
  mutable detail::SpinLock status;
  std::size_t registry_index = 0;  // position in registry_ (under registry_mutex_)

  void set_status(TaskState s) {
    status.lock();
    state = s;
    wait_reason = WaitReason::none;
    blocker = nullptr;
    status.unlock();
  }
};

struct ThreadExecutor::Worker {
  ThreadExecutor* owner = nullptr;
  unsigned index = 0;
  detail::SpinLock lock;          // guards queue; held for a few instructions
  ThreadTask* runnext = nullptr;  // runs before the queue; only this worker touches it
  std::deque<ThreadTask*> queue;
  ThreadTask* current = nullptr;  // only this worker's thread touches it
  bool requeue = false;           // the current task was preempted
  unsigned ops_since_yield = 0;
  Rng rng;
  std::atomic<bool> active{false};  // taking or running a task (find_leaks waits for false)
};

namespace {

thread_local void* t_worker = nullptr;  // the Worker this thread runs, if any

constexpr unsigned kOpsBeforeYield = 64;  // a busy task yields this often, if others wait
constexpr auto kSpinBeforePark = std::chrono::microseconds(20);

std::string plural_tasks(std::size_t n) {
  return std::to_string(n) + (n == 1 ? " task" : " tasks");
}

// Every ThreadExecutor inside run(), for process-wide dumps. An executor
// leaves it before its workers stop, under the lock, so a visitor holding
// the lock never sees one being torn down.
std::mutex& running_mutex() {
  static std::mutex mu;
  return mu;
}
std::vector<const ThreadExecutor*>& running_executors() {  // guarded by running_mutex()
  static std::vector<const ThreadExecutor*> all;
  return all;
}

// Registers an executor for the scope of its run().
class RunningScope {
 public:
  explicit RunningScope(const ThreadExecutor* executor) : executor_(executor) {
    std::lock_guard<std::mutex> lock(running_mutex());
    running_executors().push_back(executor_);
  }
  ~RunningScope() { leave(); }
  void leave() {
    if (!executor_) return;
    std::lock_guard<std::mutex> lock(running_mutex());
    auto& all = running_executors();
    all.erase(std::remove(all.begin(), all.end(), executor_), all.end());
    executor_ = nullptr;
  }
  RunningScope(const RunningScope&) = delete;
  RunningScope& operator=(const RunningScope&) = delete;

 private:
  const ThreadExecutor* executor_;
};

}  // namespace

void for_each_running_thread_executor(
    const std::function<void(const ThreadExecutor& executor)>& visit) {
  std::lock_guard<std::mutex> lock(running_mutex());
  for (const ThreadExecutor* executor : running_executors()) visit(*executor);
}

const char* thread_outcome_name(ThreadRunResult::Outcome outcome) noexcept {
  switch (outcome) {
    case ThreadRunResult::Outcome::ok:
      return "ok";
    case ThreadRunResult::Outcome::leak:
      return "leak";
    case ThreadRunResult::Outcome::deadlock:
      return "deadlock";
    case ThreadRunResult::Outcome::panic:
      return "panic";
  }
  return "?";
}

ThreadExecutor::ThreadExecutor(ThreadOptions options)
    : epoch_(std::chrono::steady_clock::now()), options_(options) {
  if (!(options_.clock_speed > 0)) {
    throw std::invalid_argument("chanfuzz: ThreadOptions::clock_speed must be positive");
  }
  unsigned n = options.threads ? options.threads : std::thread::hardware_concurrency();
  if (n == 0) n = 1;
  std::uint64_t seed =
      options.seed ? options.seed : static_cast<std::uint64_t>(epoch_.time_since_epoch().count());
  seed_counter_.store(seed);
  for (unsigned i = 0; i < n; ++i) {
    auto worker = std::make_unique<Worker>();
    worker->owner = this;
    worker->index = i;
    worker->rng.reseed(seed + i);
    workers_.push_back(std::move(worker));
  }
}

ThreadExecutor::~ThreadExecutor() {
  if (!threads_.empty()) {
    stopping_.store(true);
    {
      std::lock_guard<std::mutex> lock(park_mutex_);
      park_cv_.notify_all();
    }
    for (auto& thread : threads_) thread.join();
    threads_.clear();
  }
  teardown();
}

// ---- the run ----

ThreadRunResult ThreadExecutor::run(Task<void> main) {
  if (ran_)
    throw std::logic_error("chanfuzz: ThreadExecutor::run called twice (one run per executor)");
  if (!main) throw std::logic_error("chanfuzz: ThreadExecutor::run called with an empty Task");
  ran_ = true;
  {
    CurrentExecutorScope scope(this);
    spawn(std::move(main), "main", SourceLocation{});
  }
  {
    std::lock_guard<std::mutex> lock(registry_mutex_);
    main_ = registry_.front();
  }
  RunningScope running(this);
  {
    std::lock_guard<std::mutex> lock(detect_mutex_);
    in_run_ = true;
  }
  for (auto& worker : workers_) {
    threads_.emplace_back([this, w = worker.get()] { worker_loop(*w); });
  }
  if (options_.leak_check_interval > std::chrono::nanoseconds::zero()) {
    monitor_ = std::thread([this] { leak_monitor(); });
  }

  std::unique_lock<std::mutex> done_lock(done_mutex_);
  done_cv_.wait(done_lock, [&] { return done_ || main_finished_; });
  bool leak_check = !done_ && options_.leak_wait > Duration::zero();
  done_lock.unlock();

  bool quiescent = false;
  if (leak_check) {
    // Wait for the other tasks to exit, retrying with growing sleeps, as
    // goleak does; stop early once nothing can run any more.
    const auto give_up = std::chrono::steady_clock::now() + options_.leak_wait;
    auto sleep = std::chrono::microseconds(1);
    while (live_.load() > 0 && std::chrono::steady_clock::now() < give_up) {
      {
        std::lock_guard<std::mutex> lock(park_mutex_);
        quiescent = idle_.load() == workers_.size() && queued_.load() == 0 &&
                    next_timer_ns_.load() == INT64_MAX;
        if (quiescent) break;
      }
      std::this_thread::sleep_for(std::min<std::chrono::microseconds>(
          sleep, std::chrono::duration_cast<std::chrono::microseconds>(
                     give_up - std::chrono::steady_clock::now() + std::chrono::microseconds(1))));
      sleep = std::min<std::chrono::microseconds>(sleep * 2, std::chrono::milliseconds(100));
    }
  }

  if (monitor_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(monitor_mutex_);
      monitor_stop_ = true;
    }
    monitor_cv_.notify_all();
    monitor_.join();
  }
  running.leave();  // before the teardown: visitors must not see it
  {
    std::lock_guard<std::mutex> lock(detect_mutex_);  // waits for a find_leaks() under way
    in_run_ = false;
  }
  stopping_.store(true);
  {
    std::lock_guard<std::mutex> lock(park_mutex_);
    park_cv_.notify_all();
  }
  for (auto& thread : threads_) thread.join();
  threads_.clear();

  CurrentExecutorScope scope(this);
  {
    std::lock_guard<std::mutex> lock(done_mutex_);
    if (!done_) {
      done_ = true;
      result_.main_returned = true;
      std::size_t left = live_.load();
      if (leak_check && left > 0) {
        result_.outcome = ThreadRunResult::Outcome::leak;
        result_.message =
            quiescent ? plural_tasks(left) + " still blocked after main returned"
                      : plural_tasks(left) + " still alive " +
                            std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                               options_.leak_wait)
                                               .count()) +
                            " ms after main returned";
        result_.tasks = live_task_infos();
      }
    }
  }
  result_.tasks_spawned = next_task_id_.load() - 1;
  result_.leaked_while_running = leaks_found();
  teardown();
  return std::move(result_);
}

void ThreadExecutor::stop(ThreadRunResult::Outcome outcome, std::string message,
                          std::vector<TaskInfo> tasks) {
  {
    std::lock_guard<std::mutex> lock(done_mutex_);
    if (done_) return;
    done_ = true;
    result_.outcome = outcome;
    result_.message = std::move(message);
    result_.tasks = std::move(tasks);
    result_.main_returned = main_finished_;
  }
  stopping_.store(true);
  done_cv_.notify_all();
}

void ThreadExecutor::teardown() {
  // Workers have stopped: this thread alone touches the tasks now.
  std::vector<ThreadTask*> left;
  {
    std::lock_guard<std::mutex> lock(registry_mutex_);
    left.swap(registry_);
  }
  for (ThreadTask* task : left) detail::destroy_frames(task->task);
  for (ThreadTask* task : left) delete task;
  live_.store(0);
  for (auto& worker : workers_) {
    worker->queue.clear();
    worker->runnext = nullptr;
  }
  global_queue_.clear();
  queued_.store(0);
  std::vector<TimerNode*> timers;
  {
    std::lock_guard<std::mutex> lock(timer_mutex_);
    timers.swap(heap_);
    next_timer_ns_.store(INT64_MAX);
  }
  for (TimerNode* timer : timers) {
    timer->heap_index = TimerNode::npos;
    timer->discard();
  }
}

// ---- workers ----

void ThreadExecutor::worker_loop(Worker& worker) {
  t_worker = &worker;
  CurrentExecutorScope scope(this);
  while (!stopping_.load(std::memory_order_acquire)) {
    enter_step(worker);
    if (ThreadTask* task = find_work(worker)) {
      run_task(worker, task);
      leave_step(worker);
      continue;
    }
    leave_step(worker);
    // Spin a little before parking: a hand-off to a spinning worker is far
    // cheaper than waking a parked thread.
    spinning_.fetch_add(1);
    const auto until = std::chrono::steady_clock::now() + kSpinBeforePark;
    bool found = false;
    for (unsigned i = 0; !found && !stopping_.load(std::memory_order_relaxed); ++i) {
      if (queued_.load(std::memory_order_acquire) > 0 || timer_due()) {
        found = true;
        break;
      }
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
      if ((i & 63) == 63 && std::chrono::steady_clock::now() >= until) break;
    }
    spinning_.fetch_sub(1);
    if (!found) park(worker);
  }
  t_worker = nullptr;
}

// Dekker with find_leaks(): a worker announces `active` (seq_cst) before it
// reads pause_ (seq_cst); find_leaks sets pause_ before it reads `active`.
// So either the detector sees the worker active and waits for it, or the
// worker sees the pause and waits for its end.
void ThreadExecutor::enter_step(Worker& worker) {
  worker.active.store(true);
  while (pause_.load()) {
    worker.active.store(false);
    std::unique_lock<std::mutex> lock(pause_mutex_);
    pause_cv_.wait(lock, [&] { return !pause_.load(); });
    lock.unlock();
    worker.active.store(true);
  }
}

void ThreadExecutor::leave_step(Worker& worker) {
  worker.active.store(false, std::memory_order_release);
}

void ThreadExecutor::park(Worker& /*worker*/) {
  std::unique_lock<std::mutex> lock(park_mutex_);
  idle_.fetch_add(1);
  for (;;) {
    if (stopping_.load() || queued_.load() > 0) break;
    std::int64_t deadline = next_timer_ns_.load();
    if (deadline <= now().time_since_epoch().count()) break;
    if (deadline == INT64_MAX && idle_.load() == workers_.size()) {
      // Every worker idle, nothing queued, no timer: nothing can ever run.
      bool main_done;
      {
        std::lock_guard<std::mutex> done(done_mutex_);
        main_done = main_finished_;
      }
      if (!main_done) {
        idle_.fetch_sub(1);
        lock.unlock();
        stop(ThreadRunResult::Outcome::deadlock, "all tasks are asleep", live_task_infos());
        std::lock_guard<std::mutex> relock(park_mutex_);
        park_cv_.notify_all();
        return;
      }
      // After main returned: quiescent; run() decides about leaks.
      park_cv_.wait(lock);
      break;
    }
    if (deadline == INT64_MAX) {
      park_cv_.wait(lock);
    } else {
      // The executor's clock runs clock_speed times faster than the real one.
      auto real = std::chrono::nanoseconds(
          static_cast<std::int64_t>(static_cast<double>(deadline) / options_.clock_speed));
      park_cv_.wait_until(lock, epoch_ + real);
    }
    break;
  }
  idle_.fetch_sub(1);
}

ThreadExecutor::ThreadTask* ThreadExecutor::find_work(Worker& worker) {
  auto take_local = [&]() -> ThreadTask* {
    if (worker.runnext) return std::exchange(worker.runnext, nullptr);  // only we touch it
    ThreadTask* task = nullptr;
    worker.lock.lock();
    if (!worker.queue.empty()) {
      task = worker.queue.front();
      worker.queue.pop_front();
    }
    worker.lock.unlock();
    if (task) queued_.fetch_sub(1);
    return task;
  };
  // Due timers first: a task that keeps yielding must not starve them.
  if (timer_due()) fire_due_timers();
  ThreadTask* task = take_local();
  if (!task) {
    global_lock_.lock();
    if (!global_queue_.empty()) {
      task = global_queue_.front();
      global_queue_.pop_front();
    }
    global_lock_.unlock();
    if (task) queued_.fetch_sub(1);
  }
  if (!task) task = steal(worker);
  return task;
}

ThreadExecutor::ThreadTask* ThreadExecutor::steal(Worker& thief) {
  const std::size_t n = workers_.size();
  if (n < 2) return nullptr;
  std::size_t start = static_cast<std::size_t>(thief.rng.below(n));
  for (std::size_t k = 0; k < n; ++k) {
    Worker& victim = *workers_[(start + k) % n];
    if (&victim == &thief) continue;
    std::vector<ThreadTask*> loot;
    victim.lock.lock();
    std::size_t take = (victim.queue.size() + 1) / 2;
    for (std::size_t i = 0; i < take; ++i) {
      loot.push_back(victim.queue.back());
      victim.queue.pop_back();
    }
    victim.lock.unlock();
    if (loot.empty()) continue;
    ThreadTask* first = loot.back();
    loot.pop_back();
    queued_.fetch_sub(1);  // the others stay queued, in the thief's queue
    if (!loot.empty()) {
      thief.lock.lock();
      for (auto it = loot.rbegin(); it != loot.rend(); ++it) thief.queue.push_back(*it);
      thief.lock.unlock();
    }
    return first;
  }
  return nullptr;
}

void ThreadExecutor::run_task(Worker& worker, ThreadTask* task) {
  worker.current = task;
  worker.ops_since_yield = 0;
  task->set_status(TaskState::running);
  task->run.store(ThreadTask::running, std::memory_order_relaxed);
  bool resume = true;
  if (PendingOp* op = std::exchange(task->pending, nullptr)) resume = op->attempt();
  if (resume) detail::resume_chain(task->resume_handle);
  worker.current = nullptr;

  if (task->task.done()) {
    finish(worker, task);
    return;
  }
  if (worker.requeue) {  // preempted at a scheduling point
    worker.requeue = false;
    task->set_status(TaskState::runnable);
    task->run.store(ThreadTask::runnable, std::memory_order_relaxed);
    worker.lock.lock();
    worker.queue.push_back(task);
    worker.lock.unlock();
    queued_.fetch_add(1);
    notify_work();
    return;
  }
  // It blocked. Finish parking it; if it was woken meanwhile, it runs again.
  std::uint8_t expected = ThreadTask::parking;
  if (!task->run.compare_exchange_strong(expected, ThreadTask::waiting, std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
    if (expected != ThreadTask::notified) {
      internal_error("a blocked task was neither parking nor notified");
    }
    task->set_status(TaskState::runnable);
    task->run.store(ThreadTask::runnable, std::memory_order_relaxed);
    make_runnable(task);
  }
}

void ThreadExecutor::finish(Worker& /*worker*/, ThreadTask* task) {
  task->set_status(TaskState::finished);
  std::exception_ptr error = task->task.exception();
  if (error && !stopping_.load()) {
    TaskInfo info = task->info(0, now());
    info.state = "panicked";
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      info.panic =
          dynamic_cast<const Panic*>(&e) ? e.what() : type_name(typeid(e).name()) + ": " + e.what();
    } catch (...) {
      info.panic = "an exception that is not a std::exception";
    }
    std::string message = info.panic;
    std::vector<TaskInfo> tasks;
    tasks.push_back(std::move(info));
    stop(ThreadRunResult::Outcome::panic, std::move(message), std::move(tasks));
  }
  {
    std::lock_guard<std::mutex> lock(registry_mutex_);
    ThreadTask* last = registry_.back();
    registry_[task->registry_index] = last;
    last->registry_index = task->registry_index;
    registry_.pop_back();
  }
  bool was_main = task == main_;
  task->task.reset();
  delete task;
  live_.fetch_sub(1);
  if (was_main) {
    {
      std::lock_guard<std::mutex> lock(done_mutex_);
      main_finished_ = true;
      if (error) result_.main_returned = false;
    }
    done_cv_.notify_all();
  }
}

// ---- queues ----

void ThreadExecutor::make_runnable(ThreadTask* task) {
  auto* worker = static_cast<Worker*>(t_worker);
  if (worker && worker->owner == this) {
    // runnext belongs to this worker alone and is never stolen: only what
    // moves into a queue counts as work for the others.
    ThreadTask* displaced = std::exchange(worker->runnext, task);
    if (!displaced) return;
    worker->lock.lock();
    worker->queue.push_back(displaced);
    worker->lock.unlock();
  } else {
    global_lock_.lock();
    global_queue_.push_back(task);
    global_lock_.unlock();
  }
  queued_.fetch_add(1);
  notify_work();
}

void ThreadExecutor::notify_work() {
  // Dekker with park(): queued_ was incremented (seq_cst) before idle_ is
  // read (seq_cst); park() increments idle_ before it reads queued_.
  if (idle_.load() > 0 && spinning_.load() == 0) {
    std::lock_guard<std::mutex> lock(park_mutex_);
    park_cv_.notify_one();
  }
}

// ---- Executor ----

void ThreadExecutor::spawn(Task<void> task, std::string name, SourceLocation where) {
  if (!task) throw std::logic_error("chanfuzz: go called with an empty Task");
  auto* record = new ThreadTask();
  record->id = next_task_id_.fetch_add(1);
  record->name = std::move(name);
  record->executor = this;
  record->resume_handle = task.handle();
  record->task = std::move(task);
  record->state = TaskState::runnable;
  record->created_at = where;
  TaskRecord* parent = current_task();
  record->parent_id = parent ? parent->id : 0;
  {
    std::lock_guard<std::mutex> lock(registry_mutex_);
    record->registry_index = registry_.size();
    registry_.push_back(record);
  }
  live_.fetch_add(1);
  make_runnable(record);
}

TaskRecord* ThreadExecutor::current_task() noexcept {
  auto* worker = static_cast<Worker*>(t_worker);
  return worker && worker->owner == this ? worker->current : nullptr;
}

std::vector<TaskInfo> ThreadExecutor::tasks() const { return live_task_infos(); }

std::vector<TaskInfo> ThreadExecutor::live_task_infos() const {
  std::vector<TaskInfo> out;
  {
    std::lock_guard<std::mutex> lock(registry_mutex_);
    out.reserve(registry_.size());
    for (const ThreadTask* task : registry_) {
      task->status.lock();
      out.push_back(task->info(0, TimePoint{}));
      task->status.unlock();
    }
  }
  std::sort(out.begin(), out.end(),
            [](const TaskInfo& a, const TaskInfo& b) { return a.id < b.id; });
  return out;
}

bool ThreadExecutor::schedule_point(const char* operation, SourceLocation where,
                                    const Blocker* /*subject*/) {
  auto* worker = static_cast<Worker*>(t_worker);
  if (!worker || worker->owner != this || !worker->current) {
    throw std::logic_error("chanfuzz: a blocking operation was awaited outside a task");
  }
  (void)where;  // recorded when the task blocks; a running task's line is not kept
  // yield() gives way whenever another task can run (Go's Gosched).
  if (operation[0] == 'y' && std::strcmp(operation, "yield") == 0) {
    return worker->runnext == nullptr && queued_.load(std::memory_order_relaxed) == 0;
  }
  // A task that never blocks would starve the others: let them run now and
  // then, when some are waiting (Go preempts after 10 ms instead).
  if (++worker->ops_since_yield >= kOpsBeforeYield) {
    worker->ops_since_yield = 0;
    // Timers fire only when a worker looks for work: give way for them too.
    if (worker->runnext || queued_.load(std::memory_order_relaxed) > 0 || timer_due()) {
      return false;
    }
  }
  return true;
}

void ThreadExecutor::poll_point(const char* /*operation*/, SourceLocation /*where*/) {}

void ThreadExecutor::preempt(std::coroutine_handle<> self, PendingOp* op) {
  auto* worker = static_cast<Worker*>(t_worker);
  ThreadTask* task = worker->current;
  task->resume_handle = self;
  task->pending = op;
  worker->requeue = true;
}

void ThreadExecutor::block(std::coroutine_handle<> self, WaitReason reason, SourceLocation where,
                           const Blocker* blocker) {
  auto* worker = static_cast<Worker*>(t_worker);
  ThreadTask* task = worker->current;
  task->resume_handle = self;
  task->status.lock();
  task->state = TaskState::waiting;
  task->wait_reason = reason;
  task->blocked_at = where;
  task->blocker = blocker;
  task->status.unlock();
  task->run.store(ThreadTask::parking, std::memory_order_release);
}

void ThreadExecutor::wake(TaskRecord* record, PendingOp* retry) {
  auto* task = static_cast<ThreadTask*>(record);
  task->pending = retry;
  std::uint8_t state = task->run.load(std::memory_order_acquire);
  for (;;) {
    if (state == ThreadTask::waiting) {
      if (task->run.compare_exchange_weak(state, ThreadTask::runnable, std::memory_order_acq_rel,
                                          std::memory_order_acquire)) {
        task->set_status(TaskState::runnable);
        make_runnable(task);
        return;
      }
    } else if (state == ThreadTask::parking) {
      // Its worker has not finished parking it: leave a note; that worker
      // requeues it.
      if (task->run.compare_exchange_weak(state, ThreadTask::notified, std::memory_order_acq_rel,
                                          std::memory_order_acquire)) {
        return;
      }
    } else {
      internal_error("wake of a task that is not waiting");
    }
  }
}

std::uint64_t ThreadExecutor::choose(DecisionKind /*kind*/, std::uint64_t n) {
  auto* worker = static_cast<Worker*>(t_worker);
  if (worker && worker->owner == this) return worker->rng.below(n);
  Rng rng(seed_counter_.fetch_add(1));
  return rng.below(n);
}

TimePoint ThreadExecutor::now() const {
  auto real = std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - epoch_);
  if (options_.clock_speed == 1.0) return TimePoint(real);
  return TimePoint(Duration(
      static_cast<Duration::rep>(static_cast<double>(real.count()) * options_.clock_speed)));
}

// ---- timers ----

namespace {
bool timer_before(const TimerNode* a, const TimerNode* b) noexcept {
  if (a->when != b->when) return a->when < b->when;
  return a->sequence < b->sequence;
}

void sift_up(std::vector<TimerNode*>& heap, std::size_t i) {
  while (i > 0) {
    std::size_t parent = (i - 1) / 2;
    if (!timer_before(heap[i], heap[parent])) break;
    std::swap(heap[i], heap[parent]);
    heap[i]->heap_index = i;
    heap[parent]->heap_index = parent;
    i = parent;
  }
}

void sift_down(std::vector<TimerNode*>& heap, std::size_t i) {
  for (;;) {
    std::size_t smallest = i;
    for (std::size_t child : {2 * i + 1, 2 * i + 2}) {
      if (child < heap.size() && timer_before(heap[child], heap[smallest])) smallest = child;
    }
    if (smallest == i) break;
    std::swap(heap[i], heap[smallest]);
    heap[i]->heap_index = i;
    heap[smallest]->heap_index = smallest;
    i = smallest;
  }
}

void heap_remove(std::vector<TimerNode*>& heap, TimerNode* timer) {
  std::size_t i = timer->heap_index;
  TimerNode* last = heap.back();
  heap.pop_back();
  timer->heap_index = TimerNode::npos;
  if (last == timer) return;
  heap[i] = last;
  last->heap_index = i;
  sift_up(heap, i);
  sift_down(heap, last->heap_index);
}
}  // namespace

void ThreadExecutor::add_timer(TimerNode* timer) {
  bool earliest;
  {
    std::lock_guard<std::mutex> lock(timer_mutex_);
    if (timer->armed()) internal_error("timer armed twice");
    timer->sequence = timer_sequence_++;
    timer->heap_index = heap_.size();
    heap_.push_back(timer);
    sift_up(heap_, timer->heap_index);
    earliest = heap_.front() == timer;
    next_timer_ns_.store(heap_.front()->when.time_since_epoch().count());
  }
  if (earliest) {
    // A parked worker may be waiting for a later deadline (or none).
    std::lock_guard<std::mutex> lock(park_mutex_);
    park_cv_.notify_one();
  }
}

bool ThreadExecutor::cancel_timer(TimerNode* timer) {
  std::lock_guard<std::mutex> lock(timer_mutex_);
  if (!timer->armed()) return false;
  heap_remove(heap_, timer);
  next_timer_ns_.store(heap_.empty() ? INT64_MAX : heap_.front()->when.time_since_epoch().count());
  return true;
}

bool ThreadExecutor::fire_due_timers() {
  bool fired = false;
  const TimePoint at = now();
  for (;;) {
    TimerNode* timer = nullptr;
    {
      std::lock_guard<std::mutex> lock(timer_mutex_);
      if (!heap_.empty() && heap_.front()->when <= at) {
        timer = heap_.front();
        heap_remove(heap_, timer);
      }
      next_timer_ns_.store(heap_.empty() ? INT64_MAX
                                         : heap_.front()->when.time_since_epoch().count());
    }
    if (!timer) return fired;
    timer->fire();  // may destroy the timer, arm others, wake tasks
    fired = true;
  }
}

bool ThreadExecutor::timer_due() const {
  std::int64_t next = next_timer_ns_.load(std::memory_order_relaxed);
  return next != INT64_MAX && next <= now().time_since_epoch().count();
}

// ---- online leak detection (detail/tracking.hpp) ----

std::vector<TaskInfo> ThreadExecutor::find_leaks() const {
  if (auto* worker = static_cast<Worker*>(t_worker); worker && worker->owner == this) {
    throw Panic(
        "chanfuzz: ThreadExecutor::find_leaks called from one of its own tasks (it stops the "
        "workers and would wait for itself); call it from another thread");
  }
  std::lock_guard<std::mutex> detect(detect_mutex_);
  if (!in_run_ || stopping_.load()) return {};
  // Stop the world: every worker finishes the step it is in (up to its
  // task's next scheduling point) and waits.
  pause_.store(true);
  // A task that runs long between scheduling points (or waits for this
  // check itself, say through a lock) delays the pause: give up after a
  // while and report nothing this time rather than hang.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
  bool stopped = true;
  for (const auto& worker : workers_) {
    for (unsigned spins = 0; stopped && worker->active.load(); ++spins) {
      if (spins < 64) {
        std::this_thread::yield();
      } else if (std::chrono::steady_clock::now() >= give_up) {
        stopped = false;
      } else {
        std::this_thread::sleep_for(std::chrono::microseconds(50));
      }
    }
  }
  std::vector<TaskInfo> found;
  if (stopped) {
    std::lock_guard<std::mutex> lock(registry_mutex_);
    for (ThreadTask* task : leaked_now()) {
      auto at = std::lower_bound(reported_ids_.begin(), reported_ids_.end(), task->id);
      if (at != reported_ids_.end() && *at == task->id) continue;
      reported_ids_.insert(at, task->id);
      task->status.lock();
      found.push_back(task->info(0, TimePoint{}));
      task->status.unlock();
    }
  }
  {
    std::lock_guard<std::mutex> lock(pause_mutex_);
    pause_.store(false);
  }
  pause_cv_.notify_all();
  std::sort(found.begin(), found.end(),
            [](const TaskInfo& a, const TaskInfo& b) { return a.id < b.id; });
  reported_.insert(reported_.end(), found.begin(), found.end());
  return found;
}

std::vector<TaskInfo> ThreadExecutor::leaks_found() const {
  std::lock_guard<std::mutex> detect(detect_mutex_);
  return reported_;
}

std::string ThreadExecutor::leak_report(const std::vector<TaskInfo>& leaked) {
  if (leaked.empty()) return "";
  std::ostringstream out;
  out << "chanfuzz: leak: " << plural_tasks(leaked.size())
      << " blocked forever while the program runs (nothing running can reach what "
      << (leaked.size() == 1 ? "it waits" : "they wait") << " on)\n\n";
  for (const TaskInfo& task : leaked) write_task(out, task);
  return out.str();
}

void ThreadExecutor::leak_monitor() {
  std::unique_lock<std::mutex> lock(monitor_mutex_);
  while (!monitor_stop_) {
    monitor_cv_.wait_for(lock, options_.leak_check_interval, [&] { return monitor_stop_; });
    if (monitor_stop_) break;
    lock.unlock();
    std::vector<TaskInfo> leaked = find_leaks();
    if (!leaked.empty()) {
      if (options_.on_leak) {
        options_.on_leak(leaked);
      } else {
        std::string report = leak_report(leaked);
        std::fwrite(report.data(), 1, report.size(), stderr);
      }
    }
    lock.lock();
  }
}

namespace {

// A coroutine frame of a task, by address.
struct FrameRange {
  std::uintptr_t begin = 0;
  std::uintptr_t end = 0;
  std::size_t task = 0;        // index into the detector's task list
  std::uintptr_t promise = 0;  // the promise inside it
};

// The task whose frames hold `address`, or npos: the heap, a global, a
// thread's stack, another object (reachable by anyone).
constexpr std::size_t kNoTask = static_cast<std::size_t>(-1);
std::size_t frame_owner(const std::vector<FrameRange>& frames, std::uintptr_t address) {
  auto it = std::upper_bound(frames.begin(), frames.end(), address,
                             [](std::uintptr_t a, const FrameRange& f) { return a < f.begin; });
  if (it == frames.begin()) return kNoTask;
  --it;
  return address < it->end ? it->task : kNoTask;
}

// A pointer to a frame's first byte (a coroutine handle) or to its promise
// (the runtime's links between awaiting tasks): the executor's own, or a
// stale copy the compiler left in a frame, never a way to a task's locals.
// A pointer that is not word-aligned cannot lead to a handle either (it
// contains pointers): the compiler's pointers to flags of the frame.
bool is_runtime_link(const std::vector<FrameRange>& frames, std::uintptr_t address) {
  if (address % alignof(void*) != 0) return true;
  auto it = std::upper_bound(frames.begin(), frames.end(), address,
                             [](std::uintptr_t a, const FrameRange& f) { return a < f.begin; });
  if (it == frames.begin()) return false;
  --it;
  return address == it->begin || address == it->promise;
}

}  // namespace

// One word of a frame, read for the conservative scan: any bytes, possibly
// never written, so outside what the sanitizers check.
#if defined(__clang__) || defined(__GNUC__)
__attribute__((no_sanitize("address", "thread")))
#endif
static std::uintptr_t
read_word(std::uintptr_t at) {
  return *reinterpret_cast<const volatile std::uintptr_t*>(at);
}

static std::uintptr_t align_up(std::uintptr_t at) {
  return (at + sizeof(void*) - 1) & ~(sizeof(void*) - 1);
}

// The marking. Called with the world stopped and registry_mutex_ held.
std::vector<ThreadExecutor::ThreadTask*> ThreadExecutor::leaked_now() const {
  const std::size_t n = registry_.size();
  // Frames of every task: the root coroutine and the chain it awaits.
  std::vector<FrameRange> frames;
  std::vector<std::vector<std::size_t>> task_frames(n);  // indexes into `frames` after sorting
  for (std::size_t i = 0; i < n; ++i) {
    const ThreadTask* task = registry_[i];
    if (!task->task || task->task.done()) continue;
    for (const detail::PromiseBase* p = &task->task.handle().promise(); p; p = p->child) {
      if (p->frame_size == 0) continue;  // elided into its caller's frame, which is listed
      auto begin = reinterpret_cast<std::uintptr_t>(p->frame);
      frames.push_back(
          FrameRange{begin, begin + p->frame_size, i, reinterpret_cast<std::uintptr_t>(p)});
    }
  }
  std::sort(frames.begin(), frames.end(),
            [](const FrameRange& a, const FrameRange& b) { return a.begin < b.begin; });
  for (std::size_t f = 0; f < frames.size(); ++f) task_frames[frames[f].task].push_back(f);

  // Candidates: tasks parked on operations that say what they wait on.
  std::vector<char> live(n, 1);
  std::vector<std::vector<const detail::TrackedObject*>> waits(n);
  std::vector<const detail::TrackedObject*> objects;
  for (std::size_t i = 0; i < n; ++i) {
    const ThreadTask* task = registry_[i];
    if (task->run.load() != ThreadTask::waiting) continue;
    task->status.lock();
    const Blocker* blocker = task->state == TaskState::waiting ? task->blocker : nullptr;
    bool known = blocker && blocker->references(waits[i]);
    task->status.unlock();
    if (!known) {
      waits[i].clear();
      continue;
    }
    live[i] = 0;
    objects.insert(objects.end(), waits[i].begin(), waits[i].end());
  }
  std::sort(objects.begin(), objects.end());
  objects.erase(std::unique(objects.begin(), objects.end()), objects.end());
  auto object_index = [&](const detail::TrackedObject* o) {
    return static_cast<std::size_t>(std::lower_bound(objects.begin(), objects.end(), o) -
                                    objects.begin());
  };

  // Who holds each object: the tasks whose frames hold a handle to it or
  // whose blocked operation refers to it; `reachable` if anything else does.
  std::vector<char> reachable(objects.size(), 0);
  std::vector<std::vector<std::size_t>> holders(objects.size());
  std::vector<long> declared(objects.size(), 0);
  for (std::size_t i = 0; i < n; ++i) {
    for (const detail::TrackedObject* o : waits[i]) {
      std::size_t k = object_index(o);
      ++declared[k];
      holders[k].push_back(i);
    }
  }
  // Handles in frames: their tags, found by reading every task's frames.
  std::vector<long> in_frames(objects.size(), 0);
  if (!objects.empty()) {
    for (const FrameRange& range : frames) {
      for (std::uintptr_t at = align_up(range.begin); at + sizeof(void*) <= range.end;
           at += sizeof(void*)) {
        const detail::TrackedObject* o = detail::tagged_object(read_word(at));
        auto it = std::lower_bound(objects.begin(), objects.end(), o);
        if (it == objects.end() || *it != o) continue;
        std::size_t k = static_cast<std::size_t>(it - objects.begin());
        ++in_frames[k];
        holders[k].push_back(range.task);
      }
    }
  }
  // Every other reference (a handle anywhere else, an operation in flight,
  // a timer, a LockGuard, ...) can be used by anyone.
  for (std::size_t k = 0; k < objects.size(); ++k) {
    if (objects[k]->reference_count() > in_frames[k] + declared[k]) reachable[k] = 1;
  }

  // Frames that running code may read through a pointer (a lambda that
  // captured a handle by reference): every handle in them is reachable.
  // Conservative scan of the frames of live tasks for words that point into
  // a candidate's frames.
  std::vector<char> exposed(n, 0);
  std::vector<std::size_t> to_scan;
  for (std::size_t i = 0; i < n; ++i) {
    if (live[i]) to_scan.push_back(i);
  }
  auto scan = [&](std::size_t i) {
    for (std::size_t f : task_frames[i]) {
      const FrameRange& range = frames[f];
      for (std::uintptr_t at = align_up(range.begin); at + sizeof(void*) <= range.end;
           at += sizeof(void*)) {
        const std::uintptr_t word = read_word(at);
        std::size_t owner = frame_owner(frames, word);
        if (owner != kNoTask && owner != i && !live[owner] && !exposed[owner] &&
            !is_runtime_link(frames, word)) {
          exposed[owner] = 1;
          to_scan.push_back(owner);
        }
      }
    }
  };

  // The fixpoint: an object is reachable if anything outside the blocked
  // candidates, or a live or exposed task, holds it; a candidate is live if
  // it waits on a reachable object.
  for (bool changed = true; changed;) {
    changed = false;
    while (!to_scan.empty()) {
      std::size_t i = to_scan.back();
      to_scan.pop_back();
      scan(i);
    }
    for (std::size_t k = 0; k < objects.size(); ++k) {
      if (reachable[k]) continue;
      for (std::size_t holder : holders[k]) {
        if (live[holder] || exposed[holder]) {
          reachable[k] = 1;
          changed = true;
          break;
        }
      }
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (live[i]) continue;
      for (const detail::TrackedObject* o : waits[i]) {
        if (reachable[object_index(o)]) {
          live[i] = 1;
          if (!exposed[i]) to_scan.push_back(i);
          changed = true;
          break;
        }
      }
    }
  }
  std::vector<ThreadTask*> leaked;
  for (std::size_t i = 0; i < n; ++i) {
    if (!live[i]) leaked.push_back(registry_[i]);
  }
  return leaked;
}

}  // namespace chanfuzz
