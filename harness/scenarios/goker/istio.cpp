// GoKer blocking kernel from Istio, ported to chanfuzz.
//
// Written from the behaviour of the kernel in gobench/goker/blocking/istio/
// of the GoBench repository (github.com/timmyyuan/gobench; Yuan et al.,
// CGO 2021); no Go code is copied. The kernel's test function is the
// scenario's main task: a test that returns with goroutines blocked is a
// `leak`, one that blocks with every goroutine a `deadlock`.
#include <chanfuzz/chanfuzz.hpp>

#include <functional>
#include <memory>
#include <vector>

using namespace chanfuzz;

// ---- istio_16224 --------------------------------------------------------------
//
// Kernel: GoKer istio/16224, gobench/goker/blocking/istio/16224/ (istio/istio
// pull request 16224, "Fix memory monitor test deadlock").
//
// The config store monitor's Run loop selects on `stop` and the unbuffered
// `eventCh`; an event runs the registered handlers. The test registers a
// handler that locks a test-local mutex and sends on the unbuffered `done`
// (unlocking when it returns), starts Run, sends one event (Create), then
// locks and unlocks the mutex, receives from `done` and closes `stop`. When
// Run sees `stop` it drains one more value from `eventCh` (receive with ok)
// before it returns.
//
// Interleaving (the real bug): after the event's rendezvous the handler takes
// the lock first and blocks on `done <-`; the test blocks on the lock: a
// global deadlock. On the other schedules the test locks first, takes
// `done` and closes `stop`, and Run's drain of `eventCh`, which nobody sends
// to any more, blocks for ever: a leak. So every schedule fails, as deadlock
// or as leak (the scenario declares the deadlock and accepts the leak).
//
// No fixed variant: the pull request unlocks before the send on `done`, which
// removes the deadlock, but Run's final drain still leaks on every schedule
// of the kernel.
namespace {
namespace istio16224 {

using Handler = std::function<Task<void>(int)>;  // func(Event)

struct ConfigStoreMonitor {
  ConfigStoreMonitor()
      : handlers(std::make_shared<std::vector<Handler>>()), event_ch(make_chan<int>()) {}
  std::shared_ptr<std::vector<Handler>> handlers;
  Chan<int> event_ch;

  Task<void> apply_handlers(int event) const {
    for (const Handler& f : *handlers) {
      Task<void> running = f(event);
      co_await running;
    }
  }
  Task<void> run(Chan<Unit> stop) const {
    for (;;) {
      auto s = co_await select(stop.recv(), event_ch.recv());
      if (s.index() == 0) {
        auto r = co_await event_ch.recv();  // blocks here on the leaking schedules
        if (r.ok) event_ch.close();
        co_return;
      }
      if (s.get<1>().ok) co_await apply_handlers(s.get<1>().value);  // processConfigEvent
    }
  }
};

}  // namespace istio16224
}  // namespace

// Every schedule fails: a deadlock, or a leak when the test takes the lock
// first.
constexpr ScenarioSettings kDeadlockOrLeak{.also_expected = FailureKind::leak};

CHANFUZZ_SCENARIO_FAILS_WITH(goker_istio_16224, deadlock, kDeadlockOrLeak,
                             "GoKer istio#16224: the handler sends on done holding the lock the "
                             "test takes before it receives") {
  using namespace istio16224;
  ConfigStoreMonitor monitor;  // controller{monitor: NewMonitor()}
  auto done = make_chan<bool>();
  Mutex lock;
  Handler handler = [lock, done](int) -> Task<void> {
    co_await lock.lock();
    co_await done.send(true);
    lock.unlock();  // deferred
  };
  monitor.handlers->push_back(std::move(handler));  // RegisterEventHandler
  auto stop = make_chan<Unit>();
  go("controller.Run", [monitor, stop]() -> Task<void> { co_await monitor.run(stop); });
  co_await monitor.event_ch.send(0);  // Create: ScheduleProcessEvent
  co_await lock.lock();
  lock.unlock();
  co_await done.recv();
  stop.close();
}
