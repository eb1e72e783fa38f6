// SpinLock: the lock of one channel, mutex or wait group.
//
// Critical sections under it are a few dozen instructions (a queue link, a
// buffer slot), so a spinning lock beats a futex; after a short spin it
// yields the thread so that an oversubscribed machine still makes progress.
// Never hold it across a suspension or a call into user code.
#pragma once

#include <atomic>
#include <thread>

namespace chanfuzz::detail {

class SpinLock {
 public:
  void lock() noexcept {
    for (int spins = 0; locked_.exchange(true, std::memory_order_acquire);) {
      while (locked_.load(std::memory_order_relaxed)) {
        if (++spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
          __builtin_ia32_pause();
#endif
        } else {
          std::this_thread::yield();
        }
      }
    }
  }
  bool try_lock() noexcept { return !locked_.exchange(true, std::memory_order_acquire); }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace chanfuzz::detail
