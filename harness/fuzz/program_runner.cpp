// Runs channel programs on the runtime (program_runner.hpp).
//
// Coroutine rules of this code base (README, "Pitfalls"): no co_await in a
// condition, results bound to a local first; no closures or aggregates with
// destructors in a statement that awaits; tasks are coroutine functions
// taking references to an Env that outlives the executor.
#include "program_runner.hpp"

#include <array>
#include <chrono>
#include <cstring>
#include <utility>

#include "chanfuzz/context.hpp"
#include "chanfuzz/select.hpp"
#include "chanfuzz/time.hpp"
#include "interleaving_feedback.hpp"

namespace chanfuzz::fuzz::program {

namespace {

constexpr std::array<const char*, kMaxBodies> kBodyFiles = {"body0", "body1", "body2",
                                                            "body3", "body4", "body5"};
constexpr std::array<const char*, kMaxBodies> kBodyNames = {"body 0", "body 1", "body 2",
                                                            "body 3", "body 4", "body 5"};

struct Env {
  const Program* program = nullptr;
  std::vector<LogEntry>* log = nullptr;
  std::array<Chan<int>, kMaxChannels> channels{};
  std::array<Context, kContexts> contexts{};
  std::array<CancelFunc, kContexts> cancels{};
  std::size_t started = 0;                             // tasks started (main included)
  std::array<std::uint32_t, kMaxTasks + 1> offered{};  // values offered, by task id

