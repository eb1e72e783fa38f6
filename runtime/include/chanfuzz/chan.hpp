// Chan<T>: Go's channel for C++20 coroutines.
//
//   auto ch = make_chan<int>(3);      // buffered, capacity 3 (0: unbuffered)
//   co_await ch.send(1);              // blocks while the buffer is full / no receiver
//   auto [v, ok] = co_await ch.recv();// ok == false: closed and drained, v == int{}
//   ch.close();
//
// Semantics are Go's (the spec and runtime/chan.go):
// - A nil channel (Chan<T>{}) blocks send and recv forever; closing it panics.
// - Send on a closed channel panics, also for a sender already blocked when
//   the channel is closed. Close of a closed channel panics.
// - Recv on a closed channel drains the buffer, then returns {T{}, false}.
// - Close wakes every blocked receiver and sender.
// - Values from one sender arrive in the order sent.
//
// Every send, recv (and select) is a scheduling point: the executor may run
// another task first. try_send, try_recv and close never suspend.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <typeinfo>
#include <utility>
#include <vector>

#include "chanfuzz/detail/spin_lock.hpp"
#include "chanfuzz/detail/tracking.hpp"
#include "chanfuzz/detail/wait_queue.hpp"
#include "chanfuzz/executor.hpp"

namespace chanfuzz {

// The element type of signal channels (Go's struct{}).
struct Unit {
  friend constexpr bool operator==(Unit, Unit) noexcept { return true; }
};

// The result of a receive. ok == false: the channel is closed and drained,
// and value == T{}.
template <class T>
struct Recv {
  T value{};
  bool ok = false;
  friend bool operator==(const Recv&, const Recv&) = default;
};

template <class T>
class Chan;

namespace detail {

// The untyped part of a channel (Go's hchan without the buffer).
//
// Invariants (under lock), for the waiters that are not stale:
//   closed                 => sendq and recvq are empty
//   count > 0              => recvq is empty
//   count < capacity       => sendq is empty
//   capacity == 0          => count == 0, and sendq or recvq is empty
//                             (except one task's select waiting on both)
class ChanCore : public TrackedObject {
 public:
  ChanCore(std::size_t capacity, const std::type_info& element, SourceLocation where);
  ChanCore(const ChanCore&) = delete;
  ChanCore& operator=(const ChanCore&) = delete;

  // Guards everything below except the constants. Held only for a few
  // instructions; never while calling into user code, the executor's wake, or
  // while taking another channel's lock except in address order (select).
  mutable SpinLock lock;
  std::size_t count = 0;  // values in the buffer
  bool closed = false;
  WaitQueue sendq;
  WaitQueue recvq;

  const std::size_t capacity;
  const std::type_info& element;
  const std::uint64_t id;
  const SourceLocation created_at;

  // Takes the lock.
  WaitObject describe() const;
  // Aborts with "chanfuzz internal error" when an invariant is broken.
  // Checked in debug builds after every change; caller holds the lock.
  void check_invariants_locked() const noexcept;
};

// Panics for a capacity Go would reject ("makechan: size out of range").
void check_capacity(std::size_t capacity);

template <class T>
class ChanState final : public ChanCore {
 public:
  ChanState(std::size_t capacity, SourceLocation where)
      : ChanCore(capacity, typeid(T), where),
        slots_(capacity ? std::allocator<T>().allocate(capacity) : nullptr) {}
  ~ChanState() {
    while (count > 0) pop_front();
    if (slots_) std::allocator<T>().deallocate(slots_, capacity);
  }

  enum class Outcome { done, closed, would_block };

  // ---- the caller holds `lock` for all of these ----

  bool send_ready_locked() noexcept {
    return closed || recvq.peek() != nullptr || count < capacity;
  }
  bool recv_ready_locked() noexcept { return count > 0 || closed || sendq.peek() != nullptr; }

