#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "teamhealth/base/result.h"
#include "teamhealth/base/time.h"
#include "teamhealth/base/types.h"
#include "teamhealth/eventlog/event_log.h"
#include "teamhealth/logging/logging.h"
#include "teamhealth/projections/metrics.h"
#include "teamhealth/projections/pipeline.h"
#include "teamhealth/storage/store.h"

// Metric facts (docs/design.md section 8): every counter increment and histogram observation
// the projections make, with its team, metric, labels, instant, value, and the sequence and
// time of the event that caused it, stored by (team, hour of the instant) so that a report
// reads only its team's facts inside its window.
//
// Facts are built by replaying the log in event-time order (the order of every report), not in
// arrival order, so a report read from facts gives exactly the numbers of a replay. The builder
// trails the newest event by `lag` (10 minutes by default) so that events arriving a little out
// of order are simply applied in order; an event older than what the builder already applied
// rolls it back to the latest snapshot at or before that event's time (the facts caused since
// are deleted in the same write) and it re-applies from there.
//
// At every UTC midnight the replay crosses, the gauges of every team as of that midnight are
// recorded: a report ending at a midnight reads its team's gauges there, and never the
// organisation's state. Snapshots of the projections' state are written at the midnights of
// the last 14 days before the newest event and at one midnight a week before that, in the
// same write as the facts before them; they give the gauges as of any other instant (the
// latest snapshot before it plus the events since: at most a day's for recent instants, a
// week's for old ones) and are where a rollback restarts.
//
// Layout, in the projections column under "facts/":
//   facts/state                          the builder's checkpoint (below): position, tag...
//   facts/p                              the projections' state at the checkpoint, unless it
//                                        is a snapshot's
//   facts/F/<team>\0<hour><chunk>        the facts of one team, hour and chunk
//   facts/G/<team>\0<midnight>           the gauges of one team as of a midnight
//   facts/m/<midnight>                   the gauges of every team at that midnight are recorded
//   facts/c/<chunk>                      a chunk: the day its causes start, the keys it wrote
//   facts/s/<midnight>                   a snapshot of every projection's state
// A chunk is what one write adds (never across a snapshot); its number grows with its causes'
// time. A reader reads through one consistent view (storage::ReadView).
namespace teamhealth::projector {

// One stored observation.
struct StoredFact {
  std::string metric;
  projections::Labels labels;  // without team
  EpochMillis at = 0;
  double value = 0;
  uint64_t sequence = 0;       // the event that caused it
  EpochMillis caused_at = 0;   // that event's time
};

// What the facts were built with: every projection's tag and the person resolution. Facts
// answer a report only when its pipeline has the same.
std::string FactsTag(const projections::Pipeline& pipeline);

// What the fact index holds (`teamhealth inspect facts`): keys and bytes (key + value) of each
// part, the number of facts, and the builder's checkpoint.
struct FactIndexStats {
  uint64_t fact_blobs = 0, fact_bytes = 0, facts = 0;
  uint64_t gauge_blobs = 0, gauge_bytes = 0, gauge_days = 0;
  uint64_t chunks = 0, chunk_bytes = 0;
  uint64_t snapshots = 0, snapshot_bytes = 0;
  uint64_t checkpoint_bytes = 0;
  // The projections' state at the position, bytes per projection (in the pipeline's order):
  // what a report ending after the position loads.
  std::vector<uint64_t> state_bytes;
  uint64_t seen_sequence = 0;    // every event up to it was looked at
  EpochMillis position = 0;      // events before it are facts (0: none yet)
};
Result<FactIndexStats> FactStats(storage::Store& store);

class FactBuilder final {
 public:
  struct Options {
    EpochMillis lag_ms = 10 * 60 * 1000;
    // A write at most this many facts (a memory bound: about 21 bytes each). A chunk cut
    // between snapshots saves the projections' state too, so it is large: a week of a
    // 10,000-person organisation's facts fits.
    uint64_t chunk_facts = 4000000;
    // The wall clock, when the builder serves a live log (the daemon; not `import`): the
    // horizon is then the later of the newest event time and this clock, less the lag, and
    // once every event before the horizon is applied the builder crosses the midnights up to
    // it with no event after them, so a quiet night still records that midnight's gauges
    // (the retro page's default window ends there). An event that then arrives older than
    // such a midnight rolls back, as any late event does.
    std::function<EpochMillis()> clock;
  };
  using PipelineFactory = std::function<std::unique_ptr<projections::Pipeline>()>;

