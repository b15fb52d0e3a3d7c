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
// The [metrics] and [privacy] definitions of the config.
Settings MakeSettings(const config::Config& config);

}  // namespace teamhealth::projections
