#pragma once

#include <cstdint>

namespace teamhealth::projections {

// Events between two prunes of a projection's state, by the event time (docs/design.md section
// 7): part of the definitions, since what a prune forgets changes how a late event counts.
inline constexpr uint64_t kPruneEvery = 10'000;

}  // namespace teamhealth::projections
