// The channel runtime alone (no harness).
#pragma once

#include "chanfuzz/chan.hpp"
#include "chanfuzz/clock.hpp"
#include "chanfuzz/context.hpp"
#include "chanfuzz/debug.hpp"
#include "chanfuzz/executor.hpp"
#include "chanfuzz/panic.hpp"
#include "chanfuzz/select.hpp"
#include "chanfuzz/source_location.hpp"
#include "chanfuzz/sync.hpp"
#include "chanfuzz/task.hpp"
#include "chanfuzz/thread_executor.hpp"
#include "chanfuzz/time.hpp"