  // Go's chansend without the blocking: hands `value` to a waiting receiver,
  // or buffers it. `woken` receives the receiver to wake after unlocking.
  Outcome send_locked(T& value, Waiter*& woken) {
    if (closed) return Outcome::closed;
    if (Waiter* receiver = recvq.dequeue()) {
      auto* out = static_cast<Recv<T>*>(receiver->slot);
      out->value = std::move(value);
      out->ok = true;
      receiver->success = true;
      woken = receiver;
#if defined(CHANFUZZ_MUTANT_LOST_WAKEUP_SELECT)  // test-only planted bug (scripts/fuzz --mutants)
      if (receiver->select && receiver->case_index > 0) woken = nullptr;
#endif
      return Outcome::done;
    }
    if (count < capacity) {
      push_back(std::move(value));
      return Outcome::done;
    }
#if defined(CHANFUZZ_MUTANT_DROP_OLDEST_WHEN_FULL)  // test-only bug (scripts/fuzz --mutants)
    if (capacity > 0) {
      pop_front();
      push_back(std::move(value));
      return Outcome::done;
    }
#endif
    return Outcome::would_block;
  }

  // Go's chanrecv without the blocking. `closed` means closed and drained:
  // `out` is then {T{}, false}.
  Outcome recv_locked(Recv<T>& out, Waiter*& woken) {
    if (closed && count == 0) {
      out = Recv<T>{};
      return Outcome::closed;
    }
    if (Waiter* sender = sendq.dequeue()) {
      T* in = static_cast<T*>(sender->slot);
      if (capacity == 0) {
        out.value = std::move(*in);
      } else {
        // The buffer is full: take its head and put the sender's value at
        // the tail, so values keep their order.
        out.value = pop_front();
        push_back(std::move(*in));
      }
      out.ok = true;
      sender->success = true;
      woken = sender;
      return Outcome::done;
    }
    if (count > 0) {
      out.value = pop_front();
      out.ok = true;
      return Outcome::done;
    }
    return Outcome::would_block;
  }

  // Marks the channel closed and unlinks every waiter, chained through
  // `next` for wake_chain(). The caller checked that it was open.
  Waiter* close_locked() noexcept {
    closed = true;
    Waiter* chain = nullptr;
    Waiter** tail = &chain;
    for (WaitQueue* q : {&recvq, &sendq}) {
#if defined(CHANFUZZ_MUTANT_CLOSE_NO_WAKE_SENDERS)  // test-only bug (scripts/fuzz --mutants)
      if (q == &sendq) break;
#endif
      while (Waiter* w = q->dequeue()) {
        w->success = false;  // receivers keep their {T{}, false}; senders panic
        *tail = w;
        tail = &w->next;
      }
    }
    return chain;
  }

 private:
  void push_back(T&& value) {
    std::size_t index = (head_ + count) % capacity;
    std::construct_at(slots_ + index, std::move(value));
    ++count;
  }
  T pop_front() {
    T value = std::move(slots_[head_]);
    std::destroy_at(slots_ + head_);
    head_ = (head_ + 1) % capacity;
    --count;
    return value;
  }

  T* slots_;
  std::size_t head_ = 0;
};

// The current task, for linking a waiter. Requires an executor.
TaskRecord* current_task_or_throw(const char* operation);

}  // namespace detail

// co_await ch.recv(): a Recv<T>. Also a case of select().
template <class T>
class [[nodiscard]] RecvOp final : public PendingOp, public Blocker {
 public:
  using state_type = detail::ChanState<T>;
  using result_type = Recv<T>;

