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
// The [metrics] and [privacy] definitions of a scenario's config.toml (defaults where absent).
projections::Settings LoadSettings(const std::string& config_path);

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

// One series of an accumulator. A missing series is an error, not zero: a metric misnamed in
// the producer or in the test must fail, never read as "nothing counted". So when `name` is
// not in the accumulator at all, or has no series with exactly `labels`, these fail the test
// (saying what the accumulator has instead) and return NaN / nullptr, which fails any
// comparison as well.
double CounterValue(const projections::Accumulator& acc, const std::string& name,
                    const projections::Labels& labels);
double GaugeValue(const projections::Accumulator& acc, const std::string& name,
                  const projections::Labels& labels);
const projections::HistogramData* HistogramSeries(const projections::Accumulator& acc,
                                                  const std::string& name,
                                                  const projections::Labels& labels);

// For a test that means "nothing was ever counted (observed, set) for these labels": `name`
// must be a catalogue metric (projections::FindSpec, so a misspelt name in the test fails), and
// the accumulator must hold no series name{labels} of any kind (one present with value 0 fails
// too: it was written). Absence alone cannot tell a correct producer from one that writes
// under another name, so a test that asserts absence must also read a present series of the
// same `name` with CounterValue/GaugeValue/HistogramSeries (a positive control).
void ExpectNoSeries(const projections::Accumulator& acc, const std::string& name,
                    const projections::Labels& labels);

using ProjectionFactory = std::function<std::unique_ptr<projections::Projection>()>;

// Properties every projection must have, over the scenario in `dir`:
// stopping after ANY event and resuming from Save()/Load() (projection state and metrics; the
// pipeline preloads the directory again) gives byte-identical state and metrics to one pass;
void ExpectResumingAnywhereMatchesOnePass(const ProjectionFactory& make, const std::string& dir,
                                          EpochMillis now);
// and replaying the same events from scratch twice gives identical state. The replay holds no
// duplicate ids, on purpose: the event log drops an id it already holds, in the same batch or
// any later one (EventLog::Append; tests/eventlog/event_log_test.cc
// DuplicatesAcrossAndWithinBatchesAreDroppedAndCounted and ReopenKeepsSequencesCountersOffsetsAndDedup,
// and live, across batches and a restart, tests/integration/test_projections_live.py), so no
// projection ever sees one; deduplicating is not the projections' job, and a projection fed a
// duplicate would count it twice.
void ExpectReplayIsDeterministic(const ProjectionFactory& make, const std::string& dir,
                                 EpochMillis now);

}  // namespace teamhealth::testing
