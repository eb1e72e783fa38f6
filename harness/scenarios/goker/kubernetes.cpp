// GoKer blocking kernels from Kubernetes, ported to chanfuzz.
//
// Written from the behaviour of the kernels in gobench/goker/blocking/kubernetes/
// of the GoBench repository (github.com/timmyyuan/gobench; Yuan et al.,
// CGO 2021); no Go code is copied. The kernel's test function is the
// scenario's main task: a test that returns with goroutines blocked is a
// `leak`, one that blocks with every goroutine a `deadlock`.
#include <chanfuzz/chanfuzz.hpp>

#include <memory>
#include <vector>

using namespace chanfuzz;

// ---- kubernetes_38669 ---------------------------------------------------------
//
// Kernel: GoKer kubernetes/38669, gobench/goker/blocking/kubernetes/38669/
// (kubernetes/kubernetes pull request 38669, "Fix leaking goroutines in watch
// cache"; issue 38670).
//
// newCacheWatcher (channel size 0) starts `process`, which first sends the
// two initial events into the unbuffered `result`, then loops on `input`
// until it is closed (deferred: Stop, close(result)). The test calls Stop
// (under the watcher's mutex, close `input` once) and returns; nobody reads
// `result`.
//
// Interleaving: any. `process` blocks on its first `result <-` for ever (a
// leak on every schedule).
//
// Fixed (the pull request): Stop also closes a `done` channel, and
// sendWatchCacheEvent gives up when `done` is closed: it returns if `done`
// is already closed (a select with default), else it selects on the send
// and `done`.
namespace {
namespace kubernetes38669 {

struct CacheWatcher {
  explicit CacheWatcher(std::size_t chan_size)
      : input(make_chan<int>(chan_size)),
        result(make_chan<int>(chan_size)),
        done(make_chan<Unit>()),
        stopped(std::make_shared<bool>(false)) {}
  Mutex mu;
  Chan<int> input;
  Chan<int> result;
  Chan<Unit> done;                // the fix's
  std::shared_ptr<bool> stopped;  // guarded by mu

  Task<void> stop() const {
    co_await mu.lock();
    if (!*stopped) {
      *stopped = true;
      input.close();
      done.close();  // only the fixed sendWatchCacheEvent looks at it
    }
    mu.unlock();  // deferred
  }

  Task<void> send_watch_cache_event(int event, bool fixed) const {
    if (!fixed) {
      co_await result.send(event);  // blocks here: nobody reads result
      co_return;
    }
    auto already = co_await select(done.recv(), default_case());
    if (already.index() == 0) co_return;
    auto s = co_await select(result.send(event), done.recv());
    (void)s;
  }

  Task<void> process(std::vector<int> init_events, bool fixed) const {
    for (int event : init_events) co_await send_watch_cache_event(event, fixed);
    for (;;) {
      auto r = co_await input.recv();
      if (!r.ok) break;
    }
    co_await stop();  // deferred
    result.close();   // deferred
  }
};

Task<void> test(bool fixed) {
  std::vector<int> init_events{1, 2};
  CacheWatcher w(0);  // newCacheWatcher(0, initEvents)
  go("cacheWatcher.process",
     [w, init_events, fixed]() -> Task<void> { co_await w.process(init_events, fixed); });
  co_await w.stop();
}

}  // namespace kubernetes38669
}  // namespace

CHANFUZZ_SCENARIO_FAILS(goker_kubernetes_38669, leak,
                        "GoKer kubernetes#38669: the watcher's process blocks sending initial "
                        "events nobody reads, even after Stop") {
  co_await kubernetes38669::test(false);
}

CHANFUZZ_SCENARIO(goker_kubernetes_38669_fixed,
                  "GoKer kubernetes#38669 fixed: sendWatchCacheEvent gives up once Stop closed "
                  "done") {
  co_await kubernetes38669::test(true);
}

// ---- kubernetes_6632 ----------------------------------------------------------
//
// Kernel: GoKer kubernetes/6632, gobench/goker/blocking/kubernetes/6632/
// (kubernetes/kubernetes pull request 6632, spdystream's idleAwareFramer; fix
// commit 82afb7a).
//
// A helper sends on the unbuffered `closeChan`. G1 = monitor waits for it,
// then, under `writeLock`, closes `resetChan` (its own copy) and sets the
// field to nil. G2 = WriteFrame locks `writeLock` and, unless the field is
// nil, sends on the unbuffered `resetChan`, which nobody receives, while
// holding the lock. The test returns at once.
//
// Interleaving: G2 takes `writeLock` before G1 does and blocks on its send;
// G1 then blocks on `writeLock`. Both leak. If G1 gets the lock first, G2
// finds nil and returns.
//
// Fixed (the pull request): when `closeChan` fires, monitor first starts a
// goroutine that drains `resetChan` (range until it is closed), then locks
// and closes it.
namespace {
namespace kubernetes6632 {

struct IdleAwareFramer {
  IdleAwareFramer()
      : reset_chan(std::make_shared<Chan<bool>>(make_chan<bool>())),
        close_chan(make_chan<bool>()) {}
  std::shared_ptr<Chan<bool>> reset_chan;  // the field; guarded by write_lock
  Mutex write_lock;
  Chan<bool> close_chan;  // conn.closeChan

