// Mutex and WaitGroup.
#include "chanfuzz/sync.hpp"

namespace chanfuzz {

namespace detail {
namespace {
std::uint64_t new_id() {
  Executor* executor = current_executor();
  return executor ? executor->new_object_id() : 0;
}
}  // namespace

MutexState::MutexState(SourceLocation where) : id(new_id()), created_at(where) {}

WaitObject MutexState::describe() const {
  WaitObject out;
  out.kind = WaitObject::Kind::mutex;
  out.id = id;
  out.type = "sync.Mutex";
  out.created_at = created_at;
  lock.lock();
  out.closed = locked;  // for a mutex: locked
  out.receivers = waiters.live_count();
  lock.unlock();
  return out;
}

WaitGroupState::WaitGroupState(SourceLocation where) : id(new_id()), created_at(where) {}

WaitObject WaitGroupState::describe() const {
  WaitObject out;
  out.kind = WaitObject::Kind::wait_group;
  out.id = id;
  out.type = "sync.WaitGroup";
  out.created_at = created_at;
  lock.lock();
  out.length = static_cast<std::size_t>(counter);
  out.receivers = waiters.live_count();
  lock.unlock();
  return out;
}
}  // namespace detail

// ---- Mutex ----

LockOp::~LockOp() {
  if (queued_) {
    state_->lock.lock();
    state_->waiters.remove(&waiter_);
    state_->lock.unlock();
  }
}

bool LockOp::await_suspend(std::coroutine_handle<> self) {
  self_ = self;
  return detail::suspend_at_scheduling_point(*this, self, "sync.Mutex.Lock", where_);
}

bool LockOp::attempt() {
  Executor& executor = *current_executor();
  state_->lock.lock();
  if (!state_->locked) {
    state_->locked = true;
    state_->lock.unlock();
    return true;
  }
  waiter_.task = executor.current_task();
  waiter_.select = nullptr;
  waiter_.slot = this;
  if (woken_before_) {
    state_->waiters.push_front(&waiter_);
  } else {
    state_->waiters.push_back(&waiter_);
  }
  queued_ = true;
  executor.block(self_, WaitReason::mutex_lock, where_, this);
  state_->lock.unlock();
  return false;
}

void LockOp::describe(std::vector<WaitObject>& out) const { out.push_back(state_->describe()); }

Mutex::Mutex(SourceLocation where) : state_(std::make_shared<detail::MutexState>(where)) {}

void detail::unlock_mutex(MutexState& state) {
  state.lock.lock();
  if (!state.locked) {
    state.lock.unlock();
    throw Panic(panic_message::unlock_of_unlocked);
  }
  state.locked = false;
  Waiter* first = state.waiters.dequeue();
  LockOp* op = nullptr;
  if (first) {
    op = static_cast<LockOp*>(first->slot);
    op->mark_woken();
  }
  state.lock.unlock();
  // The woken task tries again when it runs: another task may take the lock first.
  if (first) wake_waiter(first, op);
}

void Mutex::unlock(SourceLocation where) const {
  detail::poll_point("sync.Mutex.Unlock", where, state_->id);
  detail::unlock_mutex(*state_);
}

bool Mutex::try_lock(SourceLocation where) const {
  detail::poll_point("sync.Mutex.TryLock", where, state_->id);
  state_->lock.lock();
  bool acquired = !state_->locked;
  state_->locked = true;
  state_->lock.unlock();
  return acquired;
}

void LockGuard::unlock() {
  if (auto state = std::move(state_)) {
    detail::note_change("sync.Mutex.Unlock", state->id);  // a destructor: no poll point
    detail::unlock_mutex(*state);
  }
}

// ---- WaitGroup ----

WaitGroupOp::~WaitGroupOp() {
  if (queued_) {
    state_->lock.lock();
    state_->waiters.remove(&waiter_);
    state_->lock.unlock();
  }
}

bool WaitGroupOp::await_suspend(std::coroutine_handle<> self) {
  self_ = self;
  return detail::suspend_at_scheduling_point(*this, self, "sync.WaitGroup.Wait", where_);
}

bool WaitGroupOp::attempt() {
  Executor& executor = *current_executor();
  state_->lock.lock();
  if (state_->counter == 0) {
    state_->lock.unlock();
    return true;
  }
  waiter_.task = executor.current_task();
  waiter_.select = nullptr;
  state_->waiters.push_back(&waiter_);
  queued_ = true;
  executor.block(self_, WaitReason::wait_group_wait, where_, this);
  state_->lock.unlock();
  return false;
}

void WaitGroupOp::describe(std::vector<WaitObject>& out) const {
  out.push_back(state_->describe());
}

WaitGroup::WaitGroup(SourceLocation where)
    : state_(std::make_shared<detail::WaitGroupState>(where)) {}

void WaitGroup::add(std::int64_t n, SourceLocation where) const {
  detail::poll_point("sync.WaitGroup.Add", where, state_->id);
  state_->lock.lock();
  if (state_->counter + n < 0) {
    state_->lock.unlock();
    throw Panic(panic_message::negative_wait_group);
  }
  state_->counter += n;
  detail::Waiter* chain = nullptr;
  if (state_->counter == 0) {
    detail::Waiter** tail = &chain;
    while (detail::Waiter* w = state_->waiters.dequeue()) {
      *tail = w;
      tail = &w->next;
    }
  }
  state_->lock.unlock();
  detail::wake_chain(chain);
}

std::int64_t WaitGroup::count() const noexcept {
  state_->lock.lock();
  std::int64_t n = state_->counter;
  state_->lock.unlock();
  return n;
}

}  // namespace chanfuzz
