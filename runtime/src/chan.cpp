// The untyped half of channels: construction, invariants and descriptions.
#include "chanfuzz/chan.hpp"

#include <string>

namespace chanfuzz::detail {

namespace {
std::uint64_t new_id() {
  Executor* executor = current_executor();
  return executor ? executor->new_object_id() : 0;
}
}  // namespace

ChanCore::ChanCore(std::size_t capacity, const std::type_info& element, SourceLocation where)
    : capacity(capacity), element(element), id(new_id()), created_at(where) {}

WaitObject ChanCore::describe() const {
  WaitObject out;
  out.kind = WaitObject::Kind::channel;
  out.id = id;
  out.type = "chan " + type_name(element.name());
  out.capacity = capacity;
  out.created_at = created_at;
  lock.lock();
  out.closed = closed;
  out.length = count;
  out.senders = sendq.live_count();
  out.receivers = recvq.live_count();
  lock.unlock();
  return out;
}

void ChanCore::check_invariants_locked() const noexcept {
  std::size_t senders = sendq.live_count();
  std::size_t receivers = recvq.live_count();
  if (count > capacity) internal_error("channel holds more values than its capacity");
  if (closed && (senders != 0 || receivers != 0)) {
    internal_error("closed channel with waiting tasks");
  }
  if (count > 0 && receivers != 0) internal_error("buffered values while receivers wait");
  if (count < capacity && senders != 0) internal_error("free buffer slots while senders wait");
}

void check_capacity(std::size_t capacity) {
  // Go rejects what cannot be allocated; 2^32 elements is far beyond any
  // sensible buffer and keeps the ring arithmetic safe.
  if (capacity > (std::size_t{1} << 32)) throw Panic("makechan: size out of range");
}

WaitObject describe_nil_channel(const std::type_info& element) {
  WaitObject out;
  out.kind = WaitObject::Kind::channel;
  out.nil = true;
  out.type = "chan " + type_name(element.name());
  return out;
}

TaskRecord* current_task_or_throw(const char* operation) {
  TaskRecord* task = require_executor(operation).current_task();
  if (!task)
    throw std::logic_error(std::string("chanfuzz: ") + operation + " called outside a task");
  return task;
}

}  // namespace chanfuzz::detail