  RecvOp(std::shared_ptr<state_type> channel, SourceLocation where) noexcept
      : channel_(std::move(channel)), where_(where) {}
  RecvOp(RecvOp&& other) noexcept : channel_(std::move(other.channel_)), where_(other.where_) {}
  RecvOp(const RecvOp&) = delete;
  RecvOp& operator=(const RecvOp&) = delete;
  RecvOp& operator=(RecvOp&&) = delete;
  ~RecvOp() {
    if (queued_) {
      channel_->lock.lock();
      channel_->recvq.remove(&waiter_);
      channel_->lock.unlock();
    }
  }

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> self) {
    self_ = self;
    return detail::suspend_at_scheduling_point(*this, self, "chan receive", where_);
  }
  Recv<T> await_resume() {
    queued_ = false;  // a waker unlinked us and filled result_
    return std::move(result_);
  }

  bool attempt() override {
    Executor& executor = *current_executor();
    if (!channel_) {
      executor.block(self_, WaitReason::chan_receive_nil, where_, this);
      return false;
    }
    detail::Waiter* woken = nullptr;
    channel_->lock.lock();
    if (channel_->recv_locked(result_, woken) == state_type::Outcome::would_block) {
      link_locked(nullptr, 0, executor.current_task());
      executor.block(self_, WaitReason::chan_receive, where_, this);
      channel_->lock.unlock();
      return false;
    }
    channel_->lock.unlock();
    if (woken) detail::wake_waiter(woken);
    return true;
  }

  void describe(std::vector<WaitObject>& out) const override { out.push_back(describe_channel()); }
  bool references(std::vector<const detail::TrackedObject*>& out) const override {
    add_reference(out);
    return true;
  }
  // The channel this operation holds (none for the nil channel).
  void add_reference(std::vector<const detail::TrackedObject*>& out) const {
    if (channel_) out.push_back(channel_.get());
  }

  // ---- as a select case; the select holds the channel's lock ----
  detail::ChanCore* core() const noexcept { return channel_.get(); }
  SourceLocation where() const noexcept { return where_; }
  bool ready_locked() noexcept { return channel_->recv_ready_locked(); }
  bool complete_locked(detail::Waiter*& woken) {
    return channel_->recv_locked(result_, woken) != state_type::Outcome::would_block;
  }
  void link_locked(detail::SelectState* select, std::uint32_t index, TaskRecord* task) noexcept {
    waiter_.task = task;
    waiter_.select = select;
    waiter_.case_index = index;
    waiter_.slot = &result_;
    waiter_.success = false;
    channel_->recvq.push_back(&waiter_);
    queued_ = true;
  }
  void unlink_locked() noexcept {
    channel_->recvq.remove(&waiter_);
    queued_ = false;
  }
  Recv<T> take_result() { return std::move(result_); }
  WaitObject describe_channel() const;

 private:
  std::shared_ptr<state_type> channel_;
  SourceLocation where_;
  std::coroutine_handle<> self_;
  detail::Waiter waiter_;
  Recv<T> result_{};
  bool queued_ = false;  // waiter_ may be linked (we must unlink it when destroyed)
};

// co_await ch.send(v): completes when the value was delivered or buffered.
// Also a case of select().
template <class T>
class [[nodiscard]] SendOp final : public PendingOp, public Blocker {
 public:
  using state_type = detail::ChanState<T>;
  using result_type = Unit;