  Task<void> monitor(bool fixed) const {
    Chan<bool> reset = *reset_chan;
    for (;;) {
      auto s = co_await select(close_chan.recv());
      (void)s;
      if (fixed) {
        go("idleAwareFramer.drain", [reset]() -> Task<void> {
          for (;;) {
            auto r = co_await reset.recv();
            if (!r.ok) break;
          }
        });
      }
      co_await write_lock.lock();
      reset.close();
      *reset_chan = Chan<bool>();  // nil
      write_lock.unlock();
      break;
    }
  }

  Task<void> write_frame() const {
    co_await write_lock.lock();
    if (*reset_chan) co_await reset_chan->send(true);  // blocks here
    write_lock.unlock();                               // deferred
  }
};

Task<void> test(bool fixed) {
  IdleAwareFramer i;
  go("helper", [i]() -> Task<void> { co_await i.close_chan.send(true); });
  go("idleAwareFramer.monitor", [i, fixed]() -> Task<void> { co_await i.monitor(fixed); });
  go("idleAwareFramer.WriteFrame", [i]() -> Task<void> { co_await i.write_frame(); });
  co_return;
}

}  // namespace kubernetes6632
}  // namespace

CHANFUZZ_SCENARIO_FAILS(goker_kubernetes_6632, leak,
                        "GoKer kubernetes#6632: WriteFrame sends on resetChan holding writeLock; "
                        "monitor needs writeLock to close it") {
  co_await kubernetes6632::test(false);
}

CHANFUZZ_SCENARIO(goker_kubernetes_6632_fixed,
                  "GoKer kubernetes#6632 fixed: monitor drains resetChan before taking "
                  "writeLock") {
  co_await kubernetes6632::test(true);
}

// ---- kubernetes_10182 ---------------------------------------------------------
//
// Kernel: GoKer kubernetes/10182, gobench/goker/blocking/kubernetes/10182/
// (kubernetes/kubernetes pull request 10182, "Fix kubelet deadlock"; fix
// commit 64ad3e1).
//
// The status manager's Start spawns G1, which runs syncBatch twice: receive
// on the unbuffered `podStatusChannel`, then DeletePodStatus (lock and unlock
// `podStatusesLock`). G2 and G3 each run SetPodStatus: lock
// `podStatusesLock`, send on the channel, unlock. The test returns at once.
// `podStatusesLock` is a sync.RWMutex used only through Lock/Unlock, so it is
// a Mutex here.
//
// Interleaving: G2's send meets G1 and G2 unlocks; G3 takes the lock and
// blocks on its send; G1's DeletePodStatus blocks on the lock. G1 and G3
// leak. If G1 locks before G3, nothing hangs.
//
// No fixed variant: the pull request's change (among others, an equality
// check so that unchanged statuses are not sent) has no counterpart in the
// kernel.
namespace {
namespace kubernetes10182 {

struct StatusManager {
  StatusManager() : pod_status_channel(make_chan<bool>()) {}
  Mutex pod_statuses_lock;  // sync.RWMutex, used as a Mutex
  Chan<bool> pod_status_channel;

  Task<void> delete_pod_status() const {
    co_await pod_statuses_lock.lock();
    pod_statuses_lock.unlock();  // deferred
  }
  Task<void> sync_batch() const {
    co_await pod_status_channel.recv();
    co_await delete_pod_status();
  }
  Task<void> set_pod_status() const {
    co_await pod_statuses_lock.lock();
    co_await pod_status_channel.send(true);
    pod_statuses_lock.unlock();  // deferred
  }
};

}  // namespace kubernetes10182
}  // namespace

CHANFUZZ_SCENARIO_FAILS(goker_kubernetes_10182, leak,
                        "GoKer kubernetes#10182: SetPodStatus sends holding podStatusesLock; "
                        "syncBatch needs the lock before it receives again") {
  using namespace kubernetes10182;
  StatusManager s;
  go("statusManager.Start", [s]() -> Task<void> {
    go("statusManager.syncBatch", [s]() -> Task<void> {
      for (int i = 0; i < 2; ++i) co_await s.sync_batch();
    });
    co_return;
  });
  go("statusManager.SetPodStatus", [s]() -> Task<void> { co_await s.set_pod_status(); });
  go("statusManager.SetPodStatus", [s]() -> Task<void> { co_await s.set_pod_status(); });
  co_return;
}
