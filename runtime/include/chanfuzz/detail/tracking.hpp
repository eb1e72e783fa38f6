// Reference tracking, for online leak detection (ThreadExecutor::find_leaks).
//
// A task blocked on a channel that nothing still running can reach will never
// wake: it is leaked now, not only when the program ends. Go 1.26's goroutine
// leak profile finds such goroutines with the garbage collector's marking
// (Saioc et al., ASPLOS 2025); chanfuzz has no collector, so it tracks the
// references itself:
//
// - Every handle (Chan<T>, WaitGroup, Mutex) is a TrackedRef: next to its
//   shared_ptr it keeps a tag word, the address of its object scrambled
//   with a constant, while it refers to the object, and clears it (with a
//   store the compiler may not drop) when it lets go. Copies and moves cost
//   a store; nothing is locked or linked.
// - Every coroutine frame is allocated by the runtime (PromiseBase's
//   operator new), which records where the frame lies. The detector reads
//   the frames of every task for tags: a handle whose tag lies inside a
//   task's frames belongs to that task.
// - Every other reference to an object (a handle on the heap, in a global,
//   on a thread's stack, in another object; an operation in flight; a
//   timer; a LockGuard) shows as the difference between the object's
//   use_count and the handles found in frames, less the references that
//   blocked operations declare (Blocker::references). What is left over
//   counts as reachable by anyone.
//
// The detector (thread_executor.cpp) then marks, as a collector does: an
// object is live if a live task or anyone can reach it; a blocked task is
// live if it waits on a live object; the remaining blocked tasks are leaked.
// Everything unknown counts as live, so the detector errs only towards
// missing a leak, never towards reporting one that is not.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

namespace chanfuzz::detail {

// An object that handles refer to. Always owned by shared_ptrs made with
// std::make_shared (use_count() is read through weak_from_this()).
class TrackedObject : public std::enable_shared_from_this<TrackedObject> {
 public:
  TrackedObject() noexcept = default;
  TrackedObject(const TrackedObject&) = delete;
  TrackedObject& operator=(const TrackedObject&) = delete;

  // Every strong reference: handles, operations, timers, anything.
  long reference_count() const noexcept { return weak_from_this().use_count(); }

 protected:
  ~TrackedObject() = default;
};

// The tag of a handle that refers to `object`, and back.
inline constexpr std::uintptr_t kHandleTagKey = 0x9e3779b97f4a7c15u;
inline std::uintptr_t handle_tag(const TrackedObject* object) noexcept {
  return object ? reinterpret_cast<std::uintptr_t>(object) ^ kHandleTagKey : 0;
}
inline const TrackedObject* tagged_object(std::uintptr_t tag) noexcept {
  return reinterpret_cast<const TrackedObject*>(tag ^ kHandleTagKey);
}

// A shared_ptr<S> that online leak detection can find in a frame: what
// Chan<T>, WaitGroup and Mutex hold.
template <class S>
class TrackedRef {
 public:
  TrackedRef() noexcept = default;
  explicit TrackedRef(std::shared_ptr<S> object) noexcept : ptr_(std::move(object)) { retag(); }
  TrackedRef(const TrackedRef& other) noexcept : ptr_(other.ptr_) { retag(); }
  TrackedRef(TrackedRef&& other) noexcept : ptr_(std::move(other.ptr_)) {
    retag();
    other.store_tag(0);
  }
  TrackedRef& operator=(const TrackedRef& other) noexcept {
    ptr_ = other.ptr_;
    retag();
    return *this;
  }
  TrackedRef& operator=(TrackedRef&& other) noexcept {
    if (this != &other) {
      ptr_ = std::move(other.ptr_);
      retag();
      other.store_tag(0);
    }
    return *this;
  }
  ~TrackedRef() { store_tag(0); }

  const std::shared_ptr<S>& shared() const noexcept { return ptr_; }
  S* get() const noexcept { return ptr_.get(); }
  S* operator->() const noexcept { return ptr_.get(); }
  S& operator*() const noexcept { return *ptr_; }
  explicit operator bool() const noexcept { return static_cast<bool>(ptr_); }

 private:
  void retag() noexcept { store_tag(handle_tag(ptr_.get())); }
  // Volatile: a store to an object whose lifetime ends is otherwise dead
  // to the optimizer, and a stale tag would count as a handle.
  void store_tag(std::uintptr_t tag) noexcept {
    *static_cast<volatile std::uintptr_t*>(&tag_) = tag;
  }

  std::shared_ptr<S> ptr_;
  std::uintptr_t tag_ = 0;
};

}  // namespace chanfuzz::detail