  // Borrows the store and the log, which must outlive it.
  FactBuilder(storage::Store& store, eventlog::EventLog& log, PipelineFactory make_pipeline,
              logging::Logger logger, Options options);
  ~FactBuilder();

  // Loads the checkpoint, or wipes the facts and starts again when none matches the pipeline's
  // definitions and person resolution.
  Status Start();
  // Folds in the events appended since the last step (rolling back if one is older than what
  // was applied) and applies up to `max_events` in event-time order up to the horizon (newest
  // event time - lag, or the clock's time - lag if later). Returns how many were applied.
  Result<uint64_t> Step(uint64_t max_events);
  // Steps until nothing is left to apply, then checkpoints.
  Status CatchUp();
  // Writes what was applied since the last checkpoint (Step() does when CheckpointDue says:
  // at least 5 s and at most a minute apart, fact_index.cc's kFactsCadence).
  Status Checkpoint();

  // Facts written so far and rollbacks since start (for logs and tests).
  uint64_t rollbacks() const { return rollbacks_; }
  EpochMillis position() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint64_t rollbacks_ = 0;
};

// Reads facts for reports and explain.
class FactReader final {
 public:
  // The reader, or the reason facts cannot answer for `pipeline` (whose directory history is
  // preloaded): none built yet, built with other definitions or another person resolution,
  // or an event appended since the last step is older than what the builder applied.
  static Result<std::unique_ptr<FactReader>> Open(storage::Store& store, eventlog::EventLog& log,
                                                  const projections::Pipeline& pipeline,
                                                  std::string& why_not);

  // Every stored fact of `team` with its instant in [from, to) caused by an event before
  // `caused_before` (what a replay up to that instant would have counted), in key order.
  Status ForEachFact(const std::string& team, EpochMillis from, EpochMillis to,
                     EpochMillis caused_before, const std::function<void(const StoredFact&)>& fn);

  // The same facts as increments and observations into `sink`, their team label put back (what
  // a replay up to `caused_before` would have sent it for `team`); `on_fact` sees each first.
  Status Feed(const std::string& team, EpochMillis from, EpochMillis to, EpochMillis caused_before,
              projections::MetricSink& sink,
              const std::function<void(const StoredFact&)>& on_fact = nullptr);
  // The same facts summed by series first: one Add per counter series (its increments summed
  // in the order Feed sends them, so a sink summing them gets the same bits) and each histogram
  // series' observations in a row, all at the series' first instant. For sinks that keep only
  // the window's totals (WindowSink): a year of a large team is millions of facts, and a sink
  // looks each one's series up by name and labels.
  Status FeedTotals(const std::string& team, EpochMillis from, EpochMillis to,
                    EpochMillis caused_before, projections::MetricSink& sink);

  // The gauges of `team` as of `at` into `sink` (Set, team label put back), when `at` is a
  // midnight the builder recorded them at; false otherwise (then StateAt gives them).
  Result<bool> Gauges(const std::string& team, EpochMillis at, projections::MetricSink& sink);

  // Brings `pipeline` (fresh, directory preloaded, same definitions) to its state after every
  // event before `to`. The events it applies that have no facts yet (after the builder's
  // position) send their increments to `tail` and are passed to `hook` first; the others only
  // rebuild state.
  Status StateAt(projections::Pipeline& pipeline, EpochMillis to, projections::MetricSink& tail,
                 const std::function<void(Sequence, const schema::EventView&)>& hook);

  // Instant up to which events are folded into facts.
  EpochMillis position() const { return pos_time_; }

  FactReader(std::unique_ptr<storage::ReadView> view, eventlog::EventLog& log)
      : view_(std::move(view)), log_(log) {}

 private:
  // Every read of the facts, snapshots and checkpoint goes through one consistent view, so a
  // builder writing (or rolling back) meanwhile is not seen half-way.
  std::unique_ptr<storage::ReadView> view_;
  eventlog::EventLog& log_;
  EpochMillis pos_time_ = 0;
  uint64_t pos_seq_ = 0;
  EpochMillis states_snapshot_ = 0;  // where the state at the position is (State in the .cc)
};

}  // namespace teamhealth::projector
