// GoKer blocking kernels from grpc-go, ported to chanfuzz.
//
// Written from the behaviour of the kernels in gobench/goker/blocking/grpc/
// of the GoBench repository (github.com/timmyyuan/gobench; Yuan et al.,
// CGO 2021); no Go code is copied. The kernel's test function is the
// scenario's main task: a test that returns with goroutines blocked is a
// `leak`, one that blocks with every goroutine a `deadlock`.
#include <chanfuzz/chanfuzz.hpp>

#include <chrono>
#include <utility>
#include <vector>

using namespace chanfuzz;
using namespace std::chrono_literals;

// ---- grpc_1275 ----------------------------------------------------------------
//
// Kernel: GoKer grpc/1275, gobench/goker/blocking/grpc/1275/ (grpc/grpc-go
// pull request 1275; fix commit 0669f3f). The kernel's test is named
// TestGrpc1293.
//
// The test body (G1) starts G2, which reads from the stream (io.ReadFull over
// recvBufferReader.Read, which waits on the unbuffered `recv.c`) and closes
// `donec` when it returns. G1 then calls CloseStream, which should deliver a
// message to `recv.c` and does not, and waits in a select on `donec` and a
// 300ns timer (time.NewTimer; on `donec` it stops the timer, draining its
// channel when Stop reports that it already fired).
//
// Interleaving: any. G1 leaves through the timer and returns; G2 blocks on
// `recv.c` for ever (a leak on every schedule).
//
// Time: the timer is `after(300ns)` in virtual time. Timer.Stop() is
// modelled by try_recv on the timer's channel: Stop reports false exactly
// when the timer has fired, and then its value waits in the channel (of
// capacity 1), which `<-timer.C` takes; a timer that has not fired later
// drops its value into that channel, which nobody reads.
//
// Fixed (the pull request): CloseStream delivers a message to the stream's
// receive buffer, and Read returns the error it carries, which ends
// io.ReadFull (grpc sends recvMsg{err: ErrConnClosing}).
namespace {
namespace grpc1275 {

// A message on the receive buffer: false is data (the kernel's value), true
// the stream's closing error.
using RecvMsg = bool;

// recvBufferReader.Read: (bytes read, error).
struct ReadResult {
  int n = 0;
  bool err = false;
};

Task<ReadResult> read(Chan<RecvMsg> recv) {
  auto s = co_await select(recv.recv());  // a one-case select; G2 blocks here
  co_return ReadResult{0, s.get<0>().value};
}

// io.ReadFull(reader, p) with len(p) == 1: reads until a byte or an error.
Task<void> read_full(Chan<RecvMsg> recv) {
  for (int n = 0; n < 1;) {
    ReadResult r = co_await read(recv);
    n += r.n;
    if (r.err) co_return;
  }
}

Task<void> test(bool fixed) {
  auto recv = make_chan<RecvMsg>();  // NewStream: recvBuffer{c: make(chan bool)}
  auto donec = make_chan<bool>();
  go("Stream.Read", [recv, donec]() -> Task<void> {
    co_await read_full(recv);  // stream.Read([]byte{1})
    donec.close();             // deferred
  });
  if (fixed) co_await recv.send(true);  // CloseStream
  Chan<TimePoint> timeout = after(300ns);
  auto s = co_await select(donec.recv(), timeout.recv());
  if (s.index() == 0) {
    auto stopped_too_late = timeout.try_recv();  // if !timeout.Stop() { <-timeout.C }
    (void)stopped_too_late;
  }
}

}  // namespace grpc1275
}  // namespace

CHANFUZZ_SCENARIO_FAILS(goker_grpc_1275, leak,
                        "GoKer grpc#1275: CloseStream never wakes the reader; the test leaves "
                        "by its timer") {
  co_await grpc1275::test(false);
}

CHANFUZZ_SCENARIO(goker_grpc_1275_fixed,
                  "GoKer grpc#1275 fixed: CloseStream delivers the closing error to the reader") {
  co_await grpc1275::test(true);
}

// ---- grpc_1424 ----------------------------------------------------------------
//
// Kernel: GoKer grpc/1424, gobench/goker/blocking/grpc/1424/ (grpc/grpc-go
// pull request 1424; fix commit 64bd0b0).
//
// The test starts G1 = DialContext and returns. DialContext starts G2, which
// starts G3 = lbWatcher(doneChan) and waits on `<-doneChan`, and closes the
// balancer's unbuffered `addrCh`. lbWatcher ranges over `addrCh` (tearing
// down the connections of each update: there are none) and returns without
// closing `doneChan`.
//
// Interleaving: any. The close ends G3's range, G3 returns, and G2 waits on
// `doneChan` for ever (a leak on every schedule).
//
// Fixed (the kernel's FIX note and the pull request): lbWatcher closes
// `doneChan` when it returns (defer close(doneChan)).
namespace {
namespace grpc1424 {

struct AddrConn {
  Mutex mu;
  Task<void> tear_down() const {
    co_await mu.lock();
    mu.unlock();  // deferred
  }
};

Task<void> lb_watcher(Chan<bool> addr_ch, std::vector<AddrConn> conns, Chan<bool> done_chan,
                      bool fixed) {
  for (;;) {
    auto r = co_await addr_ch.recv();  // range over Notify()
    if (!r.ok) break;
    std::vector<AddrConn> del = conns;  // every connection is removed
    for (const AddrConn& c : del) co_await c.tear_down();
  }
  if (fixed) done_chan.close();
}

Task<void> dial_context(bool fixed) {
  auto addr_ch = make_chan<bool>();  // roundRobin{addrCh: make(chan bool)}
  std::vector<AddrConn> conns;       // cc.conns: none
  auto wait_c = make_chan<bool>(1);  // chan error, capacity 1
  go("DialContext.func1", [addr_ch, conns, wait_c, fixed]() -> Task<void> {
    Chan<bool> ch = addr_ch;  // cc.dopts.balancer.Notify()
    if (ch) {
      auto done_chan = make_chan<bool>();
      go("ClientConn.lbWatcher", [ch, conns, done_chan, fixed]() -> Task<void> {
        co_await lb_watcher(ch, conns, done_chan, fixed);
      });
      co_await done_chan.recv();  // blocks here
    }
    wait_c.close();  // deferred
  });
  addr_ch.close();
  co_return;
}

}  // namespace grpc1424
}  // namespace

