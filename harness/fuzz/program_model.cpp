// The reference model of Go channel semantics (program_model.hpp).
//
// Invariants of the model state, between two log entries:
//   - a task is `blocked` exactly when the log said it blocked in a channel
//     operation and no operation has completed it since;
//   - a buffered channel's deque holds the values Go's buffer holds, in order,
//     never more than its capacity; an unbuffered channel's deque is empty;
//   - a closed channel has no blocked task on it (close woke them all).
#include "program_model.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <vector>

#include "interleaving_feedback.hpp"

namespace chanfuzz::fuzz::program {

namespace {

struct Disagreement {
  std::string message;
};

[[noreturn]] void disagree(std::string message) { throw Disagreement{std::move(message)}; }

struct ModelChannel {
  std::string name;  // "c1", "x0.done()"
  bool nil = false;
  std::size_t capacity = 0;
  bool closed = false;
  std::deque<std::int32_t> buffer;
};

enum class State : std::uint8_t { none, idle, at_point, blocked, sleeping, woken, finished };

const char* state_name(State state) {
  switch (state) {
    case State::none:
      return "not started";
    case State::idle:
      return "running";
    case State::at_point:
      return "at an operation";
    case State::blocked:
      return "waiting";
    case State::sleeping:
      return "sleeping";
    case State::woken:
      return "woken, not yet resumed";
    case State::finished:
      return "finished";
  }
  return "?";
}

// What a woken task's operation must return when it resumes.
enum class Expect : std::uint8_t { none, value, closed, sent, timer };

struct ModelTask {
  State state = State::none;
  const Op* op = nullptr;
  std::uint8_t body = 0;
  std::uint8_t index = 0;
  std::int32_t offered = 0;
  std::uint64_t blocked_order = 0;
  Expect expect = Expect::none;
  std::int32_t expected_value = 0;
  std::uint32_t case_mask = 0;  // select: the cases that may have fired
  std::uint64_t woken_by = 0;
};

// One channel operation of an op: a select has one per case.
struct Ref {
  std::size_t channel = 0;
  bool send = false;
  int case_index = -1;  // -1: not a select
};

class Model {
 public:
  Model(const Program& program, const ProgramRun& run, const ModelOptions& options)
      : program_(program), run_(run), options_(options) {
    const std::size_t n = program.channels.size();
    for (std::size_t i = 0; i < n; ++i) {
      ModelChannel c;
      c.name = "c" + std::to_string(i);
      c.nil = program.channels[i].nil;
      c.capacity = program.channels[i].capacity;
      channels_.push_back(c);
    }
    for (std::size_t k = 0; k < kContexts; ++k) {
      ModelChannel c;
      c.name = "x" + std::to_string(k) + ".done()";
      channels_.push_back(c);
    }
  }

  std::optional<Violation> check() {
    std::size_t at = 0;
    try {
      for (; at < run_.log.size(); ++at) step(run_.log[at]);
      at = run_.log.size();
      settle();
    } catch (const Disagreement& d) {
      return Violation{at, d.message};
    }
    return std::nullopt;
  }

 private:
  // ---- helpers ----

  ModelTask& task(std::uint64_t id) {
    if (id >= tasks_.size()) tasks_.resize(id + 1);
    return tasks_[id];
  }

  std::string who(std::uint64_t id) {
    ModelTask& t = task(id);
    std::string out = "task " + std::to_string(id);
    if (t.op) {
      out += " (body" + std::to_string(t.body) + ":" + std::to_string(t.index + 1) + " " +
             describe(*t.op) + ")";
    }
    return out;
  }

  std::uint64_t site(std::size_t body, std::size_t index) const { return body * 16 + index + 1; }

  std::size_t context_channel(std::size_t k) const { return program_.channels.size() + k; }

