#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "teamhealth/base/result.h"
#include "teamhealth/base/time.h"
#include "teamhealth/eventlog/event_log.h"
#include "teamhealth/logging/logging.h"
#include "teamhealth/projections/accumulator.h"
#include "teamhealth/projections/pipeline.h"
#include "teamhealth/projector/fact_index.h"
#include "teamhealth/storage/store.h"

namespace teamhealth::projector {

// Preloads the log's whole directory history (directory.* events, through the subject index)
// into `pipeline`: what every replay of the log does before its first event.
Status PreloadDirectory(eventlog::EventLog& log, projections::Pipeline& pipeline);

// The metrics as exported at `now` (what /metrics shows and backfill writes): `counters`
// (counters and histograms accumulated so far) plus every projection's gauges at `now`, with
// privacy applied: small teams' sensitive series held back, per-person series named by
// handle (`handle_of_ref`: identity or pseudonym -> handle) when privacy.person_metrics is on.
projections::Accumulator ExportedMetrics(projections::Accumulator counters,
                                         const projections::Pipeline& pipeline, EpochMillis now,
                                         const std::map<std::string, std::string>& handle_of_ref);

// When a runner writes its next checkpoint (Projector::Run, and the metric facts' builder). A
// checkpoint saves the whole state: 17 MB and ~0.1 s after 5 M events of 1,000 people, tens
// of MB at 10,000. Two costs are weighed: the checkpoints' share of the runner's work, and the
// work a crash makes it do again (applying everything since the last checkpoint). So, with
// progress unwritten, a checkpoint is due
// - once the work since the last one (`busy`: time spent applying events) reaches `share`
//   times what the last checkpoint took (`last_cost`), or a minute of it (one slow write must
//   not put off the next for long): catching up spends at most about 1/`share` of its time
//   saving state;
// - or once `max_age` has passed since the last one: events that trickle in cost little to
//   apply again, so they no longer save the whole state every few seconds (at 20 events/s
//   after 300,000, the daemon wrote ~300 MB a minute, most of it these states: issue 13);
// but never sooner than `min_gap` after the last one, and every 10 s while the disk is full
// (each attempt makes RocksDB try to resume), whatever they cost.
struct CheckpointCadence {
  std::chrono::steady_clock::duration min_gap;
  std::chrono::steady_clock::duration max_age;
  int share;
};
// Projector::Run's: at least 2 s apart, at most 5 minutes, a tenth of the work.
inline constexpr CheckpointCadence kProjectorCadence{std::chrono::seconds(2),
                                                     std::chrono::minutes(5), 10};
bool CheckpointDue(const CheckpointCadence& cadence, std::chrono::steady_clock::duration since,
                   std::chrono::steady_clock::duration busy,
                   std::chrono::steady_clock::duration last_cost, bool disk_full);

// The projection runtime: tails the event log from the checkpoint and drives every event
// through the projection pipeline (the only way events reach projections), accumulating the
// live metrics, one accumulator per projection. The state of every projection, its metrics
// and the person resolution are committed with the checkpoint (last applied sequence) in ONE
// write to the projections column, so a restart resumes exactly after the last applied event:
// nothing is counted twice.
//
// Rebuilds, always from the start of the log with the whole directory history preloaded (so
// that they equal a report over the log):
// - a projection whose tag (name, version, the definitions it depends on) differs from the
//   stored one rebuilds alone; the others resume from their checkpoint;
// - every projection rebuilds when the person resolution differs from the stored one, or when
//   a directory event appended while running re-resolves a reference (an identity the
//   directory lists only now, whose history was counted under another key).
//
// Borrows the store and the log, which must outlive it. Run() on one thread; Snapshot(),
// applied(), lag() and caught_up() from any thread.
class Projector final {
 public:
  // Builds a fresh pipeline (directory view, definitions, projections); called at start and
  // for every full rebuild.
  using PipelineFactory = std::function<std::unique_ptr<projections::Pipeline>()>;

  Projector(storage::Store& store, eventlog::EventLog& log, PipelineFactory make_pipeline,
            logging::Logger logger);
  ~Projector();

  // Also builds the metric facts (fact_index.h) in Run(), whenever the projections are caught
  // up and `gate` (if set) allows it: the daemon holds them back while ingest catches up with a
  // backlog, whose events arrive far out of event-time order. Call before Start().
  void EnableFacts(FactBuilder::Options options, std::function<bool()> gate);

