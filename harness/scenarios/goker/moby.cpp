// GoKer blocking kernels from Moby (Docker), ported to chanfuzz.
//
// Written from the behaviour of the kernels in gobench/goker/blocking/moby/
// of the GoBench repository (github.com/timmyyuan/gobench; Yuan et al.,
// CGO 2021); no Go code is copied. The kernel's test function is the
// scenario's main task: a test that returns with goroutines blocked is a
// `leak`, one that blocks with every goroutine a `deadlock`.
#include <chanfuzz/chanfuzz.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

using namespace chanfuzz;
using namespace std::chrono_literals;

// ---- moby_21233 ---------------------------------------------------------------
//
// Kernel: GoKer moby/21233, gobench/goker/blocking/moby/21233/ (moby/moby pull
// request 21233; fix commit 2f4aa96).
//
// The test starts G1 = testTransfer and returns. G1 starts the consumer G3,
// which ranges over the unbuffered `progressChan` but returns early with
// probability 1/2 per update (the kernel's model of t.Fatalf ending the
// consumer) and otherwise closes `progressDone` when the range ends. G1 then
// starts three transfers, each with a watcher goroutine: each iteration
// locks and unlocks the transfer's mutex, writes a progress update with
// probability 1/2 (a blocking send), returns if released, and waits in a
// select on `signalChan` (never signalled) and `releaseChan`; it closes its
// `running` channel when it returns. G1 releases each watcher in turn
// (close `releaseChan`, wait on `running`), then closes `progressChan` and
// waits on `progressDone`.
//
// Interleaving: the consumer takes its early return; a watcher that writes
// afterwards blocks on its send, G1 blocks on that watcher's `running`, and
// the later watchers wait in their select; and since `progressDone` is never
// closed, G1 leaks even when no write follows. Both rand.Int31n(2) coins are
// chanfuzz::random(2) (recorded decisions). No leak if the consumer never
// returns early.
//
// Fixed (the pull request made the test stop failing inside the consumer):
// the consumer never returns early; it drains `progressChan` until closed.
namespace {
namespace moby21233 {

struct Progress {};

struct Watcher {
  Watcher()
      : signal_chan(make_chan<Unit>()),
        release_chan(make_chan<Unit>()),
        running(make_chan<Unit>()) {}
  Chan<Unit> signal_chan;
  Chan<Unit> release_chan;
  Chan<Unit> running;
};

struct Transfer {
  Mutex mu;

  // Transfer.Watch: starts the watcher goroutine (G2).
  Task<Watcher> watch(Chan<Progress> progress_output) const {
    co_await mu.lock();
    Watcher w;
    go("Transfer.Watch.func1", [w, mu = mu, progress_output]() -> Task<void> {
      bool done = false;
      for (;;) {
        co_await mu.lock();
        mu.unlock();
        if (random(2) >= 1) co_await progress_output.send(Progress{});  // WriteProgress
        if (done) break;
        auto s = co_await select(w.signal_chan.recv(), w.release_chan.recv());
        if (s.index() == 1) {
          done = true;
          auto nothing = co_await select(default_case());
          (void)nothing;
        }
      }
      w.running.close();  // deferred
    });
    mu.unlock();  // deferred
    co_return w;
  }

  Task<void> release(const Watcher& watcher) const {
    co_await mu.lock();
    mu.unlock();
    watcher.release_chan.close();
    co_await watcher.running.recv();  // blocks here
  }
};

Task<void> test_transfer(bool fixed) {
  Mutex tm_mu;  // NewTransferManager
  auto progress_chan = make_chan<Progress>();
  auto progress_done = make_chan<Unit>();
  go("testTransfer.func1", [progress_chan, progress_done, fixed]() -> Task<void> {
    for (;;) {
      auto r = co_await progress_chan.recv();
      if (!r.ok) break;
      if (!fixed && random(2) >= 1) co_return;  // t.Fatalf
    }
    progress_done.close();
  });
  const std::vector<std::string> ids{"id1", "id2", "id3"};
  std::vector<Transfer> xrefs;
  std::vector<Watcher> watchers;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    co_await tm_mu.lock();  // TransferManager.Transfer
    Transfer t;
    Watcher w = co_await t.watch(progress_chan);
    tm_mu.unlock();  // deferred
    xrefs.push_back(t);
    watchers.push_back(w);
  }
  for (std::size_t i = 0; i < xrefs.size(); ++i) co_await xrefs[i].release(watchers[i]);
  progress_chan.close();
  co_await progress_done.recv();
}

}  // namespace moby21233
}  // namespace

CHANFUZZ_SCENARIO_FAILS(goker_moby_21233, leak,
                        "GoKer moby#21233: the progress consumer quits early; a watcher's "
                        "progress send and the transfer's Release block") {
  go("testTransfer", []() -> Task<void> { co_await moby21233::test_transfer(false); });
  co_return;
}

