#pragma once

#include <memory>
#include <vector>

#include "teamhealth/config/config.h"
#include "teamhealth/projections/directory_view.h"
#include "teamhealth/projections/projection.h"

namespace teamhealth::projections {

// The explicit list of projections this build runs.
std::vector<std::unique_ptr<Projection>> MakeProjections(const Settings& settings);

// A directory view with the config's service/project maps and default work pattern; the
// people come from the log's directory events.
DirectoryView MakeDirectoryView(const config::DirectoryConfig& directory);
WorkPattern ToWorkPattern(const config::Schedule& schedule);
// The config's people as `directory.person_upserted` events at instant 0, for events that carry
// source identities (`report --events`, tests): each person keyed by their first identity,
// the others its aliases, with the effective schedule. People without identities are left out.
std::vector<schema::Event> DirectoryEvents(const config::DirectoryConfig& directory);
// The [metrics] and [privacy] definitions of the config.
Settings MakeSettings(const config::Config& config);

}  // namespace teamhealth::projections