  std::vector<Ref> refs(const Op& op) const {
    std::vector<Ref> out;
    switch (op.kind) {
      case OpKind::send:
      case OpKind::try_send:
        out.push_back({op.arg, true, -1});
        break;
      case OpKind::recv:
      case OpKind::try_recv:
        out.push_back({op.arg, false, -1});
        break;
      case OpKind::wait:
        out.push_back({context_channel(op.arg), false, -1});
        break;
      case OpKind::select:
        for (std::size_t i = 0; i < op.cases; ++i) {
          const Case& c = op.select[i];
          out.push_back(
              {c.context ? context_channel(c.channel) : c.channel, c.send, static_cast<int>(i)});
        }
        break;
      default:
        break;
    }
    return out;
  }

  // The blocked tasks with an operation on `channel` in that direction,
  // oldest first (Go's queue order), leaving out `self`.
  std::vector<std::uint64_t> waiting(std::size_t channel, bool send, std::uint64_t self) {
    std::vector<std::uint64_t> out;
    for (std::uint64_t id = 1; id < tasks_.size(); ++id) {
      const ModelTask& t = tasks_[id];
      if (id == self || t.state != State::blocked || !t.op) continue;
      for (const Ref& r : refs(*t.op)) {
        if (r.channel == channel && r.send == send) {
          out.push_back(id);
          break;
        }
      }
    }
    std::sort(out.begin(), out.end(), [this](std::uint64_t a, std::uint64_t b) {
      return tasks_[a].blocked_order < tasks_[b].blocked_order;
    });
    return out;
  }

  // The cases of task `id`'s operation on `channel` (any direction when
  // `both`), as a mask of case indices (bit 0 for a non-select operation).
  std::uint32_t case_mask(std::uint64_t id, std::size_t channel, bool send, bool both) {
    std::uint32_t mask = 0;
    for (const Ref& r : refs(*task(id).op)) {
      if (r.channel == channel && (both || r.send == send)) {
        mask |= 1u << (r.case_index < 0 ? 0 : r.case_index);
      }
    }
    return mask;
  }

  std::string state_of(std::size_t channel, std::uint64_t self) {
    const ModelChannel& c = channels_[channel];
    if (c.nil) return c.name + " is nil";
    std::string out = c.name + " (cap " + std::to_string(c.capacity) + ", " +
                      std::to_string(c.buffer.size()) + " buffered, " +
                      (c.closed ? "closed" : "open");
    out += "; " + std::to_string(waiting(channel, true, self).size()) + " senders, " +
           std::to_string(waiting(channel, false, self).size()) + " receivers waiting)";
    return out;
  }

  bool send_ready(std::size_t channel, std::uint64_t self) {
    const ModelChannel& c = channels_[channel];
    if (c.nil) return false;
    return c.closed || !waiting(channel, false, self).empty() || c.buffer.size() < c.capacity;
  }
  bool recv_ready(std::size_t channel, std::uint64_t self) {
    const ModelChannel& c = channels_[channel];
    if (c.nil) return false;
    return !c.buffer.empty() || c.closed || !waiting(channel, true, self).empty();
  }
  bool ready(const Ref& r, std::uint64_t self) {
    return r.send ? send_ready(r.channel, self) : recv_ready(r.channel, self);
  }

  // Would Go block task `id` in its operation now?
  bool blocks(std::uint64_t id) {
    const Op& op = *task(id).op;
    switch (op.kind) {
      case OpKind::send:
      case OpKind::recv:
      case OpKind::wait:
        return !ready(refs(op).front(), id);
      case OpKind::select: {
        if (op.has_default) return false;
        for (const Ref& r : refs(op)) {
          if (ready(r, id)) return false;
        }
        return true;
      }
      default:
        return false;
    }
  }

  // ---- the effects of one operation -------------------------------------------

  void expect_no_wakes(std::uint64_t self, const char* what) {
    for (std::uint64_t r : wakes_[self]) {
      disagree(who(self) + " " + what + ", yet it woke " + who(r) + " (Go wakes nobody here)");
    }
  }