CHANFUZZ_SCENARIO(goker_moby_21233_fixed,
                  "GoKer moby#21233 fixed: the consumer drains progressChan to the end") {
  go("testTransfer", []() -> Task<void> { co_await moby21233::test_transfer(true); });
  co_return;
}

// ---- moby_25384 ---------------------------------------------------------------
//
// Kernel: GoKer moby/25384, gobench/goker/blocking/moby/25384/ (moby/moby pull
// request 25384; fix commit 42360d1).
//
// The test starts G1 = Manager.init for two plugins and returns. init adds 2
// to a WaitGroup before its loop, but waits inside the loop: after the first
// plugin goroutine's Done the counter is 1, and Wait blocks for ever, before
// the second plugin goroutine is even started (a leak on every schedule).
//
// Fixed (the pull request): Wait after the loop.
namespace {
namespace moby25384 {

Task<void> init(std::size_t plugins, bool fixed) {
  WaitGroup group;
  group.add(static_cast<std::int64_t>(plugins));
  for (std::size_t p = 0; p < plugins; ++p) {
    go("Manager.init.func1", [group]() -> Task<void> {
      group.done();  // deferred
      co_return;
    });
    if (!fixed) co_await group.wait();  // blocks here
  }
  if (fixed) co_await group.wait();
}

}  // namespace moby25384
}  // namespace

CHANFUZZ_SCENARIO_FAILS(goker_moby_25384, leak,
                        "GoKer moby#25384: WaitGroup.Wait inside the loop that starts the "
                        "goroutines it waits for") {
  go("Manager.init", []() -> Task<void> { co_await moby25384::init(2, false); });
  co_return;
}

CHANFUZZ_SCENARIO(goker_moby_25384_fixed,
                  "GoKer moby#25384 fixed: Wait after the loop that starts the plugins") {
  go("Manager.init", []() -> Task<void> { co_await moby25384::init(2, true); });
  co_return;
}

// ---- moby_4951 ----------------------------------------------------------------
//
// Kernel: GoKer moby/4951, gobench/goker/blocking/moby/4951/ (moby/moby pull
// request 4951, devmapper DeleteDevice; fix commit 2ffef1b).
//
// Two goroutines run DeleteDevice("info1"); the test returns at once.
// DeleteDevice locks the device set (`devices`), looks the device up, locks
// the device's `info.lock`, then, to wait for the removal, unlocks
// `devices`, sleeps 300ns and locks `devices` again, still holding
// `info.lock`; it unlocks both when it returns.
//
// Interleaving: G2 takes `devices` inside G1's unlock-sleep-lock window and
// blocks on `info.lock`; G1 then blocks re-locking `devices`. Both leak.
//
// Fixed (the pull request): the lock order is `info.lock`, then `devices`
// (the device is looked up first; the device map never changes here).
namespace {
namespace moby4951 {

struct DevInfo {
  explicit DevInfo(std::string n) : name(std::move(n)) {}
  Mutex lock;
  std::string name;
};

struct DeviceSet {
  DeviceSet() : infos{DevInfo("info1"), DevInfo("info2")} {}  // NewDeviceSet
  Mutex devices;                                              // the embedded sync.Mutex
  std::vector<DevInfo> infos;

  const DevInfo* lookup_device(const std::string& hash) const {
    for (const DevInfo& info : infos) {
      if (info.name == hash) return &info;
    }
    return nullptr;
  }
  // removeDeviceAndWait: the device set is unlocked while the device goes.
  Task<void> remove_device_and_wait() const {
    devices.unlock();
    co_await sleep_for(300ns);
    co_await devices.lock();
  }
  Task<void> delete_device(const std::string& hash, bool fixed) const {
    if (fixed) {
      const DevInfo* info = lookup_device(hash);
      co_await info->lock.lock();
      co_await devices.lock();
      co_await remove_device_and_wait();
      devices.unlock();
      info->lock.unlock();
      co_return;
    }
    co_await devices.lock();
    const DevInfo* info = lookup_device(hash);
    co_await info->lock.lock();
    co_await remove_device_and_wait();  // deleteDevice
    info->lock.unlock();                // deferred
    devices.unlock();                   // deferred
  }
};

Task<void> test(bool fixed) {
  DeviceSet ds;
  for (int g = 0; g < 2; ++g) {  // G1 and G2
    go("DeviceSet.DeleteDevice", [ds, fixed]() -> Task<void> {
      const std::string hash = "info1";
      co_await ds.delete_device(hash, fixed);
    });
  }
  co_return;
}

}  // namespace moby4951
}  // namespace

CHANFUZZ_SCENARIO_FAILS(goker_moby_4951, leak,
                        "GoKer moby#4951: DeleteDevice drops the global lock while holding the "
                        "device lock; a second DeleteDevice takes them in the other order") {
  co_await moby4951::test(false);
}

CHANFUZZ_SCENARIO(goker_moby_4951_fixed,
                  "GoKer moby#4951 fixed: DeleteDevice locks the device before the device set") {
  co_await moby4951::test(true);
}
