// Reference tracking, for online leak detection (ThreadExecutor::find_leaks).
//
// A task blocked on a channel that nothing still running can reach will never
// wake: it is leaked now, not only when the program ends. Go 1.26's goroutine
// leak profile finds such goroutines with the garbage collector's marking
// (Saioc et al., ASPLOS 2025); chanfuzz has no collector, so it tracks the
// references itself:
//
// - Every handle (Chan<T>, WaitGroup, Mutex) registers its own address with
//   the object it refers to (a TrackedObject: a channel, a wait group, a
//   mutex), in an intrusive list, for as long as it refers to it.
// - Every coroutine frame is allocated by the runtime (PromiseBase's
//   operator new), which records where the frame lies. A handle whose
//   address lies inside a task's frames belongs to that task; any other
//   handle (the heap, globals, a thread's stack, another object) counts as
//   reachable by anyone.
// - Any other reference to an object (a shared_ptr copy that is not a
//   handle: an operation in flight, a timer, a LockGuard) is counted as the
//   difference between the object's use_count and its registered handles,
//   less the references that blocked operations declare
//   (Blocker::references). What is left over counts as reachable by anyone.
//
// The detector (thread_executor.cpp) then marks, as a collector does: an
// object is live if a live task or anyone can reach it; a blocked task is
// live if it waits on a live object; the remaining blocked tasks are leaked.
// Everything unknown counts as live, so the detector errs only towards
// missing a leak, never towards reporting one that is not.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>

#include "chanfuzz/detail/spin_lock.hpp"

namespace chanfuzz::detail {

class TrackedObject;

// The registration of one handle: a node inside the handle object, linked
// into its object's list while the handle refers to it.
class HandleNode {
 public:
  HandleNode() noexcept = default;
  HandleNode(const HandleNode&) = delete;
  HandleNode& operator=(const HandleNode&) = delete;

  // Links this node into `object`'s list (object may be null: no-op).
  void attach(TrackedObject* object) noexcept;
  // Unlinks it from `object` (the object it was attached to; may be null).
  void detach(TrackedObject* object) noexcept;
  // Takes `other`'s place in `object`'s list (a move): one lock, not two.
  void replace(HandleNode& other, TrackedObject* object) noexcept;

  // The address that says where the handle lives.
  const void* address() const noexcept { return this; }
  const HandleNode* next() const noexcept { return next_; }

 private:
  HandleNode* prev_ = nullptr;
  HandleNode* next_ = nullptr;
};

// An object that handles refer to. Always owned by shared_ptrs made with
// std::make_shared (use_count() is read through weak_from_this()).
class TrackedObject : public std::enable_shared_from_this<TrackedObject> {
 public:
  TrackedObject() noexcept = default;
  TrackedObject(const TrackedObject&) = delete;
  TrackedObject& operator=(const TrackedObject&) = delete;

  // For the detector, with the world stopped: the registered handles, how
  // many there are, and every strong reference (handles included).
  template <class F>
  void for_each_handle(F&& visit) const {
    handles_lock_.lock();
    for (const HandleNode* h = handles_; h; h = h->next()) visit(*h);
    handles_lock_.unlock();
  }
  std::size_t handle_count() const noexcept { return handle_count_; }
  long reference_count() const noexcept { return weak_from_this().use_count(); }

 protected:
  ~TrackedObject() = default;

 private:
  friend class HandleNode;
  mutable SpinLock handles_lock_;  // guards the list; held for a few instructions
  HandleNode* handles_ = nullptr;
  std::size_t handle_count_ = 0;
};

inline void HandleNode::attach(TrackedObject* object) noexcept {
  if (!object) return;
  object->handles_lock_.lock();
  prev_ = nullptr;
  next_ = object->handles_;
  if (next_) next_->prev_ = this;
  object->handles_ = this;
  ++object->handle_count_;
  object->handles_lock_.unlock();
}

inline void HandleNode::detach(TrackedObject* object) noexcept {
  if (!object) return;
  object->handles_lock_.lock();
  if (prev_) {
    prev_->next_ = next_;
  } else {
    object->handles_ = next_;
  }
  if (next_) next_->prev_ = prev_;
  --object->handle_count_;
  object->handles_lock_.unlock();
  prev_ = next_ = nullptr;
}

inline void HandleNode::replace(HandleNode& other, TrackedObject* object) noexcept {
  if (!object) return;
  object->handles_lock_.lock();
  prev_ = other.prev_;
  next_ = other.next_;
  if (prev_) {
    prev_->next_ = this;
  } else {
    object->handles_ = this;
  }
  if (next_) next_->prev_ = this;
  object->handles_lock_.unlock();
  other.prev_ = other.next_ = nullptr;
}

// A shared_ptr<S> that is a registered handle of its object: what Chan<T>,
// WaitGroup and Mutex hold.
template <class S>
class TrackedRef {
 public:
  TrackedRef() noexcept = default;
  explicit TrackedRef(std::shared_ptr<S> object) noexcept : ptr_(std::move(object)) {
    node_.attach(ptr_.get());
  }
  TrackedRef(const TrackedRef& other) noexcept : ptr_(other.ptr_) { node_.attach(ptr_.get()); }
  TrackedRef(TrackedRef&& other) noexcept : ptr_(std::move(other.ptr_)) {
    node_.replace(other.node_, ptr_.get());
  }
  TrackedRef& operator=(const TrackedRef& other) noexcept {
    if (this != &other) {
      node_.detach(ptr_.get());
      ptr_ = other.ptr_;
      node_.attach(ptr_.get());
    }
    return *this;
  }
  TrackedRef& operator=(TrackedRef&& other) noexcept {
    if (this != &other) {
      node_.detach(ptr_.get());
      ptr_ = std::move(other.ptr_);
      node_.replace(other.node_, ptr_.get());
    }
    return *this;
  }
  ~TrackedRef() { node_.detach(ptr_.get()); }

  const std::shared_ptr<S>& shared() const noexcept { return ptr_; }
  S* get() const noexcept { return ptr_.get(); }
  S* operator->() const noexcept { return ptr_.get(); }
  S& operator*() const noexcept { return *ptr_; }
  explicit operator bool() const noexcept { return static_cast<bool>(ptr_); }

 private:
  std::shared_ptr<S> ptr_;
  HandleNode node_;
};

// Where coroutine frames lie: PromiseBase's operator new records each frame,
// and the promise claims the frame it lives in (task.cpp).
void* allocate_frame(std::size_t size);
void deallocate_frame(void* frame, std::size_t size) noexcept;

}  // namespace chanfuzz::detail