  std::uint64_t step() const {
    Executor* executor = current_executor();
    auto* sim = static_cast<SimExecutor*>(executor);
    return sim ? sim->steps() : 0;
  }
};

struct OpResult {
  std::int32_t value = 0;
  bool ok = false;
  bool ready = false;
  std::int8_t index = -1;
};

PanicCode panic_code(const Panic& panic) {
  const char* what = panic.what();
  if (std::strcmp(what, panic_message::send_on_closed) == 0) return PanicCode::send_on_closed;
  if (std::strcmp(what, panic_message::close_of_closed) == 0) return PanicCode::close_of_closed;
  if (std::strcmp(what, panic_message::close_of_nil) == 0) return PanicCode::close_of_nil;
  return PanicCode::other;
}

// ---- select: one instantiation per shape -------------------------------------
//
// A shape is: N cases (2-4), which of them send (Mask, bit i = case i), whether
// the last case is a context's done() (Ctx), and a default (Default). The
// shapes that exist are 84; kSelects holds a function per shape.

template <unsigned N, unsigned Mask, bool Ctx, std::size_t I>
auto make_case(Env& env, const Op& op, SourceLocation where, std::int32_t value) {
  if constexpr (Ctx && I == N - 1) {
    return env.contexts[op.select[I].channel].done().recv(where);
  } else if constexpr (((Mask >> I) & 1) != 0) {
    return env.channels[op.select[I].channel].send(value, where);
  } else {
    return env.channels[op.select[I].channel].recv(where);
  }
}

template <std::size_t I, class Result>
void take_case(Result& s, OpResult& out) {
  using Value = std::decay_t<decltype(s.template get<I>())>;
  if constexpr (std::is_same_v<Value, Recv<int>>) {
    out.value = s.template get<I>().value;
    out.ok = s.template get<I>().ok;
  } else if constexpr (std::is_same_v<Value, Recv<Unit>>) {
    out.ok = s.template get<I>().ok;
  }
}

template <class Result, std::size_t... I>
void take_result(Result& s, OpResult& out, std::index_sequence<I...>) {
  out.index = static_cast<std::int8_t>(s.index());
  ((s.index() == I ? take_case<I>(s, out) : void()), ...);
}

template <unsigned N, unsigned Mask, bool Ctx, bool Default, std::size_t... I>
Task<OpResult> select_shape(Env& env, const Op& op, SourceLocation where, std::int32_t value,
                            std::index_sequence<I...> cases) {
  OpResult out;
  if constexpr (Default) {
    auto s =
        co_await select(make_case<N, Mask, Ctx, I>(env, op, where, value)..., default_case(where));
    take_result(s, out, cases);
  } else {
    auto s = co_await select(make_case<N, Mask, Ctx, I>(env, op, where, value)...);
    take_result(s, out, cases);
  }
  co_return out;
}

using SelectFn = Task<OpResult> (*)(Env&, const Op&, SourceLocation, std::int32_t);

template <unsigned N, unsigned Mask, bool Ctx, bool Default>
Task<OpResult> select_entry(Env& env, const Op& op, SourceLocation where, std::int32_t value) {
  return select_shape<N, Mask, Ctx, Default>(env, op, where, value, std::make_index_sequence<N>{});
}

constexpr unsigned kShapeCodes = 3 * 16 * 2 * 2;

constexpr unsigned shape_code(unsigned n, unsigned mask, bool ctx, bool with_default) {
  return (n - 2) + 3 * mask + 48 * (ctx ? 1 : 0) + 96 * (with_default ? 1 : 0);
}

template <unsigned Code>
constexpr SelectFn select_for_code() {
  constexpr unsigned n = 2 + Code % 3;
  constexpr unsigned mask = (Code / 3) % 16;
  constexpr bool ctx = (Code / 48) % 2 == 1;
  constexpr bool with_default = (Code / 96) % 2 == 1;
  if constexpr (mask >= (1u << n) || (ctx && ((mask >> (n - 1)) & 1) != 0)) {
    return nullptr;
  } else {
    return &select_entry<n, mask, ctx, with_default>;
  }
}

template <unsigned... Codes>
constexpr std::array<SelectFn, sizeof...(Codes)> select_table(
    std::integer_sequence<unsigned, Codes...>) {
  return {select_for_code<Codes>()...};
}

constexpr auto kSelects = select_table(std::make_integer_sequence<unsigned, kShapeCodes>{});

SelectFn select_function(const Op& op) {
  unsigned mask = 0;
  for (unsigned i = 0; i < op.cases; ++i) mask |= (op.select[i].send ? 1u : 0u) << i;
  const bool ctx = op.select[op.cases - 1].context;
  return kSelects[shape_code(op.cases, mask, ctx, op.has_default)];
}

// ---- the operations ------------------------------------------------------------

Task<> run_body(Env& env, std::uint8_t body);

Task<OpResult> perform(Env& env, const Op& op, SourceLocation where, std::int32_t value) {
  OpResult out;
  switch (op.kind) {
    case OpKind::send: {
      Chan<int> ch = env.channels[op.arg];
      co_await ch.send(value, where);
      break;
    }
    case OpKind::recv: {
      Chan<int> ch = env.channels[op.arg];
      Recv<int> got = co_await ch.recv(where);
      out.value = got.value;
      out.ok = got.ok;
      break;
    }
    case OpKind::try_send:
      out.ok = env.channels[op.arg].try_send(value, where);
      break;
    case OpKind::try_recv: {
      std::optional<Recv<int>> got = env.channels[op.arg].try_recv(where);
      out.ready = got.has_value();
      if (got) {
        out.value = got->value;
        out.ok = got->ok;
      }
      break;
    }
    case OpKind::select: {
      Task<OpResult> selected = select_function(op)(env, op, where, value);
      out = co_await std::move(selected);
      break;
    }
    case OpKind::close:
      env.channels[op.arg].close(where);
      break;
    case OpKind::cancel:
      env.cancels[op.arg]();
      break;
    case OpKind::sleep:
      co_await sleep_for(std::chrono::milliseconds(op.arg), where);
      break;
    case OpKind::spawn:
      if (env.started < kMaxTasks) {
        ++env.started;
        out.ready = true;
        go(kBodyNames[op.arg], run_body(env, op.arg), where);
      }
      break;
    case OpKind::wait: {
      Chan<Unit> done = env.contexts[op.arg].done();
      Recv<Unit> got = co_await done.recv(where);
      out.ok = got.ok;
      break;
    }
  }
  co_return out;
}

bool offers_value(const Op& op) {
  if (op.kind == OpKind::send || op.kind == OpKind::try_send) return true;
  if (op.kind != OpKind::select) return false;
  for (std::size_t i = 0; i < op.cases; ++i) {
    if (op.select[i].send) return true;
  }
  return false;
}

Task<> run_body(Env& env, std::uint8_t body) {
  const std::uint64_t me = current_executor()->current_task()->id;
  const std::vector<Op>& ops = env.program->bodies[body];
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    LogEntry begin;
    begin.kind = LogEntry::Kind::begin;
    begin.task = me;
    begin.body = body;
    begin.op = static_cast<std::uint8_t>(i);
    begin.step = env.step();
    if (offers_value(op)) begin.value = offered_value(me, ++env.offered[me]);
    env.log->push_back(begin);

    OpResult result;
    PanicCode panic = PanicCode::none;
    try {
      Task<OpResult> pending = perform(env, op, op_location(body, i), begin.value);
      result = co_await std::move(pending);
    } catch (const Panic& p) {
      panic = panic_code(p);
    }
    LogEntry end = begin;
    end.kind = LogEntry::Kind::end;
    end.step = env.step();
    end.value = result.value;
    end.ok = result.ok;
    end.ready = result.ready;
    end.index = result.index;
    end.panic = panic;
    env.log->push_back(end);
    if (panic != PanicCode::none) co_return;  // the task dies (as if recovered at its top)
  }
}

Task<> program_main(Env& env) {
  for (std::size_t i = 0; i < env.program->channels.size(); ++i) {
    const ChannelSpec& spec = env.program->channels[i];
    if (!spec.nil) {
      env.channels[i] = make_chan<int>(
          spec.capacity, SourceLocation{"channels", static_cast<std::uint32_t>(i + 1), "program"});
    }
  }
  auto [x0, cancel0] = with_cancel(background());
  auto [x1, cancel1] = with_cancel(x0);
  env.contexts = {x0, x1};
  env.cancels = {cancel0, cancel1};
  env.started = 1;
  Task<> body = run_body(env, 0);
  co_await std::move(body);
}

}  // namespace

