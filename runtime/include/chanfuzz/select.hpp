// select: wait on several channel operations, complete exactly one.
//
//   auto s = co_await select(work.recv(), out.send(v), done.recv(), default_case());
//   switch (s.index()) {                 // the case taken, in argument order
//     case 0: { auto [value, ok] = s.get<0>(); ... } break;
//     case 1: ... break;                 // the send completed
//     case 2: co_return;
//     case 3: ... break;                 // default: nothing was ready
//   }
//
// Assign the result to a local before switching on it: g++ 12 miscompiles a
// co_await written directly in a switch condition (README, "g++ pitfalls").
//
// Semantics are Go's (runtime/select.go):
// - Among the ready cases the executor chooses one (SimExecutor: a recorded
//   decision, uniform in the random strategy). A receive is ready when a
//   value is buffered, a sender waits, or the channel is closed; a send when
//   a receiver waits, the buffer has room, or the channel is closed (the send
//   case then panics "send on closed channel" if chosen).
// - default_case() is taken only when no case is ready; it may stand at any
//   position. select(default_case()) returns at once.
// - Nil-channel cases are never ready. select() with no cases, or only nil
//   cases and no default, blocks forever ("select (no cases)" / "select").
// - The same channel may appear in several cases.
// - Otherwise the task blocks in every case at once; the first party to
//   complete one of them wins, and the others are withdrawn.
//
// The passes follow selectgo: lock every channel in address order, look for a
// ready case (pass 1), else link a waiter into every channel (pass 2) and
// block; when woken, lock again and unlink the waiters of the other cases
// (pass 3).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include "chanfuzz/chan.hpp"

namespace chanfuzz {

// The default case of a select.
struct DefaultCase {
  using result_type = Unit;
  SourceLocation where;
};
inline DefaultCase default_case(SourceLocation where = SourceLocation::current()) noexcept {
  return DefaultCase{where};
}

namespace detail {
template <class C>
inline constexpr bool is_default_case_v = std::is_same_v<C, DefaultCase>;

template <class C>
inline constexpr bool is_channel_case_v = false;
template <class T>
inline constexpr bool is_channel_case_v<RecvOp<T>> = true;
template <class T>
inline constexpr bool is_channel_case_v<SendOp<T>> = true;

template <class C>
inline constexpr bool is_send_case_v = false;
template <class T>
inline constexpr bool is_send_case_v<SendOp<T>> = true;

template <class C>
concept SelectCase = is_default_case_v<C> || is_channel_case_v<C>;
}  // namespace detail

// The outcome of a select: which case was taken, and its result.
// get<I>() is a Recv<T>& for a receive case and a Unit for a send or default
// case; it throws std::bad_variant_access when case I was not taken.
template <class... Cases>
class SelectResult {
 public:
  // select() with no cases never completes; monostate keeps its type well-formed.
  using variant_type = std::conditional_t<sizeof...(Cases) == 0, std::variant<std::monostate>,
                                          std::variant<typename Cases::result_type...>>;

  explicit SelectResult(variant_type result) : result_(std::move(result)) {}

  std::size_t index() const noexcept { return result_.index(); }

  template <std::size_t I>
  auto& get() & {
    return std::get<I>(result_);
  }
  template <std::size_t I>
  const auto& get() const& {
    return std::get<I>(result_);
  }
  template <std::size_t I>
  auto get() && {
    return std::move(std::get<I>(result_));
  }

 private:
  variant_type result_;
};

template <detail::SelectCase... Cases>
class [[nodiscard]] SelectOp final : public PendingOp, public Blocker {
  static constexpr std::size_t kCases = sizeof...(Cases);
  static constexpr std::size_t kDefaults =
      (std::size_t{detail::is_default_case_v<Cases>} + ... + 0);
  static_assert(kDefaults <= 1, "select: at most one default_case()");
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);

 public:
  using result_type = SelectResult<Cases...>;

