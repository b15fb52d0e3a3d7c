#include "directory.h"

#include <chrono>

namespace teamhealth::app {

std::vector<eventlog::DirectoryPerson> DirectoryPeople(const config::DirectoryConfig& directory) {
  std::vector<eventlog::DirectoryPerson> out;
  out.reserve(directory.people.size());
  for (const auto& p : directory.people) {
    const config::Schedule s = directory.EffectiveSchedule(p);
    out.push_back(eventlog::DirectoryPerson{
        .handle = p.handle,
        .identities = p.identities,
        .teams = p.teams,
        .timezone = s.timezone.value_or("UTC"),
        .working_days = s.working_days.value_or(std::vector<std::string>{}),
        .working_hours = s.working_hours.value_or(""),
        .sleep_hours = s.sleep_hours.value_or(""),
    });
  }
  return out;
}

EpochMillis NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace teamhealth::app
