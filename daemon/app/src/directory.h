#pragma once

#include <vector>

#include "teamhealth/base/time.h"
#include "teamhealth/config/config.h"
#include "teamhealth/eventlog/event_log.h"

namespace teamhealth::app {

// The directory of the config as the log records it (effective schedules resolved).
std::vector<eventlog::DirectoryPerson> DirectoryPeople(const config::DirectoryConfig& directory);

EpochMillis NowMillis();

}  // namespace teamhealth::app
