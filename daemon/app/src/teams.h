#pragma once

#include <set>
#include <string>
#include <vector>

#include "teamhealth/base/result.h"
#include "teamhealth/base/time.h"
#include "teamhealth/config/config.h"
#include "teamhealth/eventlog/event_log.h"
#include "teamhealth/projections/directory_view.h"

namespace teamhealth::app {

// Every team a report can name, `unmapped` aside: the teams of the directory as the log
// recorded it (ever), and those the config declares ([[directory.teams]]) or maps services or
// projects to.
std::set<std::string> TeamNames(const projections::DirectoryView& directory,
                                const config::DirectoryConfig& config);

// One team of `teamhealth teams` and /api/v1/teams.
struct TeamInfo {
  std::string name;
  int members = 0;          // as of the listing's instant
  bool suppressed = false;  // members < privacy.min_group_size: burnout and direct-interruption
                            // series withheld
};

// The teams of `log`'s recorded directory (and those `config` declares or maps) with their
// members at `at`, by name. Reads the directory events only (through the subject index); safe
// on a live log from another thread, as reports are.
Result<std::vector<TeamInfo>> ListTeams(eventlog::EventLog& log, const config::Config& config,
                                        EpochMillis at);

// {"as_of":RFC3339,"min_group_size":N,"teams":[{"team","members","suppressed"}]} and a newline.
std::string TeamsJson(const std::vector<TeamInfo>& teams, const config::Config& config,
                      EpochMillis at);

}  // namespace teamhealth::app