  // `self` sends `value` on `channel` and Go does not block or panic: hands
  // it to the first waiting receiver, or buffers it.
  void complete_send(std::uint64_t self, std::size_t channel, std::int32_t value) {
    ModelChannel& c = channels_[channel];
    std::vector<std::uint64_t> receivers = waiting(channel, false, self);
    std::vector<std::uint64_t>& woken = wakes_[self];
    if (!receivers.empty()) {
      const std::uint64_t first = receivers.front();
      if (woken.empty()) {
        disagree(who(self) + " sent " + describe_value(value) + " on " + c.name + " while " +
                 who(first) + " was waiting to receive, but woke nobody: " +
                 "Go hands the value to the waiting receiver (a lost wakeup)");
      }
      if (woken.size() > 1 || woken.front() != first) {
        disagree(who(self) + "'s send on " + c.name + " woke " + who(woken.front()) +
                 (woken.size() > 1 ? " and others" : "") + "; Go hands the value to the " +
                 "first waiting receiver, " + who(first));
      }
      ModelTask& r = task(first);
      r.state = State::woken;
      r.expect = Expect::value;
      r.expected_value = value;
      r.case_mask = case_mask(first, channel, false, false);
      r.woken_by = self;
      woken.clear();
      return;
    }
    expect_no_wakes(self, ("sent on " + c.name + " with no receiver waiting").c_str());
    if (c.buffer.size() >= c.capacity) {
      disagree(who(self) + " completed a send on " + state_of(channel, self) +
               ": the buffer is full and no receiver waits, Go blocks the sender");
    }
    c.buffer.push_back(value);
  }

  // Checks a received (value, ok) against what Go delivers, then records it.
  void check_received(std::uint64_t self, std::size_t channel, std::int32_t value, bool ok,
                      std::int32_t expected_value, bool expected_ok) {
    const ModelChannel& c = channels_[channel];
    if (ok) {
      if (!begun_.count(value)) {
        disagree(who(self) + " received " + describe_value(value) + " on " + c.name +
                 ", but no send of it had begun: a value received before it was sent");
      }
      if (received_.count(value)) {
        disagree(who(self) + " received " + describe_value(value) + " on " + c.name +
                 " a second time: a value is received at most once");
      }
      if (!expected_ok) {
        disagree(who(self) + " received " + describe_value(value) + " on " + c.name +
                 ", which is closed and drained: Go returns {0, false}");
      }
      if (value != expected_value) {
        const auto sender = static_cast<std::uint32_t>(value) >> 8;
        if ((static_cast<std::uint32_t>(expected_value) >> 8) == sender && expected_value < value) {
          disagree(who(self) + " received " + describe_value(value) + " on " + c.name + " before " +
                   describe_value(expected_value) +
                   ": one sender's values must arrive in the order sent (FIFO)");
        }
        disagree(who(self) + " received " + describe_value(value) + " on " + c.name +
                 "; Go delivers " + describe_value(expected_value) +
                 " (FIFO: the head of the buffer, or the first waiting sender's value)");
      }
      received_.insert(value);
      if (const auto it = sent_at_.find(value); it != sent_at_.end() && options_.feedback) {
        const ModelTask& t = task(self);
        options_.feedback->add(Feature::model_meet, it->second, site(t.body, t.index));
      }
      return;
    }
    if (expected_ok) {
      disagree(who(self) + " got {" + std::to_string(value) + ", false} from " + c.name + ", but " +
               (c.closed ? "receives after close drain the buffer first: " : "") + "Go delivers " +
               describe_value(expected_value));
    }
    if (value != 0) {
      disagree(who(self) + " got {" + std::to_string(value) + ", false} from closed " + c.name +
               ": a receive on a closed channel returns {0, false}");
    }
  }