  // Preloads the directory history, loads the checkpoint and rebuilds what must be rebuilt.
  Status Start();
  // Applies the events appended since the checkpoint, up to `max_events`; returns how many.
  Result<uint64_t> Step(uint64_t max_events);
  // Applies until caught up, checkpointing every `checkpoint_events` events (and at the end).
  Status CatchUp(uint64_t checkpoint_events = 100000);
  // Follows the log until `stop`; checkpoints as CheckpointDue(kProjectorCadence) says, and before
  // returning. A checkpoint that fails for lack of space is not an error: the projections go
  // on in memory, the checkpoint is retried (checkpoint_full() says why it waits), and a final
  // one that cannot be written is skipped with a warning (the next start resumes from the last
  // one).
  Status Run(const std::atomic<bool>& stop);
  // Saves the state as of applied(). On the thread that runs Start(), Step() and Run() only:
  // it reads the state under a shared lock, so it excludes them but not another Checkpoint().
  Status Checkpoint();
  // Handles for the opt-in per-person series: any reference (identity or pseudonym) ->
  // handle; resolved to person keys by the pipeline.
  void SetPeopleNames(std::map<std::string, std::string> handle_of_ref);
  std::map<std::string, std::string> PeopleNames() const;

  // The live metrics as of `now`: accumulated counters and histograms, the gauges computed at
  // `now`, and the privacy suppression applied.
  projections::Accumulator Snapshot(EpochMillis now) const;
  uint64_t applied() const { return applied_.load(std::memory_order_acquire); }
  uint64_t lag() const;
  // True once the projections have caught up with the log after start.
  bool caught_up() const { return caught_up_.load(std::memory_order_acquire); }
  // While checkpoints fail because the state directory's filesystem is full: the last error.
  std::optional<std::string> checkpoint_full() const;
  // Names of the projections, in pipeline order.
  std::vector<std::string> names() const;
  // Names of the projections the last Start() or full rebuild replayed from the start of the
  // log (empty when everything resumed from the checkpoint).
  std::vector<std::string> rebuilt() const;
  // Bytes of each projection's saved state (benchmarks: memory is O(people + open items)).
  std::vector<std::pair<std::string, size_t>> StateSizes() const;

 private:
  // Replays sequences [1, to] into `pipeline`; projection i into sinks[i] (null: skipped).
  Status Replay(projections::Pipeline& pipeline,
                const std::vector<projections::MetricSink*>& sinks, uint64_t to);
  // Rebuilds every projection into a new pipeline up to the applied sequence, then swaps.
  Status RebuildAll(const std::string& reason);
  // Checkpoint(), except that a full disk is recorded (checkpoint_full()) and logged once
  // instead of returned: the checkpoint stays pending.
  Status CheckpointUnlessFull();
  // One turn of the metric facts in Run(): how many events they applied. A full disk pauses
  // them instead of failing: the builder is dropped (its in-memory progress was not written)
  // and started again from its stored checkpoint after a pause, as at a restart.
  Result<uint64_t> StepFactsUnlessFull();
  // Starts the facts' builder; a full disk pauses them (facts_started_ stays false).
  Status StartFactsUnlessFull();
  // Logs the pause (once), drops the builder and sets when to try again.
  void PauseFactsForSpace(const Error& error);

  storage::Store& store_;
  eventlog::EventLog& log_;
  PipelineFactory make_pipeline_;
  logging::Logger logger_;
  std::unique_ptr<projections::Pipeline> pipeline_;
  std::vector<projections::Accumulator> accumulators_;  // one per projection
  std::unique_ptr<FactBuilder> facts_;                  // used by the runner thread only
  FactBuilder::Options facts_options_;
  std::function<bool()> facts_gate_;
  // Runner thread only: the facts paused by a full disk since, and when to try again.
  std::optional<std::chrono::steady_clock::time_point> facts_full_since_;
  std::chrono::steady_clock::time_point facts_retry_at_;
  bool facts_started_ = false;
  std::map<std::string, std::string> handle_of_ref_;
  std::vector<std::string> rebuilt_;
  std::atomic<uint64_t> applied_{0};
  std::atomic<bool> caught_up_{false};
  uint64_t checkpointed_ = 0;
  std::optional<std::string> checkpoint_full_;
  std::chrono::steady_clock::time_point full_since_;
  // Guards pipeline_, accumulators_, handle_of_ref_, rebuilt_ and checkpoint_full_ between
  // the runner and the readers: held exclusively to change them, shared to read them. A
  // checkpoint only reads, so /metrics is served while one is serialised (~0.1-0.3 s at
  // 1,000 people), waiting only for the step being applied.
  mutable std::shared_mutex mu_;
  // Snapshot() takes this first, so one exports gauges at a time: that updates the
  // directory's zone caches (ZoneClock), which are not thread-safe. The other readers and a
  // checkpoint's serialisation touch none.
  mutable std::mutex readers_mu_;
};

}  // namespace teamhealth::projector
