// Task<T>: a lazily started, move-only coroutine, and `go`, which runs a
// Task<void> as a detached task (Go's goroutine) on the current executor.
//
// Contract
// - A Task does nothing until it is awaited (`co_await task`) or given to
//   `go`. Awaiting runs it to completion and yields its value; an exception
//   that escapes the task is rethrown at the co_await.
// - Destroying a Task destroys its coroutine frame, also while it is
//   suspended: every chanfuzz awaiter unlinks itself from the channel, mutex,
//   wait group or timer it waits on in its destructor (DESIGN.md decision 2).
// - Control moves between nested tasks through a trampoline owned by the
//   executor, never by nested symmetric transfer: g++ 12 does not turn
//   symmetric transfer into a tail call at -O0/-O1 or under ASan/TSan
//   (TOOLCHAIN.md pitfall 1), so a loop of 100,000 immediately completing
//   co_awaits would otherwise overflow the stack.
#pragma once

#include <concepts>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <iosfwd>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "chanfuzz/source_location.hpp"

namespace chanfuzz {

template <class T = void>
class Task;

namespace detail {

// The trampoline. A coroutine that wants to transfer control to another one
// (start an awaited task, return to the awaiting one) names it with
// set_next_handle() and suspends; resume_chain() then resumes it from the
// loop, so the stack never grows with the chain. Non-inline on purpose: the
// slot is thread-local and coroutines may move between threads
// (TOOLCHAIN.md pitfall 5).
void set_next_handle(std::coroutine_handle<> next) noexcept;

// Resumes `first`, then every coroutine named by set_next_handle() in turn,
// until one suspends without naming a successor. Executors call this.
void resume_chain(std::coroutine_handle<> first);

// Coroutine frames, allocated by the runtime so that online leak detection
// knows where each lies (detail/tracking.hpp). Defined in task.cpp.
void* allocate_frame(std::size_t size);
void deallocate_frame(void* frame, std::size_t size) noexcept;
struct PromiseBase;
// Records in `promise` the frame that operator new just allocated on this
// thread, if the promise lies inside it (a frame the compiler elided into
// its caller's frame has none of its own: frame_size stays 0).
void claim_frame(PromiseBase& promise) noexcept;

struct PromiseBase {
  PromiseBase() noexcept { claim_frame(*this); }
  PromiseBase(const PromiseBase&) = delete;
  PromiseBase& operator=(const PromiseBase&) = delete;

  static void* operator new(std::size_t size) { return allocate_frame(size); }
  static void operator delete(void* frame, std::size_t size) noexcept {
    deallocate_frame(frame, size);
  }

  const void* frame = nullptr;  // this coroutine's frame, if the runtime allocated it
  std::size_t frame_size = 0;

  std::coroutine_handle<> continuation;  // who awaits this task (null for a root task)
  std::exception_ptr exception;          // what escaped the body, if anything

  // The chain of nested tasks, for destroying a suspended chain innermost
  // first without recursion (destroy_frames()):
  std::coroutine_handle<> self;   // this coroutine
  PromiseBase* parent = nullptr;  // the Task awaiting this one, while it does
  PromiseBase* child = nullptr;   // the Task this one awaits, while it does
  void* owner = nullptr;          // the Task object that owns this frame
  void (*forget_owner)(void* owner) noexcept = nullptr;  // makes `owner` let go

  std::suspend_always initial_suspend() noexcept { return {}; }

  struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    template <class Promise>
    void await_suspend(std::coroutine_handle<Promise> self) noexcept {
      PromiseBase& promise = self.promise();
      if (promise.parent) promise.parent->child = nullptr;
      if (auto next = promise.continuation) set_next_handle(next);
    }
    void await_resume() noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { exception = std::current_exception(); }
};

template <class T>
struct TaskPromise : PromiseBase {
  std::optional<T> value;
  Task<T> get_return_object() noexcept;
  template <class U>
  requires std::convertible_to<U&&, T>
  void return_value(U&& v) { value.emplace(std::forward<U>(v)); }
  T take() {
    if (exception) std::rethrow_exception(exception);
    return std::move(*value);
  }
};

template <>
struct TaskPromise<void> : PromiseBase {
  Task<void> get_return_object() noexcept;
  void return_void() noexcept {}
  void take() {
    if (exception) std::rethrow_exception(exception);
  }
};

}  // namespace detail

template <class T>
class [[nodiscard]] Task {
 public:
  using promise_type = detail::TaskPromise<T>;
  using handle_type = std::coroutine_handle<promise_type>;