  SendOp(std::shared_ptr<state_type> channel, T value, SourceLocation where)
      : channel_(std::move(channel)), value_(std::move(value)), where_(where) {}
  SendOp(SendOp&& other) noexcept(std::is_nothrow_move_constructible_v<T>)
      : channel_(std::move(other.channel_)),
        value_(std::move(other.value_)),
        where_(other.where_) {}
  SendOp(const SendOp&) = delete;
  SendOp& operator=(const SendOp&) = delete;
  SendOp& operator=(SendOp&&) = delete;
  ~SendOp() {
    if (queued_) {
      channel_->lock.lock();
      channel_->sendq.remove(&waiter_);
      channel_->lock.unlock();
    }
  }

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> self) {
    self_ = self;
    return detail::suspend_at_scheduling_point(*this, self, "chan send", where_);
  }
  void await_resume() {
    if (queued_) {
      queued_ = false;  // a waker unlinked us
      if (!waiter_.success) throw Panic(panic_message::send_on_closed);
    }
    if (closed_) throw Panic(panic_message::send_on_closed);
  }

  bool attempt() override {
    Executor& executor = *current_executor();
    if (!channel_) {
      executor.block(self_, WaitReason::chan_send_nil, where_, this);
      return false;
    }
    detail::Waiter* woken = nullptr;
    channel_->lock.lock();
    switch (channel_->send_locked(value_, woken)) {
      case state_type::Outcome::would_block:
        link_locked(nullptr, 0, executor.current_task());
        executor.block(self_, WaitReason::chan_send, where_, this);
        channel_->lock.unlock();
        return false;
      case state_type::Outcome::closed:
        closed_ = true;
        break;
      case state_type::Outcome::done:
        break;
    }
    channel_->lock.unlock();
    if (woken) detail::wake_waiter(woken);
    return true;
  }

  void describe(std::vector<WaitObject>& out) const override { out.push_back(describe_channel()); }
  bool references(std::vector<const detail::TrackedObject*>& out) const override {
    add_reference(out);
    return true;
  }
  // The channel this operation holds (none for the nil channel).
  void add_reference(std::vector<const detail::TrackedObject*>& out) const {
    if (channel_) out.push_back(channel_.get());
  }

  // ---- as a select case; the select holds the channel's lock ----
  detail::ChanCore* core() const noexcept { return channel_.get(); }
  SourceLocation where() const noexcept { return where_; }
  bool ready_locked() noexcept { return channel_->send_ready_locked(); }
  // false: would block. A closed channel completes, and take_result() panics.
  bool complete_locked(detail::Waiter*& woken) {
    switch (channel_->send_locked(value_, woken)) {
      case state_type::Outcome::would_block:
        return false;
      case state_type::Outcome::closed:
        closed_ = true;
        return true;
      case state_type::Outcome::done:
        return true;
    }
    return true;
  }
  void link_locked(detail::SelectState* select, std::uint32_t index, TaskRecord* task) noexcept {
    waiter_.task = task;
    waiter_.select = select;
    waiter_.case_index = index;
    waiter_.slot = &value_;
    waiter_.success = false;
    channel_->sendq.push_back(&waiter_);
    queued_ = true;
  }
  void unlink_locked() noexcept {
    channel_->sendq.remove(&waiter_);
    queued_ = false;
  }
  // After a select completed this case: panics if the channel was closed.
  Unit take_result() {
    if (closed_) throw Panic(panic_message::send_on_closed);
    return Unit{};
  }
  void mark_closed() noexcept { closed_ = true; }
  WaitObject describe_channel() const;

 private:
  std::shared_ptr<state_type> channel_;
  T value_;
  SourceLocation where_;
  std::coroutine_handle<> self_;
  detail::Waiter waiter_;
  bool queued_ = false;
  bool closed_ = false;  // completed by finding the channel closed: panic on resume
};

template <class T>
class Chan {
 public:
  using value_type = T;

  // The nil channel.
  Chan() noexcept = default;
  explicit Chan(std::shared_ptr<detail::ChanState<T>> state) noexcept : state_(std::move(state)) {}

  // Blocks until a receiver took the value or the buffer had room.
  // Panics "send on closed channel" if the channel is or becomes closed.
  // A nil channel blocks forever ("chan send (nil chan)").
  SendOp<T> send(T value, SourceLocation where = SourceLocation::current()) const {
    return SendOp<T>(state_.shared(), std::move(value), where);
  }

  // Blocks until a value arrives or the channel is closed and drained
  // ({T{}, false}). A nil channel blocks forever ("chan receive (nil chan)").
  RecvOp<T> recv(SourceLocation where = SourceLocation::current()) const {
    return RecvOp<T>(state_.shared(), where);
  }

