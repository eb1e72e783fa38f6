// go, yield and the introspection functions of task.hpp.
#include "chanfuzz/task.hpp"

#include <cstdint>
#include <ostream>
#include <vector>

#include "chanfuzz/executor.hpp"

namespace chanfuzz {

std::uint64_t& detail::spawn_origin() noexcept {
  thread_local std::uint64_t origin = 0;
  return origin;
}

bool detail::spawn_origins_wanted() noexcept {
  Executor* executor = current_executor();
  return executor != nullptr && executor->wants_spawn_origins();
}

std::uint64_t detail::fold_bytes(std::uint64_t h, const void* data, std::size_t size) noexcept {
  // FNV-1a over the bytes, then a finalizer: cheap, and only compared for
  // equality within one process.
  const auto* bytes = static_cast<const unsigned char*>(data);
  h ^= 0xcbf29ce484222325ULL;
  for (std::size_t i = 0; i < size; ++i) h = (h ^ bytes[i]) * 0x100000001b3ULL;
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ULL;
  return h ^ (h >> 32);
}

void go(Task<void> task, SourceLocation where) { go(std::string(), std::move(task), where); }

void go(std::string name, Task<void> task, SourceLocation where) {
  Executor& executor = require_executor("go");
  if (!task) throw std::logic_error("chanfuzz: go called with an empty Task (moved from?)");
  executor.spawn(std::move(task), std::move(name), where);
}

detail::YieldOp yield(SourceLocation where) { return detail::YieldOp(where); }

bool detail::YieldOp::await_suspend(std::coroutine_handle<> self) {
  Executor& executor = require_executor("yield");
  if (executor.schedule_point("yield", where_, nullptr)) return false;
  executor.preempt(self, nullptr);
  return true;
}

namespace {
// The frame operator new allocated last on this thread, until a promise
// claims it.
thread_local const void* t_last_frame = nullptr;
thread_local std::size_t t_last_frame_size = 0;
}  // namespace

void* detail::allocate_frame(std::size_t size) {
  void* frame = ::operator new(size);
  t_last_frame = frame;
  t_last_frame_size = size;
  return frame;
}

void detail::deallocate_frame(void* frame, std::size_t size) noexcept {
  (void)size;
  ::operator delete(frame);  // clang-14 has no sized deallocation without -fsized-deallocation
}

void detail::claim_frame(PromiseBase& promise) noexcept {
  const auto begin = reinterpret_cast<std::uintptr_t>(t_last_frame);
  const auto at = reinterpret_cast<std::uintptr_t>(&promise);
  if (begin != 0 && at >= begin && at < begin + t_last_frame_size) {
    promise.frame = t_last_frame;
    promise.frame_size = t_last_frame_size;
  }
  t_last_frame = nullptr;
  t_last_frame_size = 0;
}

void detail::destroy_frames(Task<void>& root) noexcept {
  if (!root) return;
  std::vector<PromiseBase*> chain;
  for (PromiseBase* p = &root.handle().promise(); p; p = p->child) chain.push_back(p);
  for (std::size_t i = chain.size(); i-- > 1;) {
    PromiseBase* promise = chain[i];
    if (promise->owner) promise->forget_owner(promise->owner);  // its Task in the parent's frame
    promise->self.destroy();
  }
  root.reset();
}

std::size_t num_tasks() {
  Executor* executor = current_executor();
  return executor ? executor->num_tasks() : 0;
}

void dump_tasks(std::ostream& out) {
  Executor* executor = current_executor();
  if (!executor) {
    out << "chanfuzz: dump_tasks: no executor is running on this thread\n";
    return;
  }
  for (const TaskInfo& task : executor->tasks()) write_task(out, task);
}

void checkpoint(std::uint64_t state, SourceLocation where) {
  require_executor("checkpoint").note_checkpoint(state, where);
}

std::uint64_t random(std::uint64_t n) {
  Executor& executor = require_executor("random");
  if (n == 0) throw Panic("chanfuzz: random(0): n must be at least 1");
  if (n == 1) return 0;
  return executor.choose(DecisionKind::random, n);
}

}  // namespace chanfuzz
