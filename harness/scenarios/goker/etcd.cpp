// GoKer blocking kernels from etcd, ported to chanfuzz.
//
// Written from the behaviour of the kernels in gobench/goker/blocking/etcd/
// of the GoBench repository (github.com/timmyyuan/gobench; Yuan et al.,
// CGO 2021); no Go code is copied. The kernel's test function is the
// scenario's main task: a test that returns with goroutines blocked is a
// `leak`, one that blocks with every goroutine a `deadlock`.
#include <chanfuzz/chanfuzz.hpp>

#include <memory>
#include <vector>

using namespace chanfuzz;

// ---- etcd_6873 ----------------------------------------------------------------
//
// Kernel: GoKer etcd/6873, gobench/goker/blocking/etcd/6873/ (etcd-io/etcd pull
// request 6873, "grpcproxy: fix deadlock on watch broadcasts stop"; fix
// commit 7618fdd).
//
// newWatchBroadcasts starts G2, which ranges over `updatec` (capacity 1)
// calling coalesce (lock and unlock `mu`) and closes `donec` when the range
// ends. The test puts one update (a select with default), starts G3 = stop()
// and returns. stop() holds `mu` across `close(updatec)` and `<-donec`.
//
// Interleaving: G3 takes `mu` before G2's coalesce does. G2 still receives
// the buffered update after the close and blocks in coalesce's Lock, so it
// never finishes its range nor closes `donec`, and G3 waits on `donec` while
// holding `mu`: both leak. If coalesce locks first, nothing hangs.
//
// Fixed (the pull request): stop() unlocks `mu` before it waits on `donec`.
namespace {
namespace etcd6873 {

struct WatchBroadcasts {
  WatchBroadcasts() : updatec(make_chan<int>(1)), donec(make_chan<Unit>()) {}
  Mutex mu;
  Chan<int> updatec;  // *watchBroadcast; the kernel sends an empty one
  Chan<Unit> donec;

  Task<void> coalesce() const {
    co_await mu.lock();
    mu.unlock();
  }
  Task<void> stop(bool fixed) const {
    co_await mu.lock();
    updatec.close();
    if (fixed) mu.unlock();
    co_await donec.recv();
    if (!fixed) mu.unlock();  // deferred
  }
  Task<void> update() const {
    auto s = co_await select(updatec.send(1), default_case());
    (void)s;
  }
};

Task<void> test(bool fixed) {
  WatchBroadcasts wbs;  // newWatchBroadcasts
  go("watchBroadcasts.loop", [wbs]() -> Task<void> {
    for (;;) {
      auto r = co_await wbs.updatec.recv();
      if (!r.ok) break;
      co_await wbs.coalesce();
    }
    wbs.donec.close();  // deferred
  });
  co_await wbs.update();
  go("watchBroadcasts.stop", [wbs, fixed]() -> Task<void> { co_await wbs.stop(fixed); });
}

}  // namespace etcd6873
}  // namespace

CHANFUZZ_SCENARIO_FAILS(goker_etcd_6873, leak,
                        "GoKer etcd#6873: stop() holds mu while waiting for the broadcast loop, "
                        "which needs mu to finish") {
  co_await etcd6873::test(false);
}

CHANFUZZ_SCENARIO(goker_etcd_6873_fixed,
                  "GoKer etcd#6873 fixed: stop() unlocks mu before waiting on donec") {
  co_await etcd6873::test(true);
}

// ---- etcd_7902 ----------------------------------------------------------------
//
// Kernel: GoKer etcd/7902, gobench/goker/blocking/etcd/7902/ (etcd-io/etcd pull
// request 7902; fix commit 87d99fe).
//
// Three round clients, a leader and two followers, run 100 rounds each
// (doRounds; G1 waits for them on a WaitGroup, and the test returns at
// once). A round: lock `mu`, validate (remember the current `nextc`),
// unlock, lock `mu` again, release, unlock. The leader's release closes
// `nextc`, makes a new one and receives on the one it remembered (closed);
// a follower's release receives on the `nextc` it remembered, while holding
// `mu`.
//
// Interleaving: a follower enters release (holding `mu`) before the leader
// has closed the `nextc` that follower remembered. The leader needs `mu` to
// close it: the leader and the other follower block on `mu`, the follower on
// its channel, G1 in Wait, all leaked. It also happens when the leader
// finishes its 100 rounds first (nobody closes the last `nextc`), so almost
// every schedule fails.
//
// Note on the Go kernel: it picks the leader with `i == 0` inside closures
// created in `for i := range rcs`. With Go's loop-variable semantics before
// Go 1.22 (GoBench used 1.14; this project's Go is 1.19) every closure sees
// the last value of `i`, so no client acts as leader and the kernel deadlocks
// on every schedule in the same state. We port the intended protocol, client
// 0 leading, as in the etcd code the kernel comes from.
//
// No fixed variant: the fix removes the lock around release, but in the
// kernel a follower can still wait on a `nextc` the leader, done with its
// rounds, never closes.
namespace {
namespace etcd7902 {

constexpr int kClients = 3;
constexpr int kRounds = 100;

struct RoundClient {
  explicit RoundClient(int index)
      : i(index), rc_nextc(std::make_shared<Chan<bool>>()), progress(std::make_shared<int>(0)) {}
  int i;
  std::shared_ptr<Chan<bool>> rc_nextc;  // what validate remembered
  std::shared_ptr<int> progress;

  void validate(const std::shared_ptr<Chan<bool>>& nextc) const { *rc_nextc = *nextc; }
  Task<void> release(const std::shared_ptr<Chan<bool>>& nextc) const {
    if (i == 0) {  // the leader
      nextc->close();
      *nextc = make_chan<bool>();
    }
    co_await rc_nextc->recv();  // followers block here
  }
};

Task<void> do_rounds(std::vector<RoundClient> rcs, std::shared_ptr<Chan<bool>> nextc, int rounds) {
  Mutex mu;
  WaitGroup wg;
  wg.add(static_cast<std::int64_t>(rcs.size()));
  for (const RoundClient& rc : rcs) {
    go("doRounds.client", [rc, nextc, mu, wg, rounds]() -> Task<void> {
      while (*rc.progress < rounds || rounds <= 0) {
        // acquire(): nothing
        co_await mu.lock();
        rc.validate(nextc);
        mu.unlock();
        ++*rc.progress;
        co_await mu.lock();  // the leader blocks here
        co_await rc.release(nextc);
        mu.unlock();
      }
      wg.done();  // deferred
    });
  }
  co_await wg.wait();
}

}  // namespace etcd7902
}  // namespace

CHANFUZZ_SCENARIO_FAILS(goker_etcd_7902, leak,
                        "GoKer etcd#7902: a follower waits for the leader's close while holding "
                        "the mutex the leader needs") {
  using namespace etcd7902;
  go("runElectionFunc", []() -> Task<void> {
    auto nextc = std::make_shared<Chan<bool>>(make_chan<bool>());
    std::vector<RoundClient> rcs;
    for (int i = 0; i < kClients; ++i) rcs.emplace_back(i);
    co_await do_rounds(rcs, nextc, kRounds);
  });
  co_return;
}