  // `self` receives on `channel` and Go does not block: from the buffer
  // (refilled from the first waiting sender), from a waiting sender, or
  // {0, false} from a closed, drained channel.
  void complete_recv(std::uint64_t self, std::size_t channel, std::int32_t value, bool ok) {
    ModelChannel& c = channels_[channel];
    std::vector<std::uint64_t> senders = waiting(channel, true, self);
    std::vector<std::uint64_t>& woken = wakes_[self];
    auto take_sender = [&](std::uint64_t first) {
      if (woken.empty()) {
        disagree(who(self) + " received on " + c.name + " while " + who(first) +
                 " was waiting to send, but woke nobody: Go completes the waiting send " +
                 "and wakes its task (a lost wakeup)");
      }
      if (woken.size() > 1 || woken.front() != first) {
        disagree(who(self) + "'s receive on " + c.name + " woke " + who(woken.front()) +
                 "; Go takes the first waiting sender, " + who(first));
      }
      ModelTask& s = task(first);
      s.state = State::woken;
      s.expect = Expect::sent;
      s.case_mask = case_mask(first, channel, true, false);
      s.woken_by = self;
      woken.clear();
      return s.offered;
    };
    if (!c.buffer.empty()) {
      const std::int32_t head = c.buffer.front();
      check_received(self, channel, value, ok, head, true);
      c.buffer.pop_front();
      if (!senders.empty()) {
        c.buffer.push_back(take_sender(senders.front()));
      } else {
        expect_no_wakes(self, ("received from the buffer of " + c.name).c_str());
      }
      return;
    }
    if (!senders.empty()) {
      const std::int32_t handed = take_sender(senders.front());
      check_received(self, channel, value, ok, handed, true);
      return;
    }
    if (c.closed) {
      expect_no_wakes(self, ("received from closed " + c.name).c_str());
      check_received(self, channel, value, ok, 0, false);
      return;
    }
    disagree(who(self) + " completed a receive on " + state_of(channel, self) +
             ": nothing to receive, Go blocks the receiver");
  }

  // close(channel) or a context's cancellation: every waiting task on it is
  // woken; receivers get {0, false}, senders panic.
  void close_channels(std::uint64_t self, const std::vector<std::size_t>& closing) {
    std::set<std::uint64_t> expected;
    std::size_t receivers = 0;
    std::size_t senders = 0;
    for (std::size_t channel : closing) {
      for (bool send : {false, true}) {
        for (std::uint64_t id : waiting(channel, send, self)) {
          expected.insert(id);
          (send ? senders : receivers) += 1;
        }
      }
    }
    std::vector<std::uint64_t>& woken = wakes_[self];
    std::set<std::uint64_t> got(woken.begin(), woken.end());
    for (std::uint64_t id : expected) {
      if (!got.count(id)) {
        disagree(who(self) + " closed " + channels_[closing.front()].name +
                 (closing.size() > 1 ? " (and its children's)" : "") + " but did not wake " +
                 who(id) + ", waiting on it: close wakes every waiting receiver and sender");
      }
    }
    for (std::uint64_t id : got) {
      if (!expected.count(id)) {
        disagree(who(self) + "'s close woke " + who(id) + ", which was not waiting on the channel");
      }
    }
    if (woken.size() != got.size()) disagree(who(self) + "'s close woke a task twice");
    for (std::uint64_t id : expected) {
      ModelTask& t = task(id);
      std::uint32_t mask = 0;
      for (std::size_t channel : closing) mask |= case_mask(id, channel, false, true);
      t.state = State::woken;
      t.expect = Expect::closed;
      t.case_mask = mask;
      t.woken_by = self;
    }
    woken.clear();
    for (std::size_t channel : closing) channels_[channel].closed = true;
    if (options_.feedback) {
      const ModelTask& t = task(self);
      options_.feedback->add(Feature::model_close_waiters, site(t.body, t.index),
                             std::min<std::size_t>(receivers, 3),
                             std::min<std::size_t>(senders, 3));
    }
    if (options_.selftest && !expected.empty()) {
      disagree("self-test (CHANFUZZ_PROGRAM_SELFTEST=1): " + who(self) + " woke " +
               std::to_string(expected.size()) + " waiting task(s) by closing");
    }
  }

  void expect_panic(std::uint64_t self, const LogEntry& e, PanicCode code, const char* message,
                    const std::string& why) {
    if (e.panic != code) {
      disagree(who(self) + (e.panic == PanicCode::none ? " did not panic" : " panicked otherwise") +
               ": Go panics \"" + message + "\" (" + why + ")");
    }
    expect_no_wakes(self, "panicked");
  }

