// Waiter and WaitQueue: the blocked side of a channel, mutex or wait group
// (Go's sudog and waitq).
//
// A Waiter lives inside the awaiter of the blocked operation, so inside the
// blocked coroutine's frame: it needs no allocation, and the awaiter's
// destructor unlinks it when a suspended task is destroyed.
//
// A blocked select links one Waiter per case, all pointing at one
// SelectState. The first party to claim() the state completes that case; the
// select's other waiters stay linked until the select's task runs again and
// unlinks them (Go's "pass 3"). Until then they are stale: dequeue() and
// peek() drop them instead of handing them out.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace chanfuzz {
struct TaskRecord;
class PendingOp;
}  // namespace chanfuzz

namespace chanfuzz::detail {

struct Waiter;

// Shared by the waiters of one blocked select.
struct SelectState {
  std::atomic<bool> done{false};
  Waiter* fired = nullptr;  // the case that completed; written by the claimer

  bool claim(Waiter* w) noexcept {
    if (done.exchange(true, std::memory_order_acq_rel)) return false;
    fired = w;
    return true;
  }
};

struct Waiter {
  // Links: guarded by the lock of the queue's owner.
  Waiter* prev = nullptr;
  Waiter* next = nullptr;
  bool queued = false;

  TaskRecord* task = nullptr;
  SelectState* select = nullptr;  // non-null: a case of a blocked select
  std::uint32_t case_index = 0;   // which case, for a select
  void* slot = nullptr;           // send: the T to move from; recv: the Recv<T> to fill
  bool success = false;           // set by the waker: value moved (true) or closed (false)

  // Claims the waiter for completion. Always succeeds for a plain operation;
  // for a select, only the first claim of the select succeeds.
  bool claim() noexcept { return select == nullptr || select->claim(this); }
  // A select waiter whose select was completed through another case.
  bool stale() const noexcept {
    return select != nullptr && select->done.load(std::memory_order_acquire);
  }
};

// A FIFO of waiters.
//
// Invariants (under the owner's lock):
//   head == nullptr  <=>  tail == nullptr
//   w->queued        <=>  w is reachable from head
class WaitQueue {
 public:
  bool empty() const noexcept { return head_ == nullptr; }

  void push_back(Waiter* w) noexcept {
    w->prev = tail_;
    w->next = nullptr;
    if (tail_) {
      tail_->next = w;
    } else {
      head_ = w;
    }
    tail_ = w;
    w->queued = true;
  }

  void push_front(Waiter* w) noexcept {
    w->next = head_;
    w->prev = nullptr;
    if (head_) {
      head_->prev = w;
    } else {
      tail_ = w;
    }
    head_ = w;
    w->queued = true;
  }

  // Unlinks w; a no-op when it is not queued.
  void remove(Waiter* w) noexcept {
    if (!w->queued) return;
    if (w->prev) {
      w->prev->next = w->next;
    } else {
      head_ = w->next;
    }
    if (w->next) {
      w->next->prev = w->prev;
    } else {
      tail_ = w->prev;
    }
    w->prev = w->next = nullptr;
    w->queued = false;
  }

  // Go's dequeue: unlinks and returns the first waiter that can be claimed
  // (claiming it), dropping stale select waiters on the way.
  Waiter* dequeue() noexcept {
    while (Waiter* w = head_) {
      remove(w);
      if (w->claim()) return w;
    }
    return nullptr;
  }

  // The waiter dequeue() would return, without claiming it. Drops stale
  // select waiters at the head.
  Waiter* peek() noexcept {
    while (head_ && head_->stale()) remove(head_);
    return head_;
  }

  // Waiters that are not stale.
  std::size_t live_count() const noexcept {
    std::size_t n = 0;
    for (Waiter* w = head_; w; w = w->next) n += w->stale() ? 0 : 1;
    return n;
  }

 private:
  Waiter* head_ = nullptr;
  Waiter* tail_ = nullptr;
};

// Wakes the task of a waiter that was completed and unlinked. Call after
// releasing every runtime lock.
void wake_waiter(Waiter* w, PendingOp* retry = nullptr);

// Wakes every waiter of a chain linked through `next` (close, WaitGroup).
void wake_chain(Waiter* first);

}  // namespace chanfuzz::detail
