// Model-based test of channels (RapidCheck rc::state): sequences of
// operations on 1-3 channels and a context, in the program fuzzer's
// vocabulary (send, recv, try_send, try_recv, select, close, cancel; plus
// len and cap), checked step by step against a small model of Go's
// runtime/chan.go.
//
// RapidCheck generates and shrinks the command sequence (rc::state::gen::
// commands); the sequence then runs as one scenario under many schedules
// (check()). Operations that may block (send, recv, select without default)
// run in a task of their own; the others run in main. After each command
// main settles (every other task blocked) and compares the world with the
// model: every operation's state (waiting, done with which case and value,
// panicked), every channel's len. The model is deterministic except for a
// select with several ready cases: the scheduler picks one; the model checks
// that it was ready and follows it.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "generators.hpp"
#include "support.hpp"

using namespace chanfuzz;
using namespace chanfuzz::properties;

namespace {

// ---- the operations ----

enum class OpKind : std::uint8_t {
  send,
  recv,
  try_send,
  try_recv,
  close,
  len,
  cap,
  select,
  cancel
};

struct CaseOp {
  enum Kind : std::uint8_t { recv, send, done } kind = recv;  // done: <-ctx.done()
  int channel = 0;
  int value = 0;
};

struct Op {
  OpKind kind = OpKind::len;
  int channel = 0;
  int value = 0;
  std::vector<CaseOp> cases;  // select: 1-3, no (channel, direction) twice, done at most once
  bool with_default = false;
};

std::ostream& operator<<(std::ostream& out, const Op& op) {
  const std::string c = "c" + std::to_string(op.channel);
  switch (op.kind) {
    case OpKind::send:
      return out << "go " << c << " <- " << op.value;
    case OpKind::recv:
      return out << "go <-" << c;
    case OpKind::try_send:
      return out << "try_send(" << c << ", " << op.value << ")";
    case OpKind::try_recv:
      return out << "try_recv(" << c << ")";
    case OpKind::close:
      return out << "close(" << c << ")";
    case OpKind::len:
      return out << "len(" << c << ")";
    case OpKind::cap:
      return out << "cap(" << c << ")";
    case OpKind::cancel:
      return out << "cancel()";
    case OpKind::select:
      out << (op.with_default ? "select {" : "go select {");
      for (const CaseOp& k : op.cases) {
        if (k.kind == CaseOp::recv) out << " <-c" << k.channel << ";";
        if (k.kind == CaseOp::send) out << " c" << k.channel << " <- " << k.value << ";";
        if (k.kind == CaseOp::done) out << " <-ctx.done();";
      }
      return out << (op.with_default ? " default }" : " }");
  }
  return out;
}

std::string text(const Op& op) {
  std::ostringstream out;
  out << op;
  return out.str();
}

// RapidCheck's side: commands are generated from the number of channels.
struct GenModel {
  int channels = 1;
};
struct NoSut {};

struct ChanCommand : rc::state::Command<GenModel, NoSut> {
  Op op;
  void show(std::ostream& out) const override { out << op; }
};

int pick_channel(const GenModel& m) { return *uniform(0, m.channels - 1); }

struct SendCommand : ChanCommand {
  explicit SendCommand(const GenModel& m) {
    op.kind = OpKind::send;
    op.channel = pick_channel(m);
    op.value = *uniform(1, 99);
  }
};
struct RecvCommand : ChanCommand {
  explicit RecvCommand(const GenModel& m) {
    op.kind = OpKind::recv;
    op.channel = pick_channel(m);
  }
};
struct TrySendCommand : ChanCommand {
  explicit TrySendCommand(const GenModel& m) {
    op.kind = OpKind::try_send;
    op.channel = pick_channel(m);
    op.value = *uniform(1, 99);
  }
};
struct TryRecvCommand : ChanCommand {
  explicit TryRecvCommand(const GenModel& m) {
    op.kind = OpKind::try_recv;
    op.channel = pick_channel(m);
  }
};
struct CloseCommand : ChanCommand {
  explicit CloseCommand(const GenModel& m) {
    op.kind = OpKind::close;
    op.channel = pick_channel(m);
  }
};
struct LenCommand : ChanCommand {
  explicit LenCommand(const GenModel& m) {
    op.kind = OpKind::len;
    op.channel = pick_channel(m);
  }
};
struct CapCommand : ChanCommand {
  explicit CapCommand(const GenModel& m) {
    op.kind = OpKind::cap;
    op.channel = pick_channel(m);
  }
};
struct CancelCommand : ChanCommand {
  CancelCommand() { op.kind = OpKind::cancel; }
};
struct SelectCommand : ChanCommand {
  explicit SelectCommand(const GenModel& m) {
    op.kind = OpKind::select;
    op.with_default = *uniform(0, 2) == 0;
    const int n = *uniform(1, 3);
    for (int i = 0; i < n; ++i) {
      CaseOp k;
      k.kind = static_cast<CaseOp::Kind>(*uniform(0, 2));
      k.channel = k.kind == CaseOp::done ? 0 : pick_channel(m);
      k.value = *uniform(1, 99);
      const bool repeated = std::any_of(op.cases.begin(), op.cases.end(), [&](const CaseOp& o) {
        return o.kind == k.kind && (k.kind == CaseOp::done || o.channel == k.channel);
      });
      if (!repeated) op.cases.push_back(k);
    }
  }
};

// ---- what a task saw ----

enum class PanicKind : std::uint8_t { none, send_on_closed, close_of_closed, other };

PanicKind panic_kind(const Panic& e) {
  const std::string what = e.what();
  if (what == "send on closed channel") return PanicKind::send_on_closed;
  if (what == "close of closed channel") return PanicKind::close_of_closed;
  return PanicKind::other;
}

// The state of one operation, observed or predicted. Trivially destructible
// (it is the result of a co_await).
struct OpState {
  bool finished = false;
  PanicKind panic = PanicKind::none;
  int chosen = -1;  // the case (a select), 0 (send, recv); kDefault: default
  bool has_value = false;
  bool ok = false;
  int value = 0;
  friend bool operator==(const OpState&, const OpState&) = default;
};
constexpr int kDefault = 100;

std::string describe(const OpState& s) {
  if (!s.finished) return "waiting";
  if (s.panic != PanicKind::none) return "panicked";
  std::string out =
      s.chosen == kDefault ? "took default" : "done, case " + std::to_string(s.chosen);
  if (s.has_value)
    out += ", received {" + std::to_string(s.value) + ", " + (s.ok ? "true" : "false") + "}";
  return out;
}

// A select over up to 3 cases of any direction plus <-done, as one fixed
// shape: a recv and a send slot per case, the unused ones on the nil channel.
template <bool kWithDefault>
Task<OpState> run_select(std::vector<Chan<int>> chans, Chan<Unit> done, std::vector<CaseOp> cases) {
  Chan<int> r[3];
  Chan<int> s[3];
  int v[3] = {0, 0, 0};
  Chan<Unit> d;
  int done_case = -1;
  for (std::size_t k = 0; k < cases.size(); ++k) {
    const CaseOp& c = cases[k];
    if (c.kind == CaseOp::recv) r[k] = chans[static_cast<std::size_t>(c.channel)];
    if (c.kind == CaseOp::send) s[k] = chans[static_cast<std::size_t>(c.channel)];
    if (c.kind == CaseOp::done) {
      d = done;
      done_case = static_cast<int>(k);
    }
    v[k] = c.value;
  }
  OpState out;
  std::size_t index = 0;
  std::optional<Recv<int>> got;
  bool done_ok = false;
  try {
    if constexpr (kWithDefault) {
      auto x = co_await select(r[0].recv(), s[0].send(v[0]), r[1].recv(), s[1].send(v[1]),
                               r[2].recv(), s[2].send(v[2]), d.recv(), default_case());
      index = x.index();
      if (index == 0) got = x.template get<0>();
      if (index == 2) got = x.template get<2>();
      if (index == 4) got = x.template get<4>();
      if (index == 6) done_ok = x.template get<6>().ok;
    } else {
      auto x = co_await select(r[0].recv(), s[0].send(v[0]), r[1].recv(), s[1].send(v[1]),
                               r[2].recv(), s[2].send(v[2]), d.recv());
      index = x.index();
      if (index == 0) got = x.template get<0>();
      if (index == 2) got = x.template get<2>();
      if (index == 4) got = x.template get<4>();
      if (index == 6) done_ok = x.template get<6>().ok;
    }
  } catch (const Panic& e) {
    out.finished = true;
    out.panic = panic_kind(e);
    co_return out;
  }
  out.finished = true;
  if (index == 7) {
    out.chosen = kDefault;
  } else if (index == 6) {
    out.chosen = done_case;
    out.has_value = true;
    out.ok = done_ok;
  } else {
    out.chosen = static_cast<int>(index / 2);
    require((index % 2 == 1) == (cases[index / 2].kind == CaseOp::send),
            "select fired a slot on the nil channel");
    if (got) {
      out.has_value = true;
      out.ok = got->ok;
      out.value = got->value;
    }
  }
  co_return out;
}

// A plain send or receive, in a task of its own.
Task<OpState> run_plain(Chan<int> ch, bool send, int value) {
  OpState out;
  try {
    if (send) {
      co_await ch.send(value);
    } else {
      auto r = co_await ch.recv();
      out.has_value = true;
      out.ok = r.ok;
      out.value = r.value;
    }
  } catch (const Panic& e) {
    out.panic = panic_kind(e);
    out.chosen = -1;
    out.has_value = false;
  }
  out.finished = true;
  if (out.panic == PanicKind::none) out.chosen = 0;
  co_return out;
}

// ---- the model (Go's runtime/chan.go, reduced) ----

struct Waiter {
  int op = 0;     // which operation
  int kase = 0;   // which of its cases
  int value = 0;  // a sender's value
};

struct ModelChan {
  std::size_t capacity = 0;
  std::deque<int> buffer;
  bool closed = false;
  std::deque<Waiter> recvq, sendq;
};

class Model {
 public:
  // Channels 0..n-1 and, as channel n, the context's done channel.
  explicit Model(const std::vector<int>& capacities) {
    for (int c : capacities)
      chans_.push_back(ModelChan{static_cast<std::size_t>(c), {}, false, {}, {}});
    chans_.push_back(ModelChan{});
  }
  int done_channel() const { return static_cast<int>(chans_.size()) - 1; }
  const ModelChan& chan(int c) const { return chans_[static_cast<std::size_t>(c)]; }
  std::vector<OpState>& ops() { return ops_; }