  void expect_no_panic(std::uint64_t self, const LogEntry& e, const std::string& why) {
    if (e.panic != PanicCode::none) {
      disagree(who(self) + " panicked (" + panic_text(e.panic) +
               ") where Go does not panic: " + why);
    }
  }

  static const char* panic_text(PanicCode code) {
    switch (code) {
      case PanicCode::none:
        return "no panic";
      case PanicCode::send_on_closed:
        return panic_message::send_on_closed;
      case PanicCode::close_of_closed:
        return panic_message::close_of_closed;
      case PanicCode::close_of_nil:
        return panic_message::close_of_nil;
      case PanicCode::other:
        return "another Panic";
    }
    return "?";
  }

  // ---- one operation that completed without blocking --------------------------

  void complete_now(std::uint64_t self, const LogEntry& e) {
    ModelTask& t = task(self);
    const Op& op = *t.op;
    switch (op.kind) {
      case OpKind::send:
      case OpKind::try_send: {
        const std::size_t channel = op.arg;
        const ModelChannel& c = channels_[channel];
        const bool is_try = op.kind == OpKind::try_send;
        if (!c.nil && c.closed) {
          expect_panic(self, e, PanicCode::send_on_closed, panic_message::send_on_closed,
                       c.name + " is closed");
          return;
        }
        expect_no_panic(self, e, c.name + " is not closed");
        if (!send_ready(channel, self)) {
          if (is_try && !e.ok) {
            expect_no_wakes(self, "found no room");
            return;
          }
          disagree(who(self) + (is_try ? " returned true on " : " completed on ") +
                   state_of(channel, self) + ": Go " +
                   (is_try ? "returns false (the send would block)" : "blocks the sender"));
        }
        if (is_try && !e.ok) {
          disagree(who(self) + " returned false on " + state_of(channel, self) +
                   ": the send can complete, Go's try_send succeeds");
        }
        complete_send(self, channel, t.offered);
        return;
      }
      case OpKind::recv:
      case OpKind::try_recv:
      case OpKind::wait: {
        const std::size_t channel = refs(op).front().channel;
        expect_no_panic(self, e, "receives never panic");
        const bool is_try = op.kind == OpKind::try_recv;
        if (!recv_ready(channel, self)) {
          if (is_try && !e.ready) {
            expect_no_wakes(self, "found nothing");
            return;
          }
          disagree(who(self) + (is_try ? " returned a value from " : " completed on ") +
                   state_of(channel, self) + ": Go " +
                   (is_try ? "returns nothing (the receive would block)" : "blocks the receiver"));
        }
        if (is_try && !e.ready) {
          disagree(who(self) + " returned nothing from " + state_of(channel, self) +
                   ": a receive can complete, Go's try_recv returns it");
        }
        complete_recv(self, channel, e.value, e.ok);
        return;
      }
      case OpKind::close: {
        const ModelChannel& c = channels_[op.arg];
        if (c.nil) {
          expect_panic(self, e, PanicCode::close_of_nil, panic_message::close_of_nil,
                       c.name + " is nil");
          return;
        }
        if (c.closed) {
          expect_panic(self, e, PanicCode::close_of_closed, panic_message::close_of_closed,
                       c.name + " is already closed");
          return;
        }
        expect_no_panic(self, e, c.name + " is open");
        close_channels(self, {op.arg});
        return;
      }
      case OpKind::cancel: {
        expect_no_panic(self, e, "cancel never panics");
        std::vector<std::size_t> closing;
        for (std::size_t k = op.arg; k < kContexts; ++k) {  // x1 is x0's child
          if (!channels_[context_channel(k)].closed) closing.push_back(context_channel(k));
        }
        if (closing.empty()) {
          expect_no_wakes(self, "cancelled a cancelled context");
          return;
        }
        close_channels(self, closing);
        return;
      }
      case OpKind::sleep:
        expect_no_panic(self, e, "sleep never panics");
        expect_no_wakes(self, "slept");
        if (op.arg > 0) disagree(who(self) + " returned without sleeping");
        return;
      case OpKind::spawn: {
        expect_no_panic(self, e, "go never panics");
        const bool starts = started_ < kMaxTasks;
        if (e.ready != starts) disagree(who(self) + ": the program's task limit was not kept");
        if (starts) ++started_;
        return;
      }
      case OpKind::select:
        select_now(self, e);
        return;
    }
  }

