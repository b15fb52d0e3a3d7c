#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "teamhealth/base/result.h"
#include "teamhealth/base/time.h"
#include "teamhealth/eventlog/event_log.h"
#include "teamhealth/logging/logging.h"
#include "teamhealth/projections/accumulator.h"
#include "teamhealth/projections/directory_view.h"
#include "teamhealth/projections/projection.h"
#include "teamhealth/storage/store.h"

namespace teamhealth::projector {

// The projection runtime: tails the event log from the checkpoint and applies every event to
// the directory view and to each projection, accumulating the live metrics. The state of all
// of them and the checkpoint (last applied sequence) are committed in ONE write to the
// projections column, so a restart resumes exactly after the last applied event: nothing is
// counted twice. If the projections' names, versions or definitions (settings) differ from the
// stored ones, the state is discarded and rebuilt from the start of the log.
//
// Borrows the store and the log, which must outlive it. Run() on one thread; Snapshot() and
// lag() from any thread.
class Projector final {
 public:
  Projector(storage::Store& store, eventlog::EventLog& log, projections::DirectoryView directory,
            std::vector<std::unique_ptr<projections::Projection>> projections,
            const projections::Settings& settings, logging::Logger logger);

  // Loads the checkpoint (or decides to rebuild).
  Status Start();
  // Applies the events appended since the checkpoint, up to `max_events`; returns how many.
  Result<uint64_t> Step(uint64_t max_events);
  // Applies until caught up, checkpointing every `checkpoint_events` events (and at the end).
  Status CatchUp(uint64_t checkpoint_events = 100000);
  // Follows the log until `stop`; checkpoints periodically and before returning.
  Status Run(const std::atomic<bool>& stop);
  Status Checkpoint();
  // Handles for the opt-in per-person series (pseudonym -> handle).
  void SetPeopleNames(std::map<std::string, std::string> names);

  // The live metrics as of `now`: accumulated counters and histograms, the gauges computed at
  // `now`, and the privacy suppression applied.
  projections::Accumulator Snapshot(EpochMillis now) const;
  uint64_t applied() const { return applied_.load(std::memory_order_acquire); }
  uint64_t lag() const;
  // True once the projections have caught up with the log after start.
  bool caught_up() const { return caught_up_.load(std::memory_order_acquire); }
  const std::vector<std::unique_ptr<projections::Projection>>& projections() const {
    return projections_;
  }

 private:
  std::string Tag() const;

  storage::Store& store_;
  eventlog::EventLog& log_;
  projections::DirectoryView directory_;
  std::vector<std::unique_ptr<projections::Projection>> projections_;
  projections::Settings settings_;
  logging::Logger logger_;
  projections::Accumulator accumulator_;
  std::map<std::string, std::string> names_;
  std::atomic<uint64_t> applied_{0};
  std::atomic<bool> caught_up_{false};
  uint64_t checkpointed_ = 0;
  // Guards directory_, projections_ and accumulator_ between the runner and Snapshot().
  mutable std::mutex mu_;
};

}  // namespace teamhealth::projector