  bool recv_ready(int c) const {
    const ModelChan& ch = chan(c);
    return !ch.buffer.empty() || ch.closed || !ch.sendq.empty();
  }
  bool send_ready(int c) const {
    const ModelChan& ch = chan(c);
    return ch.closed || !ch.recvq.empty() || ch.buffer.size() < ch.capacity;
  }

  // A receive that is ready, completed now (Go's chanrecv).
  OpState recv_now(int c) {
    ModelChan& ch = chans_[static_cast<std::size_t>(c)];
    OpState s;
    s.finished = true;
    s.has_value = true;
    if (ch.closed && ch.buffer.empty()) return s;  // {0, false}
    s.ok = true;
    if (!ch.sendq.empty()) {
      Waiter w = ch.sendq.front();
      if (ch.capacity == 0) {
        s.value = w.value;
      } else {
        s.value = ch.buffer.front();
        ch.buffer.pop_front();
        ch.buffer.push_back(w.value);
      }
      fire(w, OpState{true, PanicKind::none, w.kase, false, false, 0});
      return s;
    }
    s.value = ch.buffer.front();
    ch.buffer.pop_front();
    return s;
  }

  // A send that is ready, completed now (Go's chansend); false: it panics.
  bool send_now(int c, int value) {
    ModelChan& ch = chans_[static_cast<std::size_t>(c)];
    if (ch.closed) return false;
    if (!ch.recvq.empty()) {
      Waiter w = ch.recvq.front();
      fire(w, OpState{true, PanicKind::none, w.kase, true, true, value});
      return true;
    }
    ch.buffer.push_back(value);
    return true;
  }

