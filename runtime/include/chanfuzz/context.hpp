// Context: Go's context.Context cancellation for tasks.
//
//   auto [ctx, cancel] = with_timeout(background(), std::chrono::seconds(1));
//   auto s = co_await select(work.recv(), ctx.done().recv());
//   if (s.index() == 1) co_return;   // ctx.err(): canceled or deadline_exceeded
//
// - done() is closed when the context is cancelled or its deadline passes;
//   background().done() is the nil channel (never closed).
// - Cancelling a context cancels every descendant; a child never cancels its
//   parent. A child of an already-cancelled context starts cancelled.
// - CancelFunc is idempotent and may be called from any task (or none).
// - A timer keeps a context with a deadline alive until it fires, as in Go.
//
// Lock order: a parent's lock before its child's, both before any channel
// lock; no lock is held while a task is woken.
#pragma once

#include <memory>
#include <optional>
#include <utility>

#include "chanfuzz/chan.hpp"
#include "chanfuzz/clock.hpp"

namespace chanfuzz {

enum class ContextError : std::uint8_t { none, canceled, deadline_exceeded };

// "context canceled", "context deadline exceeded" (Go's messages), or "".
const char* context_error_message(ContextError error) noexcept;

namespace detail {
struct ContextState;
}

class Context {
 public:
  // background().
  Context() noexcept = default;
  explicit Context(std::shared_ptr<detail::ContextState> state) noexcept
      : state_(std::move(state)) {}

  // Closed when this context is cancelled; nil for background().
  Chan<Unit> done() const;
  ContextError err() const;
  std::optional<TimePoint> deadline() const;

  friend bool operator==(const Context& a, const Context& b) noexcept {
    return a.state_ == b.state_;
  }
  const std::shared_ptr<detail::ContextState>& state() const noexcept { return state_; }

 private:
  std::shared_ptr<detail::ContextState> state_;  // null: background
};

// Cancels its context (err() == canceled) and its descendants. Idempotent.
class CancelFunc {
 public:
  CancelFunc() noexcept = default;
  explicit CancelFunc(std::shared_ptr<detail::ContextState> state) noexcept
      : state_(std::move(state)) {}
  void operator()() const;

 private:
  std::shared_ptr<detail::ContextState> state_;
};

Context background();
std::pair<Context, CancelFunc> with_cancel(Context parent);
// Cancelled with deadline_exceeded at now() + d (timeouts need an executor:
// std::logic_error outside one).
std::pair<Context, CancelFunc> with_timeout(Context parent, Duration d);
// Cancelled with deadline_exceeded at t, or at the parent's deadline if that
// is earlier (then it is just with_cancel).
std::pair<Context, CancelFunc> with_deadline(Context parent, TimePoint t);

}  // namespace chanfuzz