  explicit SelectOp(SourceLocation where, Cases... cases)
      : cases_(std::move(cases)...), where_(where) {}
  SelectOp(SelectOp&& other) noexcept : cases_(std::move(other.cases_)), where_(other.where_) {}
  SelectOp(const SelectOp&) = delete;
  SelectOp& operator=(const SelectOp&) = delete;
  SelectOp& operator=(SelectOp&&) = delete;
  ~SelectOp() {
    if (linked_) {
      lock_all();
      unlink_all();
      unlock_all();
    }
  }

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> self) {
    self_ = self;
    return detail::suspend_at_scheduling_point(*this, self, "select", where_);
  }

  result_type await_resume() {
    if (linked_) {
      // Woken: one case was completed for us. Pass 3: withdraw the others.
      detail::Waiter* fired = state_.fired;
      lock_all();
      unlink_all();
      unlock_all();
      chosen_ = fired->case_index;
      if (!fired->success) {
        for_case(chosen_, [](auto& c) {
          if constexpr (requires { c.mark_closed(); }) c.mark_closed();
        });
      }
    }
    return make_result(std::make_index_sequence<kCases>{});
  }

  bool attempt() override {
    Executor& executor = *current_executor();
    collect_channels();
    lock_all();
    // Pass 1: the ready cases, in argument order.
    for (;;) {
      std::array<std::uint32_t, kCases + 1> ready{};
      std::size_t ready_count = 0;
      for_each_case([&](auto& c, std::size_t i) {
        if constexpr (detail::is_channel_case_v<std::decay_t<decltype(c)>>) {
          if (c.core() && c.ready_locked()) ready[ready_count++] = static_cast<std::uint32_t>(i);
        }
      });
      if (ready_count == 0) break;
#if defined(CHANFUZZ_MUTANT_DEFAULT_WHILE_READY)  // test-only planted bug (scripts/fuzz --mutants)
      if (kDefaults == 1 && ready_count == 1) break;
#endif
      std::size_t pick =
          ready_count == 1 ? 0 : executor.choose(DecisionKind::select_case, ready_count);
      std::size_t index = ready[pick];
      detail::Waiter* woken = nullptr;
      bool completed = false;
      for_case(index, [&](auto& c) {
        if constexpr (detail::is_channel_case_v<std::decay_t<decltype(c)>>) {
          completed = c.complete_locked(woken);
        }
      });
      if (!completed) continue;  // a racing thread took it; look again
      unlock_all();
      if (woken) detail::wake_waiter(woken);
      chosen_ = index;
      return true;
    }
    if constexpr (kDefaults == 1) {
      unlock_all();
      chosen_ = default_index();
      return true;
    }
    if (channel_count_ == 0) {
      executor.block(self_, kCases == 0 ? WaitReason::select_no_cases : WaitReason::select, where_,
                     this);
      return false;
    }
    // Pass 2: wait in every case. Cases on the same channel in the same
    // direction share its queue, and the first of them in the queue is the
    // one a counterpart completes: which one that is, is a decision (Go's
    // lock order among duplicates is random too).
    TaskRecord* task = executor.current_task();
    std::array<detail::ChanCore*, kCases + 1> core{};
    std::array<bool, kCases + 1> sends{};
    for_each_case([&](auto& c, std::size_t i) {
      if constexpr (detail::is_channel_case_v<std::decay_t<decltype(c)>>) {
        core[i] = c.core();
        sends[i] = detail::is_send_case_v<std::decay_t<decltype(c)>>;
      }
    });
    auto link = [&](std::size_t index) {
      for_case(index, [&](auto& c) {
        if constexpr (detail::is_channel_case_v<std::decay_t<decltype(c)>>) {
          c.link_locked(&state_, static_cast<std::uint32_t>(index), task);
        }
      });
    };
    std::array<bool, kCases + 1> done{};
    for (std::size_t i = 0; i < kCases; ++i) {
      if (!core[i] || done[i]) continue;
      std::array<std::size_t, kCases + 1> group{};
      std::size_t size = 0;
      for (std::size_t j = i; j < kCases; ++j) {
        if (core[j] == core[i] && sends[j] == sends[i]) group[size++] = j;
      }
      std::size_t first = size > 1 ? executor.choose(DecisionKind::select_case, size) : 0;
      link(group[first]);
      for (std::size_t k = 0; k < size; ++k) {
        if (k != first) link(group[k]);
        done[group[k]] = true;
      }
    }
    linked_ = true;
    executor.block(self_, WaitReason::select, where_, this);
    unlock_all();
    return false;
  }

  void describe(std::vector<WaitObject>& out) const override {
    for_each_case([&](const auto& c, std::size_t) {
      if constexpr (detail::is_channel_case_v<std::decay_t<decltype(c)>>) {
        out.push_back(c.describe_channel());
      }
    });
  }
  bool references(std::vector<const detail::TrackedObject*>& out) const override {
    for_each_case([&](const auto& c, std::size_t) {
      if constexpr (detail::is_channel_case_v<std::decay_t<decltype(c)>>) c.add_reference(out);
    });
    return true;
  }

 private:
  template <class F>
  void for_each_case(F&& f) {
    std::apply(
        [&](auto&... c) {
          std::size_t i = 0;
          (f(c, i++), ...);
        },
        cases_);
  }
  template <class F>
  void for_each_case(F&& f) const {
    std::apply(
        [&](const auto&... c) {
          std::size_t i = 0;
          (f(c, i++), ...);
        },
        cases_);
  }
  template <class F>
  void for_case(std::size_t index, F&& f) {
    for_each_case([&](auto& c, std::size_t i) {
      if (i == index) f(c);
    });
  }

  static constexpr std::size_t default_index() {
    std::size_t i = 0;
    std::size_t found = kNone;
    ((detail::is_default_case_v<Cases> ? (found = i, ++i) : ++i), ...);
    return found;
  }

  // The distinct non-nil channels, in address order: the lock order.
  void collect_channels() {
    if (collected_) return;
    collected_ = true;
    for_each_case([&](auto& c, std::size_t) {
      if constexpr (detail::is_channel_case_v<std::decay_t<decltype(c)>>) {
        if (c.core()) channels_[channel_count_++] = c.core();
      }
    });
    std::sort(channels_.begin(), channels_.begin() + channel_count_, std::less<>());
    channel_count_ = static_cast<std::size_t>(
        std::unique(channels_.begin(), channels_.begin() + channel_count_) - channels_.begin());
  }
  void lock_all() noexcept {
    for (std::size_t i = 0; i < channel_count_; ++i) channels_[i]->lock.lock();
  }
  void unlock_all() noexcept {
    for (std::size_t i = channel_count_; i-- > 0;) channels_[i]->lock.unlock();
  }
  void unlink_all() noexcept {
    for_each_case([&](auto& c, std::size_t) {
      if constexpr (detail::is_channel_case_v<std::decay_t<decltype(c)>>) {
        if (c.core()) c.unlink_locked();
      }
    });
    linked_ = false;
  }

  template <std::size_t... I>
  result_type make_result(std::index_sequence<I...>) {
    using variant_type = typename result_type::variant_type;
    std::optional<variant_type> result;
    ((chosen_ == I ? (result.emplace(std::in_place_index<I>, take<I>()), 0) : 0), ...);
    if (!result) internal_error("select resumed without a chosen case");
    return result_type(std::move(*result));
  }
  template <std::size_t I>
  auto take() {
    auto& c = std::get<I>(cases_);
    if constexpr (detail::is_default_case_v<std::decay_t<decltype(c)>>) {
      return Unit{};
    } else {
      return c.take_result();
    }
  }

  std::tuple<Cases...> cases_;
  SourceLocation where_;
  std::coroutine_handle<> self_;
  detail::SelectState state_;
  std::array<detail::ChanCore*, kCases + 1> channels_{};
  std::size_t channel_count_ = 0;
  std::size_t chosen_ = kNone;
  bool collected_ = false;
  bool linked_ = false;  // waiters may be linked (pass 2 ran, pass 3 did not)
};

namespace detail {
inline SourceLocation case_where(const DefaultCase& c) noexcept { return c.where; }
template <class C>
SourceLocation case_where(const C& c) noexcept {
  return c.where();
}
}  // namespace detail

// select(cases...): see the top of this file. The location reported for a
// blocked select is that of its first case.
template <detail::SelectCase... Cases>
requires(sizeof...(Cases) > 0) SelectOp<Cases...> select(Cases... cases) {
  SourceLocation where;
  ((where.known() ? void() : void(where = detail::case_where(cases))), ...);
  return SelectOp<Cases...>(where, std::move(cases)...);
}

// select() with no cases blocks forever ("select (no cases)"), like Go's
// `select {}`.
inline SelectOp<> select(SourceLocation where = SourceLocation::current()) {
  return SelectOp<>(where);
}

}  // namespace chanfuzz
