// Time types. The clock is the executor's: virtual in SimExecutor (it starts
// at zero and moves only when the executor advances it), real in executors
// that run on threads.
#pragma once

#include <chrono>

namespace chanfuzz {

using Duration = std::chrono::nanoseconds;

// The executor's clock. Clock::now() is chanfuzz::now().
struct Clock {
  using duration = Duration;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<Clock, Duration>;
  static constexpr bool is_steady = true;
  static time_point now();
};

using TimePoint = Clock::time_point;

}  // namespace chanfuzz