  Task() noexcept = default;
  explicit Task(handle_type h) noexcept : handle_(h) { adopt(); }
  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) { adopt(); }
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, {});
      adopt();
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { reset(); }

  // False for a default-constructed or moved-from Task.
  explicit operator bool() const noexcept { return static_cast<bool>(handle_); }

  class Awaiter {
   public:
    explicit Awaiter(handle_type h) noexcept : handle_(h) {}
    bool await_ready() const noexcept { return !handle_ || handle_.done(); }
    template <class Promise>
    void await_suspend(std::coroutine_handle<Promise> awaiting) noexcept {
      auto& promise = handle_.promise();
      promise.continuation = awaiting;
      if constexpr (std::is_base_of_v<detail::PromiseBase, Promise>) {
        promise.parent = &awaiting.promise();
        awaiting.promise().child = &promise;
      }
      detail::set_next_handle(handle_);
    }
    T await_resume() {
      if (!handle_) throw std::logic_error("chanfuzz: co_await on an empty Task (moved from?)");
      return handle_.promise().take();
    }

   private:
    handle_type handle_;
  };
  Awaiter operator co_await() & noexcept { return Awaiter(handle_); }
  Awaiter operator co_await() && noexcept { return Awaiter(handle_); }

  // For executors: the coroutine, whether it finished, and the exception
  // that escaped it (null if none).
  handle_type handle() const noexcept { return handle_; }
  bool done() const noexcept { return handle_ && handle_.done(); }
  std::exception_ptr exception() const noexcept {
    return handle_ ? handle_.promise().exception : nullptr;
  }
  // Destroys the coroutine frame now (the Task becomes empty).
  void reset() noexcept {
    if (handle_) std::exchange(handle_, {}).destroy();
  }

 private:
  // Tells the frame which Task object owns it (see PromiseBase::owner).
  void adopt() noexcept {
    if (!handle_) return;
    auto& promise = handle_.promise();
    promise.owner = this;
    promise.forget_owner = [](void* owner) noexcept { static_cast<Task*>(owner)->handle_ = {}; };
  }

  handle_type handle_;
};

namespace detail {

// Destroys a task and every task it is awaiting, innermost first (the order
// in which destroying the outermost frame would destroy them), iteratively:
// a suspended chain 100,000 tasks deep is destroyed without 100,000 nested
// destructor calls. Executors use it for leaked tasks.
void destroy_frames(Task<void>& root) noexcept;

template <class T>
Task<T> TaskPromise<T>::get_return_object() noexcept {
  auto h = std::coroutine_handle<TaskPromise<T>>::from_promise(*this);
  self = h;
  return Task<T>(h);
}
inline Task<void> TaskPromise<void>::get_return_object() noexcept {
  auto h = std::coroutine_handle<TaskPromise<void>>::from_promise(*this);
  self = h;
  return Task<void>(h);
}

// F can be called with Args (as lvalues kept in a frame) and returns Task<void>.
template <class F, class... Args>
concept TaskFactory =
    std::invocable<F&, Args&...> && std::same_as<std::invoke_result_t<F&, Args&...>, Task<void>>;

// Keeps fn and args alive in this coroutine's frame for as long as the task
// they make runs: a capturing lambda coroutine refers to its captures
// through `this`, so the lambda object must outlive the task.
template <class F, class... Args>
Task<void> call_in_frame(F fn, Args... args) {
  Task<void> body = std::invoke(fn, args...);  // a named local: see README, g++ pitfalls
  co_await body;
}

// The origin of the task go(fn, args...) is making: fn's type and the bytes
// of fn and args. Two tasks of equal origin run the same code on the same
// captured objects, so dfs may treat them as interchangeable (symmetry
// reduction, harness/strategies/state_cache.hpp). The bytes are a copy's,
// made in zeroed storage, so that padding reads as zero rather than as
// whatever the caller's stack held; bytes that still differ for no reason
// (a copy of a string on the heap) only make two origins differ. Computed
// only for an executor that asks (the simulator with an observer), and
// only for copyable closures. The executor reads it in spawn(); 0 when
// go() was given a Task.
std::uint64_t& spawn_origin() noexcept;
bool spawn_origins_wanted() noexcept;
std::uint64_t fold_bytes(std::uint64_t h, const void* data, std::size_t size) noexcept;
template <class T>
inline constexpr char kTypeTag = 0;  // one address per type, no RTTI needed

class SpawnOrigin {
 public:
  template <class F, class... Args>
  explicit SpawnOrigin(const F& fn, const Args&... args) noexcept {
    if constexpr ((std::is_copy_constructible_v<F> && ... && std::is_copy_constructible_v<Args>)) {
      if (!spawn_origins_wanted()) return;
      try {
        std::uint64_t h = fold_copy(0, fn);
        ((h = fold_copy(h, args)), ...);
        const void* type = &kTypeTag<F>;
        spawn_origin() = fold_bytes(h, &type, sizeof(type)) | 1;  // never 0
      } catch (...) {
        spawn_origin() = 0;  // a copy threw: no origin, no symmetry
      }
    }
  }
  ~SpawnOrigin() { spawn_origin() = 0; }
  SpawnOrigin(const SpawnOrigin&) = delete;
  SpawnOrigin& operator=(const SpawnOrigin&) = delete;

 private:
  template <class T>
  static std::uint64_t fold_copy(std::uint64_t h, const T& value) {
    alignas(T) unsigned char storage[sizeof(T)] = {};
    T* copy = ::new (static_cast<void*>(storage)) T(value);
    h = fold_bytes(h, storage, sizeof(T));
    copy->~T();
    return h;
  }
};
}  // namespace detail

