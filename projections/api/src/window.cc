#include "teamhealth/projections/window.h"

#include <algorithm>
#include <cmath>

namespace teamhealth::projections {

void WindowSink::NamePeople(const std::map<std::string, std::string>& names) {
  NamePersonSeries(counters_, names);
  NamePersonSeries(gauges_, names);
  NamePersonSeries(observations_, names);
}

double Percentile(std::vector<double>& values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

}  // namespace teamhealth::projections