  void select_now(std::uint64_t self, const LogEntry& e) {
    ModelTask& t = task(self);
    const Op& op = *t.op;
    const std::vector<Ref> cases = refs(op);
    std::vector<int> ready_cases;
    for (const Ref& r : cases) {
      if (ready(r, self)) ready_cases.push_back(r.case_index);
    }
    auto ready_list = [&] {
      std::string out;
      for (int i : ready_cases) {
        out += (out.empty() ? "case " : ", case ") + std::to_string(i) + " (" +
               state_of(cases[i].channel, self) + ")";
      }
      return out;
    };
    if (e.panic == PanicCode::send_on_closed) {
      for (int i : ready_cases) {
        if (cases[i].send && channels_[cases[i].channel].closed) {
          expect_no_wakes(self, "panicked");
          return;
        }
      }
      disagree(who(self) +
               " panicked \"send on closed channel\", but no ready send case is on "
               "a closed channel");
    }
    expect_no_panic(self, e, "no case it could take sends on a closed channel");
    if (options_.feedback) {
      options_.feedback->add(Feature::model_select, site(t.body, t.index),
                             static_cast<std::uint64_t>(e.index),
                             ready_cases.size() * 2 + (op.has_default ? 1 : 0));
    }
    if (ready_cases.empty()) {
      if (!op.has_default) {
        disagree(who(self) + " completed with no case ready: Go blocks the select");
      }
      if (e.index != op.cases) {
        disagree(who(self) + " took case " + std::to_string(e.index) +
                 ", which was not ready; Go takes default");
      }
      expect_no_wakes(self, "took default");
      return;
    }
    if (e.index == op.cases) {
      disagree(who(self) + " took default while " + ready_list() +
               " was ready: Go takes default only when no case is ready");
    }
    if (e.index < 0 ||
        std::find(ready_cases.begin(), ready_cases.end(), e.index) == ready_cases.end()) {
      disagree(who(self) + " took case " + std::to_string(e.index) +
               ", which was not ready; the ready ones: " + ready_list());
    }
    const Ref& chosen = cases[e.index];
    if (chosen.send) {
      if (channels_[chosen.channel].closed) {
        disagree(who(self) + " took send case " + std::to_string(e.index) + " on closed " +
                 channels_[chosen.channel].name + " without panicking");
      }
      complete_send(self, chosen.channel, t.offered);
    } else {
      complete_recv(self, chosen.channel, e.value, e.ok);
    }
  }

  // ---- a woken task resumes ---------------------------------------------------

