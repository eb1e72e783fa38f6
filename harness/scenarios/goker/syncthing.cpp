// GoKer blocking kernel from Syncthing, ported to chanfuzz.
//
// Written from the behaviour of the kernel in gobench/goker/blocking/syncthing/
// of the GoBench repository (github.com/timmyyuan/gobench; Yuan et al.,
// CGO 2021); no Go code is copied. The kernel's test function is the
// scenario's main task: a test that returns with goroutines blocked is a
// `leak`, one that blocks with every goroutine a `deadlock`.
#include <chanfuzz/chanfuzz.hpp>

#include <functional>
#include <memory>

using namespace chanfuzz;

// ---- syncthing_5795 -----------------------------------------------------------
//
// Kernel: GoKer syncthing/5795, gobench/goker/blocking/syncthing/5795/
// (syncthing/syncthing pull request 5795, rawConnection.Close from the
// dispatcher).
//
// Start runs readerLoop, which busy-loops on `select { <-closed: return;
// default: }`, and dispatcherLoop, which takes messages from the unbuffered
// `inbox` (a select with `closed`) and closes `dispatcherLoopStopped` when it
// returns. The test sends a ClusterConfig on `inbox`, then waits on
// `dispatcherLoopStopped`. The dispatcher hands the message to the model,
// whose callback calls Close: internalClose, once (a sync.Once with a single
// caller: a flag), closes `closed` and waits on `dispatcherLoopStopped`.
//
// Interleaving: any. The dispatcher waits for its own deferred close: it and
// the test block for ever, readerLoop sees `closed` and returns: a global
// deadlock on every schedule. readerLoop may spin for ever before the others
// run (PCT can keep it first), hence the step bound and skip.
//
// Fixed (the kernel's FIX note and the pull request): Close runs
// internalClose in a new goroutine.
namespace {
namespace syncthing5795 {

enum class Message { other, cluster_config };  // message (an interface{}): *ClusterConfig or not

struct TestModel {
  std::function<Task<void>()> cc_fn;  // ccFn; may be empty
  Task<void> cluster_config() const {
    if (cc_fn) {
      Task<void> running = cc_fn();
      co_await running;
    }
  }
};

struct RawConnection {
  explicit RawConnection(std::shared_ptr<TestModel> model)
      : receiver(std::move(model)),
        inbox(make_chan<Message>()),
        dispatcher_loop_stopped(make_chan<Unit>()),
        closed(make_chan<Unit>()),
        close_once(std::make_shared<bool>(false)) {}
  std::shared_ptr<TestModel> receiver;
  Chan<Message> inbox;
  Chan<Unit> dispatcher_loop_stopped;
  Chan<Unit> closed;
  std::shared_ptr<bool> close_once;  // sync.Once: done

  Task<void> internal_close() const {
    if (*close_once) co_return;
    *close_once = true;
    closed.close();
    co_await dispatcher_loop_stopped.recv();  // the dispatcher blocks here
  }
  Task<void> close(bool fixed) const {
    if (!fixed) {
      co_await internal_close();
      co_return;
    }
    go("rawConnection.internalClose", [c = *this]() -> Task<void> { co_await c.internal_close(); });
  }
  Task<void> reader_loop() const {
    for (;;) {
      auto s = co_await select(closed.recv(), default_case());
      if (s.index() == 0) co_return;
    }
  }
  Task<void> dispatcher_loop() const {
    for (;;) {
      auto s = co_await select(inbox.recv(), closed.recv());
      if (s.index() == 1) break;
      if (s.get<0>().value != Message::cluster_config) break;
      co_await receiver->cluster_config();
    }
    dispatcher_loop_stopped.close();  // deferred
  }
};

Task<void> test(bool fixed) {
  auto m = std::make_shared<TestModel>();
  auto c = std::make_shared<RawConnection>(m);
  // m.ccFn = func() { c.Close() }. A weak reference: the model must not own
  // the connection that owns it.
  std::weak_ptr<RawConnection> weak = c;
  m->cc_fn = [weak, fixed]() -> Task<void> {
    std::shared_ptr<RawConnection> conn = weak.lock();
    if (conn) co_await conn->close(fixed);
  };
  go("rawConnection.readerLoop", [c]() -> Task<void> { co_await c->reader_loop(); });
  go("rawConnection.dispatcherLoop", [c]() -> Task<void> { co_await c->dispatcher_loop(); });
  co_await c->inbox.send(Message::cluster_config);
  co_await c->dispatcher_loop_stopped.recv();
}

}  // namespace syncthing5795
}  // namespace

// readerLoop may spin for ever before the others run: abandon such runs.
constexpr ScenarioSettings kMayNeverEnd{.max_steps = 2000, .on_step_limit = StepLimit::skip};

CHANFUZZ_SCENARIO_FAILS_WITH(goker_syncthing_5795, deadlock, kMayNeverEnd,
                             "GoKer syncthing#5795: the dispatcher's callback closes the "
                             "connection and waits for the dispatcher itself to stop") {
  co_await syncthing5795::test(false);
}

CHANFUZZ_SCENARIO_WITH(goker_syncthing_5795_fixed, kMayNeverEnd,
                       "GoKer syncthing#5795 fixed: Close runs internalClose in a new goroutine") {
  co_await syncthing5795::test(true);
}
