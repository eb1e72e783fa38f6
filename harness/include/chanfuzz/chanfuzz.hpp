// The whole of chanfuzz: the runtime and the harness.
#pragma once

#include "chanfuzz/check.hpp"
#include "chanfuzz/minimize.hpp"
#include "chanfuzz/report.hpp"
#include "chanfuzz/runtime.hpp"
#include "chanfuzz/scenario.hpp"
#include "chanfuzz/sim_executor.hpp"
#include "chanfuzz/strategy.hpp"
#include "chanfuzz/stress.hpp"
#include "chanfuzz/trace.hpp"
