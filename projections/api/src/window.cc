#include "teamhealth/projections/window.h"

#include <algorithm>
#include <cmath>

#include "teamhealth/projections/accumulator.h"

namespace teamhealth::projections {

void WindowSink::NamePeople(const std::map<std::string, std::string>& names) {
  // Renamed series keep their nodes under other labels: a remembered place may now be another
  // series'.
  counter_slots_.Clear();
  observation_slots_.Clear();
  NamePersonSeries(counters_, names);
  NamePersonSeries(gauges_, names);
  NamePersonSeries(observations_, names);
}

void WindowSink::WithholdSmallGroups(const std::map<std::string, int>& team_sizes,
                                          int min_group_size) {
  counter_slots_.Clear();  // series are erased below
  observation_slots_.Clear();
  for (auto& [name, series] : counters_) {
    std::erase_if(series, [&](const auto& s) {
      return IsSmallSenderTeam(s.first, team_sizes, min_group_size);
    });
  }
  if (auto it = observations_.find("teamhealth_pulse_score"); it != observations_.end()) {
    std::erase_if(it->second, [&](const auto& s) {
      return s.second.size() < static_cast<size_t>(min_group_size);
    });
  }
}

double Percentile(std::vector<double>& values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

}  // namespace teamhealth::projections