  void resume_woken(std::uint64_t self, const LogEntry& e) {
    ModelTask& t = task(self);
    const Op& op = *t.op;
    const bool is_select = op.kind == OpKind::select;
    if (t.expect == Expect::timer) {
      expect_no_panic(self, e, "sleep never panics");
      return;
    }
    int index = is_select ? e.index : 0;
    const std::vector<Ref> cases = refs(op);
    if (is_select && options_.feedback) {
      options_.feedback->add(Feature::model_select, site(t.body, t.index),
                             static_cast<std::uint64_t>(e.index), 0xff);
    }
    if (t.expect == Expect::closed) {
      if (e.panic == PanicCode::send_on_closed) {
        bool allowed = false;
        for (const Ref& r : cases) {
          if (r.send && (t.case_mask >> (r.case_index < 0 ? 0 : r.case_index)) & 1) allowed = true;
        }
        if (!allowed) {
          disagree(who(self) +
                   " panicked \"send on closed channel\" after a close woke it, "
                   "but it was not sending on the closed channel");
        }
        return;
      }
      expect_no_panic(self, e, "it was not sending on the closed channel");
      if (index < 0 || index >= static_cast<int>(cases.size()) || !((t.case_mask >> index) & 1)) {
        disagree(who(self) + " resumed in case " + std::to_string(index) +
                 " after a close of another case's channel: a select fires exactly one case, "
                 "the one completed");
      }
      if (cases[index].send) {
        disagree(who(self) +
                 "'s send was woken by close but did not panic: Go panics "
                 "\"send on closed channel\"");
      }
      if (e.ok || e.value != 0) {
        disagree(who(self) + " got {" + std::to_string(e.value) + ", " + (e.ok ? "true" : "false") +
                 "} after close woke it: Go returns {0, false}");
      }
      return;
    }
    expect_no_panic(self, e, "its operation was completed by " + who(t.woken_by));
    if (is_select &&
        (index < 0 || index >= static_cast<int>(cases.size()) || !((t.case_mask >> index) & 1))) {
      disagree(who(self) + " resumed in case " + std::to_string(index) + ", but " +
               who(t.woken_by) +
               " completed another of its cases: a select fires exactly one "
               "case, the one completed");
    }
    if (t.expect == Expect::value) {
      const std::size_t channel = cases[is_select ? index : 0].channel;
      check_received(self, channel, e.value, e.ok, t.expected_value, true);
    }
  }

  // ---- the log ------------------------------------------------------------------

  void step(const LogEntry& e) {
    switch (e.kind) {
      case LogEntry::Kind::spawned:
        task(e.task).state = State::idle;
        return;
      case LogEntry::Kind::finished: {
        ModelTask& t = task(e.task);
        if (t.state != State::idle) {
          disagree("task " + std::to_string(e.task) + " finished while " + state_name(t.state));
        }
        t.state = State::finished;
        return;
      }
      case LogEntry::Kind::begin: {
        ModelTask& t = task(e.task);
        if (t.state != State::idle) {
          disagree("task " + std::to_string(e.task) + " began an operation while " +
                   state_name(t.state));
        }
        t.state = State::at_point;
        t.op = &program_.bodies[e.body][e.op];
        t.body = e.body;
        t.index = e.op;
        t.offered = e.value;
        t.expect = Expect::none;
        wakes_[e.task].clear();
        if (e.value != 0) {
          begun_.insert(e.value);
          sent_at_[e.value] = site(e.body, e.op);
        }
        return;
      }
      case LogEntry::Kind::blocked:
        blocked(e.task);
        return;
      case LogEntry::Kind::woken:
        woken(e);
        return;
      case LogEntry::Kind::end: {
        ModelTask& t = task(e.task);
        if (t.state == State::at_point) {
          complete_now(e.task, e);
        } else if (t.state == State::woken) {
          resume_woken(e.task, e);
        } else {
          disagree(who(e.task) + " returned from its operation while " + state_name(t.state));
        }
        t.state = State::idle;
        return;
      }
    }
  }

  void blocked(std::uint64_t id) {
    ModelTask& t = task(id);
    if (t.state != State::at_point) {
      disagree("task " + std::to_string(id) + " blocked while " + state_name(t.state));
    }
    expect_no_wakes(id, "blocked");
    const Op& op = *t.op;
    if (op.kind == OpKind::sleep) {
      if (op.arg == 0) disagree(who(id) + " blocked: a sleep of 0 returns at once");
      t.state = State::sleeping;
      return;
    }
    if (!blocks(id)) {
      std::string why;
      for (const Ref& r : refs(op)) {
        if (ready(r, id)) {
          why = (r.case_index >= 0 ? "case " + std::to_string(r.case_index) + " can complete: "
                                   : std::string()) +
                state_of(r.channel, id);
          break;
        }
      }
      if (why.empty()) why = "it never blocks";
      disagree(who(id) + " blocked, but Go completes it at once: " + why);
    }
    t.state = State::blocked;
    t.blocked_order = ++blocked_counter_;
  }