  // close(c): every waiting receiver gets {0, false}, every waiting sender
  // panics. False: it was closed already (close panics).
  bool close(int c) {
    ModelChan& ch = chans_[static_cast<std::size_t>(c)];
    if (ch.closed) return false;
    ch.closed = true;
    while (!ch.recvq.empty()) {
      Waiter w = ch.recvq.front();
      fire(w, OpState{true, PanicKind::none, w.kase, true, false, 0});
    }
    while (!ch.sendq.empty()) {
      Waiter w = ch.sendq.front();
      fire(w, OpState{true, PanicKind::send_on_closed, -1, false, false, 0});
    }
    return true;
  }

  void link(int op, int kase, int c, bool send, int value) {
    auto& q = send ? chans_[static_cast<std::size_t>(c)].sendq
                   : chans_[static_cast<std::size_t>(c)].recvq;
    q.push_back(Waiter{op, kase, value});
  }

 private:
  // Completes a waiting operation and unlinks all its waiters.
  void fire(const Waiter& w, OpState state) {
    for (ModelChan& ch : chans_) {
      for (auto* q : {&ch.recvq, &ch.sendq}) {
        q->erase(
            std::remove_if(q->begin(), q->end(), [&](const Waiter& x) { return x.op == w.op; }),
            q->end());
      }
    }
    ops_[static_cast<std::size_t>(w.op)] = state;
  }

