// The executor-independent parts of scheduling: the current executor, the
// trampoline, waking waiters, and task snapshots.
#include "chanfuzz/executor.hpp"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "chanfuzz/detail/wait_queue.hpp"

namespace chanfuzz {

namespace {
thread_local Executor* t_current_executor = nullptr;
thread_local std::coroutine_handle<> t_next_handle;
}  // namespace

void internal_error(const char* what) noexcept {
  std::fprintf(stderr, "chanfuzz internal error: %s\n", what);
  std::fflush(stderr);
  std::abort();
}

Executor::~Executor() = default;

Executor* current_executor() noexcept { return t_current_executor; }

Executor& require_executor(const char* operation) {
  if (Executor* executor = t_current_executor) return *executor;
  throw std::logic_error(std::string("chanfuzz: ") + operation +
                         " called outside a running executor (run it inside a task, e.g. under "
                         "SimExecutor::run or chanfuzz::check)");
}

CurrentExecutorScope::CurrentExecutorScope(Executor* executor) noexcept
    : previous_(t_current_executor) {
  t_current_executor = executor;
}
CurrentExecutorScope::~CurrentExecutorScope() { t_current_executor = previous_; }

const char* wait_reason_name(WaitReason reason) noexcept {
  switch (reason) {
    case WaitReason::none:
      return "";
    case WaitReason::chan_send:
      return "chan send";
    case WaitReason::chan_receive:
      return "chan receive";
    case WaitReason::chan_send_nil:
      return "chan send (nil chan)";
    case WaitReason::chan_receive_nil:
      return "chan receive (nil chan)";
    case WaitReason::select:
      return "select";
    case WaitReason::select_no_cases:
      return "select (no cases)";
    case WaitReason::mutex_lock:
      return "sync.Mutex.Lock";
    case WaitReason::wait_group_wait:
      return "sync.WaitGroup.Wait";
    case WaitReason::sleep:
      return "sleep";
  }
  return "?";
}

const char* decision_kind_name(DecisionKind kind) noexcept {
  switch (kind) {
    case DecisionKind::task:
      return "task";
    case DecisionKind::select_case:
      return "select";
    case DecisionKind::timer:
      return "timer";
    case DecisionKind::random:
      return "random";
  }
  return "?";
}

TaskInfo TaskRecord::info(std::uint64_t step, TimePoint now) const {
  TaskInfo out;
  out.id = id;
  out.name = name;
  out.blocked_at = blocked_at;
  out.created_at = created_at;
  out.parent_id = parent_id;
  switch (state) {
    case TaskState::runnable:
      out.state = "runnable";
      break;
    case TaskState::running:
      out.state = "running";
      break;
    case TaskState::finished:
      out.state = "finished";
      break;
    case TaskState::waiting:
      out.state = wait_reason_name(wait_reason);
      out.steps_blocked = step >= blocked_step ? step - blocked_step : 0;
      out.time_blocked = now - blocked_time;
      if (blocker) blocker->describe(out.waiting_on);
      break;
  }
  return out;
}

namespace detail {

void set_next_handle(std::coroutine_handle<> next) noexcept { t_next_handle = next; }

void resume_chain(std::coroutine_handle<> first) {
  std::coroutine_handle<> h = first;
  while (h) {
    t_next_handle = {};
    h.resume();
    h = std::exchange(t_next_handle, {});
  }
}

void wake_waiter(Waiter* w, PendingOp* retry) {
  TaskRecord* task = w->task;
  task->executor->wake(task, retry);
}

void wake_chain(Waiter* first) {
  for (Waiter* w = first; w;) {
    Waiter* next = w->next;  // read first: once woken, the waiter may be gone
    w->next = nullptr;
    TaskRecord* task = w->task;
    task->executor->wake(task);
    w = next;
  }
}

}  // namespace detail
}  // namespace chanfuzz