SourceLocation op_location(std::size_t body, std::size_t op) {
  return SourceLocation{kBodyFiles[body], static_cast<std::uint32_t>(op + 1), kBodyNames[body]};
}

std::string describe_value(std::int32_t value) {
  const auto task = static_cast<std::uint64_t>(value) >> 8;
  const auto n = static_cast<std::uint32_t>(value) & 0xff;
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%#x (task %llu's #%u)", static_cast<unsigned>(value),
                static_cast<unsigned long long>(task), n);
  return buffer;
}

std::string describe_entry(const Program& program, const LogEntry& entry) {
  std::string out = "task " + std::to_string(entry.task);
  if (entry.kind == LogEntry::Kind::begin || entry.kind == LogEntry::Kind::end) {
    out += " body" + std::to_string(entry.body) + ":" + std::to_string(entry.op + 1) + " " +
           describe(program.bodies[entry.body][entry.op]);
  }
  return out;
}

ProgramRun run_program(const Program& program, Strategy& strategy, InterleavingFeedback* feedback,
                       std::uint64_t max_steps) {
  ProgramRun run;
  run.log.reserve(256);
  Env env;
  env.program = &program;
  env.log = &run.log;
  SimOptions options;
  options.seed = 0;
  options.max_steps = max_steps;
  options.strategy = &strategy;
  std::vector<LogEntry>* log = &run.log;
  options.observer = [log, feedback](const SimEvent& event) {
    if (feedback) feedback->on_event(event);
    LogEntry entry;
    switch (event.kind) {
      case SimEvent::Kind::blocked:
        entry.kind = LogEntry::Kind::blocked;
        break;
      case SimEvent::Kind::woken:
        entry.kind = LogEntry::Kind::woken;
        break;
      case SimEvent::Kind::spawned:
        entry.kind = LogEntry::Kind::spawned;
        break;
      case SimEvent::Kind::finished:
        entry.kind = LogEntry::Kind::finished;
        break;
      default:
        return;
    }
    entry.task = event.task;
    entry.other = event.other;
    entry.step = event.step;
    log->push_back(entry);
  };
  {
    SimExecutor sim(std::move(options));
    run.result = sim.run(program_main(env));
  }
  return run;
}

}  // namespace chanfuzz::fuzz::program