  std::vector<ModelChan> chans_;
  std::vector<OpState> ops_;
};

// The cases of an operation, as (channel, send, value); done is the model's last channel.
std::vector<CaseOp> cases_of(const Op& op) {
  if (op.kind == OpKind::send) return {CaseOp{CaseOp::send, op.channel, op.value}};
  if (op.kind == OpKind::recv) return {CaseOp{CaseOp::recv, op.channel, 0}};
  return op.cases;
}

using Commands = rc::state::Commands<rc::state::Command<GenModel, NoSut>>;

// ---- the scenario ----

Task<void> model_scenario(std::vector<int> capacities, Commands commands) {
  Model model(capacities);
  std::vector<Chan<int>> chans;
  for (int c : capacities) chans.push_back(make_chan<int>(static_cast<std::size_t>(c)));
  const auto context = with_cancel(background());
  const Chan<Unit> done = context.first.done();
  const CancelFunc cancel = context.second;
  auto observed = std::make_shared<std::vector<OpState>>();
  const int done_channel = model.done_channel();
  auto model_channel = [&](const CaseOp& k) {
    return k.kind == CaseOp::done ? done_channel : k.channel;
  };

  // Compares every operation and every channel with the model.
  auto compare = [&](std::size_t step, const Op& op) {
    const std::string where = "after command " + std::to_string(step) + " (" + text(op) + "): ";
    for (std::size_t i = 0; i < model.ops().size(); ++i) {
      const OpState& expected = model.ops()[i];
      const OpState& seen = (*observed)[i];
      require(seen == expected, where + "operation " + std::to_string(i) + " is " + describe(seen) +
                                    ", the model says " + describe(expected));
    }
    for (std::size_t c = 0; c < chans.size(); ++c) {
      require(chans[c].len() == model.chan(static_cast<int>(c)).buffer.size(),
              where + "len(c" + std::to_string(c) + ") is " + std::to_string(chans[c].len()) +
                  ", the model says " +
                  std::to_string(model.chan(static_cast<int>(c)).buffer.size()));
    }
  };

  // The cases of `op` that are ready, by the model.
  auto ready_cases = [&](const std::vector<CaseOp>& cases) {
    std::vector<int> ready;
    for (std::size_t k = 0; k < cases.size(); ++k) {
      const int c = model_channel(cases[k]);
      const bool is_ready =
          cases[k].kind == CaseOp::send ? model.send_ready(c) : model.recv_ready(c);
      if (is_ready) ready.push_back(static_cast<int>(k));
    }
    return ready;
  };

  // Applies an operation that completed with `seen` at once, to the model.
  auto apply_completed = [&](const std::vector<CaseOp>& cases, const std::vector<int>& ready,
                             const OpState& seen, const std::string& where) -> OpState {
    if (seen.chosen == kDefault) {
      require(ready.empty(), where + "select took default while a case was ready");
      return seen;
    }
    require(!ready.empty(), where + "completed with no case ready");
    if (seen.panic != PanicKind::none) {
      // The chosen case was a send on a closed channel.
      const bool possible = std::any_of(ready.begin(), ready.end(), [&](int k) {
        return cases[static_cast<std::size_t>(k)].kind == CaseOp::send &&
               model.chan(model_channel(cases[static_cast<std::size_t>(k)])).closed;
      });
      require(possible && seen.panic == PanicKind::send_on_closed,
              where + "panicked without a send case on a closed channel");
      return OpState{true, PanicKind::send_on_closed, -1, false, false, 0};
    }
    require(std::find(ready.begin(), ready.end(), seen.chosen) != ready.end(),
            where + "fired case " + std::to_string(seen.chosen) + ", which was not ready");
    const CaseOp& k = cases[static_cast<std::size_t>(seen.chosen)];
    const int c = model_channel(k);
    if (k.kind == CaseOp::send) {
      require(model.send_now(c, k.value), where + "a send case on a closed channel did not panic");
      return OpState{true, PanicKind::none, seen.chosen, false, false, 0};
    }
    OpState result = model.recv_now(c);
    result.chosen = seen.chosen;
    if (k.kind == CaseOp::done) result.value = 0;
    return result;
  };

  for (std::size_t step = 0; step < commands.size(); ++step) {
    const auto* command = dynamic_cast<const ChanCommand*>(commands[step].get());
    require(command != nullptr, "a command of another type");
    const Op op = command->op;
    const std::string where = "command " + std::to_string(step) + " (" + text(op) + "): ";
    switch (op.kind) {
      case OpKind::send:
      case OpKind::recv:
      case OpKind::select: {
        if (op.kind == OpKind::select && op.with_default) {
          // Runs in main: it never blocks.
          const auto ready = ready_cases(op.cases);
          Task<OpState> task = run_select<true>(chans, done, op.cases);
          const OpState seen = co_await std::move(task);
          model.ops().push_back(apply_completed(op.cases, ready, seen, where));
          observed->push_back(seen.panic != PanicKind::none ? model.ops().back() : seen);
          break;
        }
        const std::size_t id = observed->size();
        observed->push_back(OpState{});
        model.ops().push_back(OpState{});
        const auto cases = cases_of(op);
        const auto ready = ready_cases(cases);
        if (op.kind == OpKind::select) {
          go("select " + std::to_string(id), [chans, done, cases, observed, id]() -> Task<> {
            Task<OpState> task = run_select<false>(chans, done, cases);
            const OpState seen = co_await std::move(task);
            (*observed)[id] = seen;
          });
        } else {
          const Chan<int> ch = chans[static_cast<std::size_t>(op.channel)];
          const bool send = op.kind == OpKind::send;
          const int value = op.value;
          go(send ? "send " + std::to_string(id) : "recv " + std::to_string(id),
             [ch, send, value, observed, id]() -> Task<> {
               Task<OpState> task = run_plain(ch, send, value);
               const OpState seen = co_await std::move(task);
               (*observed)[id] = seen;
             });
        }
        co_await settle();
        const OpState seen = (*observed)[id];
        if (!seen.finished) {
          require(ready.empty(), where + "blocked while a case was ready");
          for (std::size_t k = 0; k < cases.size(); ++k) {
            model.link(static_cast<int>(id), static_cast<int>(k), model_channel(cases[k]),
                       cases[k].kind == CaseOp::send, cases[k].value);
          }
        } else {
          OpState predicted = apply_completed(cases, ready, seen, where);
          model.ops()[id] = predicted;
          if (seen.panic != PanicKind::none)
            (*observed)[id] = predicted;  // no case index to compare
        }
        break;
      }
      case OpKind::try_send: {
        PanicKind panic = PanicKind::none;
        bool took = false;
        try {
          took = chans[static_cast<std::size_t>(op.channel)].try_send(op.value);
        } catch (const Panic& e) {
          panic = panic_kind(e);
        }
        if (model.chan(op.channel).closed) {
          require(panic == PanicKind::send_on_closed,
                  where + "try_send on a closed channel did not panic");
        } else {
          require(panic == PanicKind::none, where + "try_send on an open channel panicked");
          const bool ready = model.send_ready(op.channel);
          require(took == ready, where + (took ? "try_send took a value no one could take"
                                               : "try_send refused a value that could be sent"));
          if (ready) model.send_now(op.channel, op.value);
        }
        break;
      }
      case OpKind::try_recv: {
        auto got = chans[static_cast<std::size_t>(op.channel)].try_recv();
        const bool ready = model.recv_ready(op.channel);
        require(got.has_value() == ready,
                where + (ready ? "try_recv found nothing, but a receive was ready"
                               : "try_recv returned while a receive would block"));
        if (ready) {
          const OpState expected = model.recv_now(op.channel);
          require(got->ok == expected.ok && got->value == expected.value,
                  where + "try_recv got {" + std::to_string(got->value) + ", " +
                      (got->ok ? "true" : "false") + "}, the model says {" +
                      std::to_string(expected.value) + ", " + (expected.ok ? "true" : "false") +
                      "}");
        }
        break;
      }
      case OpKind::close: {
        PanicKind panic = PanicKind::none;
        try {
          chans[static_cast<std::size_t>(op.channel)].close();
        } catch (const Panic& e) {
          panic = panic_kind(e);
        }
        const bool closed_now = model.close(op.channel);
        require(closed_now == (panic == PanicKind::none) &&
                    (closed_now || panic == PanicKind::close_of_closed),
                where + (closed_now ? "close of an open channel panicked"
                                    : "close of a closed channel did not panic"));
        break;
      }
      case OpKind::cancel:
        cancel();
        model.close(done_channel);  // idempotent: a second cancel does nothing
        break;
      case OpKind::len:
        require(chans[static_cast<std::size_t>(op.channel)].len() ==
                    model.chan(op.channel).buffer.size(),
                where + "len differs from the model");
        break;
      case OpKind::cap:
        require(
            chans[static_cast<std::size_t>(op.channel)].cap() == model.chan(op.channel).capacity,
            where + "cap differs from the model");
        break;
    }
    co_await settle();  // woken operations record what they got
    compare(step, op);
  }

  // Clean up: close every channel and cancel, so every waiting operation
  // ends (senders panic); then nothing may be left waiting.
  for (std::size_t c = 0; c < chans.size(); ++c) {
    if (!model.chan(static_cast<int>(c)).closed) {
      chans[c].close();
      model.close(static_cast<int>(c));
    }
  }
  cancel();
  model.close(done_channel);
  co_await settle();
  Op end;
  end.kind = OpKind::cancel;
  compare(commands.size(), end);
}

rc::Gen<std::vector<int>> gen_capacities() { return gen_some(3, uniform(0, 3)); }

}  // namespace

