#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

#include "teamhealth/base/result.h"
#include "teamhealth/base/types.h"
#include "teamhealth/eventlog/event_log.h"

namespace teamhealth::eventlog {

// Keeps the log's time and subject indexes following the log, off the ingest hot path: Run()
// calls EventLog::IndexThrough in batches while there is something to index and otherwise
// waits for Wake() or a short poll (a write of the log does not have to know about it).
// Borrows the log, which must outlive it. Run() on one thread (serve names it `indexer`);
// Wake() from any.
class Indexer final {
 public:
  struct Options {
    // Events per write: 50,000 events make about 3 MB of index keys, a write that costs the
    // writer thread (whose memtables they share) little, yet few enough fsyncs to keep up.
    // The compact column's chunks add at most ~8 MB to a write (ChunkWriter::kPassBytes).
    uint64_t batch_events = 50000;
    // How long to wait with nothing to index before looking at LastSequence() again.
    std::chrono::milliseconds poll{20};
    // After a failed write for lack of space: the next attempt (each makes RocksDB try to
    // resume, like the projections' checkpoints).
    std::chrono::seconds no_space_retry{10};
  };

  // `on_indexed` (optional) hears the checkpoint after every write, e.g. for a gauge.
  explicit Indexer(EventLog& log, std::function<void(Sequence)> on_indexed = {})
      : Indexer(log, Options{}, std::move(on_indexed)) {}
  Indexer(EventLog& log, Options options, std::function<void(Sequence)> on_indexed = {})
      : log_(log), options_(options), on_indexed_(std::move(on_indexed)) {}

  // Indexes until `stop` is set (then returns promptly after Wake()). A full disk is waited
  // out (readers stay exact meanwhile, merging a longer tail); any other error is returned.
  Status Run(const std::atomic<bool>& stop);
  // Ends the current wait: new events, or `stop` was set.
  void Wake();

 private:
  // Waits up to `d` unless woken.
  void Wait(std::chrono::milliseconds d);

  EventLog& log_;
  const Options options_;
  const std::function<void(Sequence)> on_indexed_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool woken_ = false;
};

}  // namespace teamhealth::eventlog
