#pragma once

// Runs a golden scenario (tests/projections/<projection>/: events.jsonl, config.toml,
// expected.txt) through the projection pipeline and compares the metrics with the
// hand-worked values. Every test drives projections through projections::Pipeline, the one
// apply loop of the product.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "event.pb.h"
#include "teamhealth/projections/accumulator.h"
#include "teamhealth/projections/directory_view.h"
#include "teamhealth/projections/pipeline.h"
#include "teamhealth/projections/projection.h"

namespace teamhealth::testing {

std::vector<schema::Event> LoadEvents(const std::string& path);
projections::DirectoryView LoadDirectory(const std::string& config_path);

// A pipeline of the one projection `projection` borrows (it must outlive the pipeline), over
// `directory`. Tests keep their projection object to inspect it.
std::unique_ptr<projections::Pipeline> BorrowingPipeline(
    projections::Projection& projection, projections::DirectoryView directory,
    const projections::Settings& settings = {});

// Preloads the directory events among `events`, applies all of them in order and exports the
// gauges at `now`.
projections::Accumulator Drive(projections::Pipeline& pipeline,
                               const std::vector<schema::Event>& events, EpochMillis now);

// Drive() over a pipeline of `projection` and `directory`; `directory` is left as the
// pipeline's (with the scenario's people), for tests that ask it questions afterwards.
projections::Accumulator Run(projections::Projection& projection,
                             projections::DirectoryView& directory,
                             const std::vector<schema::Event>& events, EpochMillis now);

// Every series in `expected_path` (`name{labels} value`, `#` comments) must match, and every
// non-zero series of the accumulator must be listed. Histograms are listed as name_count,
// name_sum and name_bucket{...,le="B"}: the observations in the bucket whose upper bound is B
// (NOT cumulative; "+Inf" for the last), so a value in the wrong bucket fails. A file with no
// series at all is an error.
void ExpectMetrics(const projections::Accumulator& acc, const std::string& expected_path);

using ProjectionFactory = std::function<std::unique_ptr<projections::Projection>()>;

// Properties every projection must have, over the scenario in `dir`:
// stopping after ANY event and resuming from Save()/Load() (projection state and metrics; the
// pipeline preloads the directory again) gives byte-identical state and metrics to one pass;
void ExpectResumingAnywhereMatchesOnePass(const ProjectionFactory& make, const std::string& dir,
                                          EpochMillis now);
// and replaying the same events from scratch twice gives identical state.
void ExpectReplayIsDeterministic(const ProjectionFactory& make, const std::string& dir,
                                 EpochMillis now);

}  // namespace teamhealth::testing
