#include "teamhealth/projections/registry.h"

#include "teamhealth/projections/burnout.h"
#include "teamhealth/projections/context_switching.h"
#include "teamhealth/projections/flow.h"
#include "teamhealth/projections/oncall_load.h"

namespace teamhealth::projections {

std::vector<std::unique_ptr<Projection>> MakeProjections(const Settings& settings) {
  std::vector<std::unique_ptr<Projection>> out;
  out.push_back(std::make_unique<OncallLoad>(settings));
  out.push_back(std::make_unique<ContextSwitching>(settings));
  out.push_back(std::make_unique<Flow>(settings));
  out.push_back(std::make_unique<Burnout>(settings));
  return out;
}

WorkPattern ToWorkPattern(const config::Schedule& s) {
  static constexpr const char* kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  WorkPattern p;
  if (s.timezone) p.timezone = *s.timezone;
  if (s.working_days) {
    p.working_days = 0;
    for (const auto& d : *s.working_days) {
      for (int i = 0; i < 7; ++i) {
        if (d == kDays[i]) p.working_days |= static_cast<uint8_t>(1 << i);
      }
    }
  }
  if (s.working_hours) ParseHourRange(*s.working_hours, p.work_start_min, p.work_end_min);
  if (s.sleep_hours) ParseHourRange(*s.sleep_hours, p.sleep_start_min, p.sleep_end_min);
  return p;
}

Settings MakeSettings(const config::Config& c) { return c.definitions; }

DirectoryView MakeDirectoryView(const config::DirectoryConfig& directory) {
  return DirectoryView(directory.services, directory.projects, ToWorkPattern(directory.defaults));
}

}  // namespace teamhealth::projections