  void woken(const LogEntry& e) {
    ModelTask& t = task(e.task);
    if (t.state == State::sleeping) {
      t.state = State::woken;
      t.expect = Expect::timer;
      if (options_.feedback) {
        // A timer fires while a send could complete at once.
        for (std::uint64_t id = 1; id < tasks_.size(); ++id) {
          const ModelTask& other = tasks_[id];
          if (other.state != State::at_point || !other.op) continue;
          for (const Ref& r : refs(*other.op)) {
            if (r.send && send_ready(r.channel, id)) {
              options_.feedback->add(Feature::model_timer_ready, site(other.body, other.index));
            }
          }
        }
      }
      return;
    }
    if (t.state != State::blocked) {
      disagree(who(e.task) + " was woken while " + state_name(t.state) +
               (t.state == State::woken ? " (woken twice: a select fires exactly one case)" : ""));
    }
    if (e.other == 0 || task(e.other).state != State::at_point) {
      disagree(who(e.task) + " was woken by " +
               (e.other == 0 ? std::string("a timer") : who(e.other)) +
               ", which is not performing an operation");
    }
    wakes_[e.other].push_back(e.task);
  }

  // ---- the end of the run -------------------------------------------------------

  void settle() {
    const RunResult& result = run_.result;
    switch (result.outcome) {
      case RunOutcome::ok:
      case RunOutcome::leak:
      case RunOutcome::deadlock:
        break;
      case RunOutcome::panic:
        disagree("an exception escaped a task: " + result.message);
      case RunOutcome::step_limit:
        disagree("the run did not settle: " + result.message);
      case RunOutcome::assertion:
      case RunOutcome::diverged:
        disagree(std::string("the run ended ") + run_outcome_name(result.outcome) + ": " +
                 result.message);
    }
    std::set<std::uint64_t> model_waiting;
    for (std::uint64_t id = 1; id < tasks_.size(); ++id) {
      const ModelTask& t = tasks_[id];
      switch (t.state) {
        case State::blocked:
          if (!blocks(id)) {
            std::string why;
            for (const Ref& r : refs(*t.op)) {
              if (ready(r, id)) why = state_of(r.channel, id);
            }
            disagree(who(id) +
                     " is still waiting when the run settled, but its operation can "
                     "complete: " +
                     why + " (a lost wakeup)");
          }
          model_waiting.insert(id);
          break;
        case State::woken:
          disagree(who(id) + " was woken by " + who(t.woken_by) + " but never resumed");
        case State::sleeping:
        case State::at_point:
          disagree(who(id) + " is " + state_name(t.state) + " when the run settled");
        default:
          break;
      }
    }
    std::set<std::uint64_t> runtime_waiting;
    if (result.outcome != RunOutcome::ok) {
      for (const TaskInfo& info : result.tasks) runtime_waiting.insert(info.id);
    }
    if (model_waiting != runtime_waiting) {
      disagree("the run ended " + std::string(run_outcome_name(result.outcome)) + " with " +
               std::to_string(runtime_waiting.size()) + " task(s) alive; Go leaves " +
               std::to_string(model_waiting.size()) + " waiting");
    }
  }

  const Program& program_;
  const ProgramRun& run_;
  const ModelOptions& options_;
  std::vector<ModelChannel> channels_;
  std::vector<ModelTask> tasks_;
  struct Wakes {
    std::vector<std::vector<std::uint64_t>> by_task;
    std::vector<std::uint64_t>& operator[](std::uint64_t id) {
      if (id >= by_task.size()) by_task.resize(id + 1);
      return by_task[id];
    }
  } wakes_;
  std::set<std::int32_t> begun_;
  std::set<std::int32_t> received_;
  std::map<std::int32_t, std::uint64_t> sent_at_;
  std::uint64_t blocked_counter_ = 0;
  std::size_t started_ = 1;
};

}  // namespace

std::optional<Violation> check_run(const Program& program, const ProgramRun& run,
                                   const ModelOptions& options) {
  Model model(program, run, options);
  return model.check();
}

}  // namespace chanfuzz::fuzz::program
