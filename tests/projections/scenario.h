#pragma once

// Runs a golden scenario (tests/projections/<projection>/: events.jsonl, config.toml,
// expected.txt) through a projection and compares the metrics with the hand-worked values.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "event.pb.h"
#include "teamhealth/projections/accumulator.h"
#include "teamhealth/projections/directory_view.h"
#include "teamhealth/projections/projection.h"

namespace teamhealth::testing {

std::vector<schema::Event> LoadEvents(const std::string& path);
projections::DirectoryView LoadDirectory(const std::string& config_path);

// Applies `events` in order, then exports gauges at `now`.
projections::Accumulator Run(projections::Projection& projection,
                             projections::DirectoryView& directory,
                             const std::vector<schema::Event>& events, EpochMillis now);

// Every series in `expected_path` (`name{labels} value`, `#` comments; histograms as
// name_count / name_sum) must match, and every non-zero series of `metric_prefixes` in the
// accumulator must be listed. Reports mismatches with gtest.
void ExpectMetrics(const projections::Accumulator& acc, const std::string& expected_path);

using ProjectionFactory = std::function<std::unique_ptr<projections::Projection>()>;

// Properties every projection must have, over the scenario in `dir`:
// stopping after ANY event and resuming from Save()/Load() (projection, directory view and
// accumulator) gives byte-identical state and metrics to one pass;
void ExpectResumingAnywhereMatchesOnePass(const ProjectionFactory& make, const std::string& dir,
                                          EpochMillis now);
// and replaying the same log from scratch twice gives identical state (the log never holds
// duplicate ids, so this is what "replaying duplicates changes nothing" means here).
void ExpectReplayIsDeterministic(const ProjectionFactory& make, const std::string& dir,
                                 EpochMillis now);

}  // namespace teamhealth::testing