  // Wakes every blocked receiver ({T{}, false}) and sender (which panic).
  // Panics "close of nil channel" / "close of closed channel".
  void close(SourceLocation where = SourceLocation::current()) const {
    detail::poll_point("chan close", where, state_ ? state_->id : 0);
    if (!state_) throw Panic(panic_message::close_of_nil);
    state_->lock.lock();
    if (state_->closed) {
      state_->lock.unlock();
      throw Panic(panic_message::close_of_closed);
    }
    detail::Waiter* chain = state_->close_locked();
    state_->lock.unlock();
    detail::wake_chain(chain);
  }

  // Sends if that would not block; false otherwise (nil channel: false).
  // Panics "send on closed channel" on a closed channel.
  bool try_send(T value, SourceLocation where = SourceLocation::current()) const {
    detail::poll_point("chan try_send", where);
    if (!state_) return false;
    detail::Waiter* woken = nullptr;
    state_->lock.lock();
    auto outcome = state_->send_locked(value, woken);
    state_->lock.unlock();
    if (outcome == detail::ChanState<T>::Outcome::closed) {
      throw Panic(panic_message::send_on_closed);
    }
    if (woken) detail::wake_waiter(woken);
    return outcome == detail::ChanState<T>::Outcome::done;
  }

  // Receives if that would not block; std::nullopt otherwise (nil channel:
  // nullopt). A closed, drained channel gives {T{}, false}.
  std::optional<Recv<T>> try_recv(SourceLocation where = SourceLocation::current()) const {
    detail::poll_point("chan try_recv", where);
    if (!state_) return std::nullopt;
    Recv<T> result{};
    detail::Waiter* woken = nullptr;
    state_->lock.lock();
    auto outcome = state_->recv_locked(result, woken);
    state_->lock.unlock();
    if (woken) detail::wake_waiter(woken);
    if (outcome == detail::ChanState<T>::Outcome::would_block) return std::nullopt;
    return result;
  }

  // Values buffered now (0 for nil and unbuffered channels).
  std::size_t len() const noexcept {
    if (!state_) return 0;
    state_->lock.lock();
    std::size_t n = state_->count;
    state_->lock.unlock();
    return n;
  }
  std::size_t cap() const noexcept { return state_ ? state_->capacity : 0; }

  explicit operator bool() const noexcept { return static_cast<bool>(state_); }
  friend bool operator==(const Chan& a, const Chan& b) noexcept {
    return a.state_.get() == b.state_.get();
  }

  // For reports: the channel's id on its executor (0: nil or made outside one).
  std::uint64_t id() const noexcept { return state_ ? state_->id : 0; }
  const std::shared_ptr<detail::ChanState<T>>& state() const noexcept { return state_.shared(); }

 private:
  // A registered handle (detail/tracking.hpp): online leak detection knows
  // where every Chan lives.
  detail::TrackedRef<detail::ChanState<T>> state_;
};

// make(chan T, capacity). Panics "makechan: size out of range" for a capacity
// no buffer could hold.
template <class T>
Chan<T> make_chan(std::size_t capacity = 0, SourceLocation where = SourceLocation::current()) {
  detail::check_capacity(capacity);
  return Chan<T>(std::make_shared<detail::ChanState<T>>(capacity, where));
}

namespace detail {
WaitObject describe_nil_channel(const std::type_info& element);
}

template <class T>
WaitObject RecvOp<T>::describe_channel() const {
  WaitObject out = channel_ ? channel_->describe() : detail::describe_nil_channel(typeid(T));
  out.direction = WaitObject::Direction::receive;
  return out;
}
template <class T>
WaitObject SendOp<T>::describe_channel() const {
  WaitObject out = channel_ ? channel_->describe() : detail::describe_nil_channel(typeid(T));
  out.direction = WaitObject::Direction::send;
  return out;
}

}  // namespace chanfuzz
