// Context cancellation: a tree of contexts, each with a done channel.
#include "chanfuzz/context.hpp"

#include <mutex>
#include <vector>

#include "chanfuzz/executor.hpp"

namespace chanfuzz {

namespace detail {

// One cancellable context.
//
// Invariants (under mu):
//   err != none         => done is closed, children is empty
//   self_while_armed    => the deadline timer is armed on timer_executor
// Lock order: a parent's mu before a child's; mu before any channel lock.
struct ContextState final : TimerNode {
  std::mutex mu;  // guards err, children, timer_executor, self_while_armed
  std::shared_ptr<ContextState> parent;
  Chan<Unit> done;
  ContextError err = ContextError::none;
  std::optional<TimePoint> deadline;
  std::vector<std::weak_ptr<ContextState>> children;
  std::size_t prune_at = 8;  // children.size() that triggers dropping expired entries
  Executor* timer_executor = nullptr;
  std::shared_ptr<ContextState> self_while_armed;  // a timer keeps its context alive

  void fire() override;
  void discard() noexcept override;
};

namespace {

void close_done(const Chan<Unit>& done) {
  auto& state = *done.state();
  state.lock.lock();
  bool closing = !state.closed;
  Waiter* chain = closing ? state.close_locked() : nullptr;
  std::uint64_t id = state.id;
  state.lock.unlock();
  if (closing) note_change("context cancel", id);  // no poll point: the cancel is not a step
  wake_chain(chain);
}

// Cancels `root` and every descendant with `error`. Iterative, so a deep
// chain of contexts cannot overflow the stack.
void cancel_tree(const std::shared_ptr<ContextState>& root, ContextError error) {
  std::vector<std::shared_ptr<ContextState>> work{root};
  while (!work.empty()) {
    std::shared_ptr<ContextState> context = std::move(work.back());
    work.pop_back();
    std::vector<std::weak_ptr<ContextState>> children;
    Executor* timer_executor = nullptr;
    {
      std::lock_guard<std::mutex> guard(context->mu);
      if (context->err != ContextError::none) continue;
      context->err = error;
      children.swap(context->children);
      timer_executor = context->timer_executor;
    }
    if (timer_executor && timer_executor->cancel_timer(context.get())) {
      std::shared_ptr<ContextState> self;
      {
        std::lock_guard<std::mutex> guard(context->mu);
        context->timer_executor = nullptr;
        self = std::move(context->self_while_armed);
      }
    }
    close_done(context->done);
    for (auto& weak : children) {
      if (auto child = weak.lock()) work.push_back(std::move(child));
    }
  }
}

void remove_from_parent(const std::shared_ptr<ContextState>& context) {
  const auto& parent = context->parent;
  if (!parent) return;
  std::lock_guard<std::mutex> guard(parent->mu);
  auto& kids = parent->children;
  std::erase_if(kids, [&](const std::weak_ptr<ContextState>& weak) {
    auto child = weak.lock();
    return !child || child == context;
  });
}

}  // namespace

void ContextState::fire() {
  std::shared_ptr<ContextState> self;
  {
    std::lock_guard<std::mutex> guard(mu);
    timer_executor = nullptr;
    self = std::move(self_while_armed);
  }
  if (self) {
    cancel_tree(self, ContextError::deadline_exceeded);
    remove_from_parent(self);
  }
}

void ContextState::discard() noexcept {
  std::shared_ptr<ContextState> self;
  {
    std::lock_guard<std::mutex> guard(mu);
    timer_executor = nullptr;
    self = std::move(self_while_armed);
  }
  // `self` may be the last reference: this object may be gone after the scope.
}

}  // namespace detail

const char* context_error_message(ContextError error) noexcept {
  switch (error) {
    case ContextError::none:
      return "";
    case ContextError::canceled:
      return "context canceled";
    case ContextError::deadline_exceeded:
      return "context deadline exceeded";
  }
  return "?";
}

Chan<Unit> Context::done() const { return state_ ? state_->done : Chan<Unit>(); }

ContextError Context::err() const {
  if (!state_) return ContextError::none;
  std::lock_guard<std::mutex> guard(state_->mu);
  return state_->err;
}

std::optional<TimePoint> Context::deadline() const {
  return state_ ? state_->deadline : std::nullopt;
}

void CancelFunc::operator()() const {
  if (!state_) return;
  detail::cancel_tree(state_, ContextError::canceled);
  detail::remove_from_parent(state_);
}

Context background() { return Context(); }

std::pair<Context, CancelFunc> with_cancel(Context parent) {
  auto child = std::make_shared<detail::ContextState>();
  child->parent = parent.state();
  child->done = make_chan<Unit>(0);
  child->deadline = parent.deadline();
  ContextError inherited = ContextError::none;
  if (const auto& p = parent.state()) {
    std::lock_guard<std::mutex> guard(p->mu);
    if (p->err != ContextError::none) {
      inherited = p->err;
    } else {
      if (p->children.size() >= p->prune_at) {
        std::erase_if(p->children, [](const auto& weak) { return weak.expired(); });
        p->prune_at = 2 * p->children.size() + 8;
      }
      p->children.push_back(child);
    }
  }
  if (inherited != ContextError::none) detail::cancel_tree(child, inherited);
  return {Context(child), CancelFunc(child)};
}

std::pair<Context, CancelFunc> with_deadline(Context parent, TimePoint t) {
  Executor& executor = require_executor("with_deadline");
  if (auto earlier = parent.deadline(); earlier && *earlier <= t) return with_cancel(parent);
  auto result = with_cancel(parent);
  const auto& state = result.first.state();
  state->deadline = t;
  if (result.first.err() != ContextError::none) return result;
  if (t <= executor.now()) {
    detail::cancel_tree(state, ContextError::deadline_exceeded);
    detail::remove_from_parent(state);
    return result;
  }
  {
    std::lock_guard<std::mutex> guard(state->mu);
    if (state->err != ContextError::none) return result;
    state->when = t;
    state->timer_executor = &executor;
    state->self_while_armed = state;
  }
  executor.add_timer(state.get());
  return result;
}

std::pair<Context, CancelFunc> with_timeout(Context parent, Duration d) {
  Executor& executor = require_executor("with_timeout");
  return with_deadline(std::move(parent), executor.now() + d);
}

}  // namespace chanfuzz