namespace {

void model_property() {
  const auto capacities = *gen_capacities();
  const GenModel initial{static_cast<int>(capacities.size())};
  const auto commands = *rc::state::gen::commands(initial, [](const GenModel& m) {
    return rc::state::gen::execOneOfWithArgs<
        SendCommand, SendCommand, RecvCommand, RecvCommand, TrySendCommand, TryRecvCommand,
        SelectCommand, SelectCommand, CloseCommand, LenCommand, CapCommand, CancelCommand>()(m);
  });
  const auto schedules = *gen_schedules();
  RC_TAG(commands.size() < 10   ? "1-9 commands"
         : commands.size() < 30 ? "10-29 commands"
                                : "30+ commands");
  expect_every_schedule_passes(
      [capacities, commands]() { return model_scenario(capacities, commands); }, schedules,
      static_cast<int>(commands.size()));
}

}  // namespace

RC_GTEST_PROP(ChannelModel, operations_agree_with_a_model_of_go_channels, ()) { model_property(); }

#ifdef CHANFUZZ_MUTANT_NAME
// Every planted runtime bug must make the model test fail, and RapidCheck
// must shrink the command sequence to a few commands.
TEST(MutantControl, model_test_catches_the_mutant) {
  const ControlResult control = run_control("MutantControl/model", model_property);
  ASSERT_TRUE(control.failed) << "the model test did not catch mutant " << mutant_name();
  EXPECT_GT(control.shrinks, 0u);
  EXPECT_LE(control.shrunk.size, 4) << control.counterexample;
  std::cout << "mutant " << mutant_name() << ": the model test failed after " << control.cases
            << " cases; " << control.shrinks << " shrinks; shrunk to " << control.shrunk.size
            << (control.shrunk.size == 1 ? " command:\n" : " commands:\n") << control.counterexample
            << control.shrunk.report;
}
#endif
