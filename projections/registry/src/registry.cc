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

Settings MakeSettings(const config::Config& c) {
  Settings s;
  const auto& m = c.metrics;
  s.session_gap_ms = int64_t{m.session_gap_minutes} * 60'000;
  s.switch_cost_minutes = m.switch_cost_minutes;
  s.page_merge_ms = int64_t{m.page_merge_seconds} * 1000;
  s.sleep_interruptions_7d = m.sleep_interruptions_7d;
  s.after_hours_share_14d = m.after_hours_share_14d;
  s.after_hours_min_activities = m.after_hours_min_activities;
  s.weekend_days_28d = m.weekend_days_28d;
  s.no_rest_streak_days = m.no_rest_streak_days;
  s.oncall_share_28d = m.oncall_share_28d;
  s.wip_limit = m.wip_limit;
  s.always_on_share_28d = m.always_on_share_28d;
  s.person_metrics = c.privacy.person_metrics;
  s.min_group_size = c.privacy.min_group_size;
  return s;
}

std::string VersionTag(const std::vector<std::unique_ptr<Projection>>& projections) {
  std::string tag;
  for (const auto& p : projections) {
    tag += std::string(p->name()) + "@" + std::to_string(p->version()) + ";";
  }
  return tag;
}

DirectoryView MakeDirectoryView(const config::DirectoryConfig& directory) {
  return DirectoryView(directory.services, directory.projects, ToWorkPattern(directory.defaults));
}

}  // namespace teamhealth::projections
