#include "teamhealth/projections/prune.h"

#include <algorithm>
#include <bit>

namespace teamhealth::projections {

bool PruneDue(uint64_t applied, size_t entries) {
  if (applied == 0 || applied % kPruneEvery != 0) return false;
  // A power of two: when the state grows or shrinks across a boundary, the prunes of the
  // larger spacing are prunes of the smaller one too, so none is put off beyond the larger.
  const uint64_t spacing = std::bit_floor(std::max<uint64_t>(1, entries / kPruneEvery));
  return (applied / kPruneEvery) % spacing == 0;
}

}  // namespace teamhealth::projections