// ---- go -------------------------------------------------------------------
//
// Spawns a detached task on the current executor and returns at once; the new
// task runs when the executor schedules it. The executor owns the task; one
// still blocked when the run ends is reported as leaked and destroyed.
// `where` is recorded as the task's creation site ("created by ... at").
// Throws std::logic_error outside a running executor or for an empty Task.

void go(Task<void> task, SourceLocation where = SourceLocation::current());
void go(std::string name, Task<void> task, SourceLocation where = SourceLocation::current());

// go(fn, args...): fn and args are moved into the task's frame, so capturing
// lambdas are safe: go([c]() -> Task<> { co_await c.send(1); });
// Overloads up to four arguments record the caller's location; the variadic
// form takes any number.
template <class F>
requires detail::TaskFactory<F>
void go(F fn, SourceLocation where = SourceLocation::current()) {
  detail::SpawnOrigin origin(fn);
  go(std::string(), detail::call_in_frame(std::move(fn)), where);
}
template <class F, class A1>
requires detail::TaskFactory<F, A1>
void go(F fn, A1 a1, SourceLocation where = SourceLocation::current()) {
  detail::SpawnOrigin origin(fn, a1);
  go(std::string(), detail::call_in_frame(std::move(fn), std::move(a1)), where);
}
template <class F, class A1, class A2>
requires detail::TaskFactory<F, A1, A2>
void go(F fn, A1 a1, A2 a2, SourceLocation where = SourceLocation::current()) {
  detail::SpawnOrigin origin(fn, a1, a2);
  go(std::string(), detail::call_in_frame(std::move(fn), std::move(a1), std::move(a2)), where);
}
template <class F, class A1, class A2, class A3>
requires detail::TaskFactory<F, A1, A2, A3>
void go(F fn, A1 a1, A2 a2, A3 a3, SourceLocation where = SourceLocation::current()) {
  detail::SpawnOrigin origin(fn, a1, a2, a3);
  go(std::string(),
     detail::call_in_frame(std::move(fn), std::move(a1), std::move(a2), std::move(a3)), where);
}
template <class F, class... Args>
requires(sizeof...(Args) > 3) && detail::TaskFactory<F, Args...> void go(F fn, Args... args) {
  detail::SpawnOrigin origin(fn, args...);
  go(std::string(), detail::call_in_frame(std::move(fn), std::move(args)...));
}

// The same with a name for reports: go("producer", [c]() -> Task<> {...});
template <class F>
requires detail::TaskFactory<F>
void go(std::string name, F fn, SourceLocation where = SourceLocation::current()) {
  detail::SpawnOrigin origin(fn);
  go(std::move(name), detail::call_in_frame(std::move(fn)), where);
}
template <class F, class A1>
requires detail::TaskFactory<F, A1>
void go(std::string name, F fn, A1 a1, SourceLocation where = SourceLocation::current()) {
  detail::SpawnOrigin origin(fn, a1);
  go(std::move(name), detail::call_in_frame(std::move(fn), std::move(a1)), where);
}
template <class F, class A1, class A2>
requires detail::TaskFactory<F, A1, A2>
void go(std::string name, F fn, A1 a1, A2 a2, SourceLocation where = SourceLocation::current()) {
  detail::SpawnOrigin origin(fn, a1, a2);
  go(std::move(name), detail::call_in_frame(std::move(fn), std::move(a1), std::move(a2)), where);
}

// ---- scheduling points and introspection ------------------------------------

namespace detail {
class YieldOp {
 public:
  explicit YieldOp(SourceLocation where) noexcept : where_(where) {}
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> self);
  void await_resume() const noexcept {}

 private:
  SourceLocation where_;
};
}  // namespace detail

// An extra scheduling point: the executor may run another task here.
detail::YieldOp yield(SourceLocation where = SourceLocation::current());

// Live tasks on the current executor, the running one included
// (runtime.NumGoroutine). 0 outside an executor.
std::size_t num_tasks();

// Every live task, as Go's goroutine dump (pprof debug=2) prints it.
// Writes a one-line note outside an executor.
void dump_tasks(std::ostream& out);

// A value in [0, n) chosen by the executor: recorded in the trace and
// replayed exactly. Panics for n == 0; throws std::logic_error outside an
// executor.
std::uint64_t random(std::uint64_t n);

// A promise to dfs's state cache: from here on, this task behaves as a
// function of its closure (what go() was given), this call's location and
// `state` alone; nothing it received or chose before matters any more. Put
// it at the head of a loop that carries nothing from one iteration to the
// next (a worker taking jobs), with `state` naming whatever the loop does
// carry (a counter). dfs then treats a task that has served three jobs and
// one that has served five as the same state, which its own model (the
// task's whole history) cannot know. A wrong promise makes dfs prune
// schedules it should explore: `dfs:<P>:nocheckpoint` ignores every
// checkpoint. Not a scheduling point; does nothing under other strategies
// or on threads. Throws std::logic_error outside an executor.
void checkpoint(std::uint64_t state = 0, SourceLocation where = SourceLocation::current());

}  // namespace chanfuzz