CHANFUZZ_SCENARIO_FAILS(goker_grpc_1424, leak,
                        "GoKer grpc#1424: lbWatcher returns without closing doneChan; its "
                        "parent waits for ever") {
  go("DialContext", []() -> Task<void> { co_await grpc1424::dial_context(false); });
  co_return;
}

CHANFUZZ_SCENARIO(goker_grpc_1424_fixed,
                  "GoKer grpc#1424 fixed: lbWatcher closes doneChan when it returns") {
  go("DialContext", []() -> Task<void> { co_await grpc1424::dial_context(true); });
  co_return;
}

// ---- grpc_1353 ----------------------------------------------------------------
//
// Kernel: GoKer grpc/1353, gobench/goker/blocking/grpc/1353/ (grpc/grpc-go
// pull request 1353; fix commit 0662e89).
//
// The round-robin balancer's Start makes the unbuffered `addrCh` and starts
// G2, which calls watchAddrUpdates 100 times (lock `rr.mu`, send on
// `addrCh`, unlock) and then closes HelpCh. G3 = lbWatcher ranges over
// `addrCh` and tears down both connections for each update: each tearDown
// locks the connection's own mutex and calls down(), which locks `rr.mu`. G4
// waits on HelpCh and closes the balancer (under `rr.mu`, close `addrCh`).
// The test returns at once.
//
// Interleaving: G3 receives update k and starts tearing down; G2 unlocks,
// locks `rr.mu` again for update k+1 and blocks on the send while holding
// it; G3's down() blocks on `rr.mu`. G2 and G3 deadlock and G4 waits on
// HelpCh: all leak. Avoided only if G3 finishes both down() calls before G2
// locks again, in every one of the 100 rounds.
//
// Fixed (the pull request): `addrCh` has capacity 1 and watchAddrUpdates
// drains it (a select with default) before it sends, so the send never
// blocks while `rr.mu` is held.
namespace {
namespace grpc1353 {

constexpr int kUpdates = 100;

struct RoundRobin {
  explicit RoundRobin(bool fixed) : addr_ch(make_chan<bool>(fixed ? 1 : 0)), fixed(fixed) {}
  Mutex mu;
  Chan<bool> addr_ch;  // made by Start()
  bool fixed;

  Task<void> watch_addr_updates() const {
    co_await mu.lock();
    if (fixed) {
      auto s = co_await select(addr_ch.recv(), default_case());
      (void)s;
    }
    co_await addr_ch.send(true);  // blocks here
    mu.unlock();                  // deferred
  }
  Task<void> down() const {
    co_await mu.lock();  // blocks here
    mu.unlock();         // deferred
  }
  Task<void> close() const {
    co_await mu.lock();
    if (addr_ch) addr_ch.close();
    mu.unlock();  // deferred
  }
};

struct AddrConn {
  Mutex mu;
  Task<void> tear_down(const RoundRobin& rr) const {
    co_await mu.lock();
    co_await rr.down();  // ac.down, from rr.Up()
    mu.unlock();         // deferred
  }
};

Task<void> test(bool fixed) {
  auto help_ch = make_chan<Unit>();
  RoundRobin rr(fixed);  // NewClientConn
  std::vector<AddrConn> conns(2);
  go("roundRobin.Start", [rr, help_ch]() -> Task<void> {
    for (int i = 0; i < kUpdates; ++i) co_await rr.watch_addr_updates();
    help_ch.close();
  });
  go("ClientConn.lbWatcher", [rr, conns]() -> Task<void> {
    for (;;) {
      auto r = co_await rr.addr_ch.recv();  // range over Notify()
      if (!r.ok) break;
      std::vector<AddrConn> del = conns;
      for (const AddrConn& c : del) co_await c.tear_down(rr);
    }
  });
  go("balancer.Close", [rr, help_ch]() -> Task<void> {
    co_await help_ch.recv();
    co_await rr.close();
  });
  co_return;
}

}  // namespace grpc1353
}  // namespace

CHANFUZZ_SCENARIO_FAILS(goker_grpc_1353, leak,
                        "GoKer grpc#1353: watchAddrUpdates sends while holding rr.mu; lbWatcher "
                        "needs rr.mu to finish the previous update") {
  co_await grpc1353::test(false);
}

CHANFUZZ_SCENARIO(goker_grpc_1353_fixed,
                  "GoKer grpc#1353 fixed: addrCh has capacity 1 and is drained before each send") {
  co_await grpc1353::test(true);
}
