#pragma once

// Runs a golden scenario (tests/projections/<projection>/: events.jsonl, config.toml,
// expected.txt) through a projection and compares the metrics with the hand-worked values.

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

}  // namespace teamhealth::testing
