#include "teamhealth/projections/registry.h"

#include "teamhealth/projections/burnout.h"
#include "teamhealth/projections/context_switching.h"
#include "teamhealth/projections/flow.h"
#include "teamhealth/projections/oncall_load.h"
#include "teamhealth/projections/pulse.h"

namespace teamhealth::projections {

std::vector<std::unique_ptr<Projection>> MakeProjections(const Settings& settings) {
  std::vector<std::unique_ptr<Projection>> out;
  out.push_back(std::make_unique<OncallLoad>(settings));
  out.push_back(std::make_unique<ContextSwitching>(settings));
  out.push_back(std::make_unique<Flow>(settings));
  out.push_back(std::make_unique<Burnout>(settings));
  // Added after the first four: on a state directory checkpointed without it, the projector
  // finds no checkpoint for it and rebuilds it alone from the start of the log.
  out.push_back(std::make_unique<Pulse>(settings));
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

std::vector<schema::Event> DirectoryEvents(const config::DirectoryConfig& directory) {
  std::vector<schema::Event> out;
  for (const auto& person : directory.people) {
    if (person.identities.empty()) continue;
    const config::Schedule s = directory.EffectiveSchedule(person);
    schema::Event e;
    e.set_id("directory:config:" + person.handle);
    e.set_source("directory");
    e.set_type("directory.person_upserted");
    e.set_occurred_at_ms(0);
    e.mutable_subject()->set_kind("person");
    e.mutable_subject()->set_id(person.identities.front());
    auto list = [&](const char* name, const std::vector<std::string>& values) {
      auto* l = e.add_attrs();
      l->set_name(name);
      auto* v = l->mutable_value()->mutable_list_value();
      for (const auto& value : values) v->add_values(value);
    };
    auto str = [&](const char* name, const std::string& value) {
      auto* a = e.add_attrs();
      a->set_name(name);
      a->mutable_value()->set_string_value(value);
    };
    // Attributes sorted by name, as normalised events carry them.
    list("aliases", {person.identities.begin() + 1, person.identities.end()});
    str("sleep_hours", s.sleep_hours.value_or(""));
    list("teams", person.teams);
    str("timezone", s.timezone.value_or("UTC"));
    list("working_days", s.working_days.value_or(std::vector<std::string>{}));
    str("working_hours", s.working_hours.value_or(""));
    out.push_back(std::move(e));
  }
  return out;
}

DirectoryView MakeDirectoryView(const config::DirectoryConfig& directory) {
  return DirectoryView(directory.services, directory.projects, ToWorkPattern(directory.defaults));
}

}  // namespace teamhealth::projections
