#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "teamhealth/projections/metrics.h"

// Private to projections/api: the one serialisation of a series' identity, shared by the
// Accumulator's index and the InternSeries table so that both agree on what "the same series" is.
namespace teamhealth::projections::detail {

// A series' identity as bytes: every string length-prefixed, so no two series share one.
inline void AppendPart(std::string& out, std::string_view part) {
  const auto n = static_cast<uint32_t>(part.size());
  out.append(reinterpret_cast<const char*>(&n), sizeof n);
  out.append(part);
}

// Writes the key of (`name`, `labels`) into `out` (reused by callers: no allocation once it
// has grown) and returns it.
inline const std::string& SeriesKey(std::string_view name, const Labels& labels,
                                    std::string& out) {
  out.clear();
  AppendPart(out, name);
  for (const auto& [k, v] : labels) {
    AppendPart(out, k);
    AppendPart(out, v);
  }
  return out;
}

}  // namespace teamhealth::projections::detail
