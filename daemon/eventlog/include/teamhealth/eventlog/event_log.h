#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "event.pb.h"
#include "event_view.h"
#include "event_wire.h"
#include "teamhealth/base/result.h"
#include "teamhealth/base/time.h"
#include "teamhealth/base/types.h"
#include "teamhealth/eventlog/identities.h"
#include "teamhealth/eventlog/identity_key.h"
#include "teamhealth/storage/store.h"

namespace teamhealth::eventlog {

// The schema version this build writes; older records are upcast in Decode().
inline constexpr uint32_t kSchemaVersion = 1;

// Everything one consumed Kafka batch produces. Appended in ONE atomic write together with
// the dedup keys and the next offset of every partition it covers (docs/design.md section 3).
struct IngestBatch {
  schema::EncodedEvents events;  // in consumption order; `id` and `source` set
  std::vector<schema::QuarantineRecord> quarantined;
  std::map<TopicPartition, KafkaOffset> next_offsets;
  std::map<std::string, uint64_t> ignored_by_source;  // payloads that are not events
};

// Cumulative counts over the whole log; persisted with every batch so they survive
// restarts and can seed Prometheus counters.
struct Counters {
  std::map<std::string, uint64_t> ingested;                             // by source
  std::map<std::string, uint64_t> duplicate;                            // by source
  std::map<std::string, uint64_t> ignored;                              // by source
  std::map<std::pair<std::string, std::string>, uint64_t> quarantined;  // (source, reason)
};

// One person of the people directory as the log records it: everything but the handle and the
// identities is written to `directory.person_upserted` events; those two only as hashes.
struct DirectoryPerson {
  std::string handle;
  std::vector<std::string> identities;  // "<source>:<native id>"
  std::vector<std::string> teams;
  std::string timezone;
  std::vector<std::string> working_days;
  std::string working_hours;
  std::string sleep_hours;
};

// How EventLog::Open treats the identities column (docs/design.md section 6).
struct OpenOptions {
  // The key of the identities column's hashes (`storage.identity_key_file`). With it, a log
  // whose identities are still unkeyed (written before keying) is keyed in place, once, in one
  // atomic write, and a log keyed with another key is refused. Without it, a log written
  // before keying is used unkeyed, and a keyed log can be read but no person can be looked up
  // or added (Append with people, SyncDirectory, NamesOf and Erase fail).
  std::optional<IdentityKey> identity_key;
  // The store was opened read-only: never write (an unkeyed log is then read as it is).
  bool read_only = false;
};

struct AppendOutcome {
  Sequence first;  // first sequence assigned, or none when nothing was appended
  Sequence last;   // last sequence of the log after the append
  Counters delta;  // what this batch added
  // One entry per batch.quarantined record: false when the same record (origin coordinates
  // and content hash) was quarantined before, so it is counted as a duplicate, not again.
  std::vector<bool> quarantine_stored;
};

// The append-only canonical event log over a Store. The Store must outlive it.
// Thread-safety: Append(), SyncDirectory(), Erase() and the counters are for one writer thread;
// IndexThrough() may run on another thread at the same time (calls to it are serialised);
// LastSequence(), IndexedSequence() and the read methods may be called from any thread
// concurrently with both.
//
// The time and subject indexes are built behind the log, not by Append (docs/design.md
// sections 3 and 10): IndexThrough() indexes the events after the checkpoint `indexes/through`
// (meta column) and moves the checkpoint in the same write. Readers merge the indexed part with
// the events after the checkpoint, so they see every event whatever the indexer's lag.
class EventLog final {
 public:
  static Result<std::unique_ptr<EventLog>> Open(storage::Store& store, OpenOptions options = {});

  // Drops events whose id is already in the log (or earlier in the batch), assigns dense
  // sequences to the rest and writes events, dedup keys, quarantine records, identities,
  // offsets and counters atomically: only what exactly-once needs (no index keys; see
  // IndexThrough). On error nothing is written.
  Result<AppendOutcome> Append(IngestBatch& batch);

  // Records the directory as of `now`: appends a `directory.person_upserted` event for every
  // person whose entry changed (or who left: teams become empty) and points each person's
  // identities at the person's pseudonym. Unchanged people append nothing, so calling it at
  // every start and SIGHUP is cheap. Returns how many people changed.
  Result<int> SyncDirectory(const std::vector<DirectoryPerson>& people, EpochMillis now);

  // Forgets a person (docs/design.md section 6): deletes the mappings from the handle and the given
  // identities to the person's pseudonym, appends `directory.person_erased`, then flushes and
  // compacts so the mappings are physically gone. Past events keep only the pseudonym.
  // Returns false if the handle was unknown.
  Result<bool> Erase(std::string_view handle, const std::vector<std::string>& identities,
                     EpochMillis now);

  // Pseudonym -> handle for the given directory people (their handle's pseudonym and those of
  // their identities), for the opt-in per-person series. Only ever held in memory.
  Result<std::map<std::string, std::string>> NamesOf(const std::vector<DirectoryPerson>& people);

  // How many identity mappings Open() keyed in place (a log written before keying); 0 when
  // there was nothing to key.
  uint64_t identities_keyed_at_open() const { return identities_keyed_at_open_; }

  Sequence LastSequence() const { return Sequence(last_seq_.load(std::memory_order_acquire)); }

  // Indexes (time and subject) up to `max_events` events after their checkpoint, and writes
  // the compact column's complete chunks (compact.h) for up to max(`max_events`, a chunk's)
  // events after its own, in sequence order, and moves each checkpoint past what it wrote, all
  // in ONE write: a crash leaves the indexes and the column exactly at their checkpoints.
  // Events are immutable, so indexing again is harmless. Returns how far the further of the
  // two moved (0: the indexes are caught up with LastSequence() and the column lacks no
  // complete chunk).
  Result<uint64_t> IndexThrough(uint64_t max_events);
  // IndexThrough() until the indexes are caught up with LastSequence() as of the call, and
  // `with_column`, until the compact column holds every complete chunk too (it leaves the
  // events of an incomplete last chunk, fewer than kCompactChunkRecords, to later passes).
  Result<uint64_t> IndexAll(uint64_t batch_events = 50000, bool with_column = true);
  // The last sequence covered by the time and subject indexes (their checkpoint).
  Sequence IndexedSequence() const {
    return Sequence(indexed_through_.load(std::memory_order_acquire));
  }
  // The last sequence the compact column holds (its checkpoint): 0 for a log written before
  // the column existed, until the indexer has caught up with it.
  Sequence CompactSequence() const {
    return Sequence(compact_through_.load(std::memory_order_acquire));
  }
  // The newest occurred_at of the log (the time index's last key or a newer event not indexed
  // yet); std::numeric_limits<EpochMillis>::min() for an empty log.
  Result<EpochMillis> NewestEventTime();
  uint64_t QuarantineCount() const { return last_quarantine_; }
  const Counters& counters() const { return counters_; }

  Result<std::optional<Sequence>> LookupDedup(std::string_view id);
  Result<std::optional<schema::Event>> Read(Sequence seq);
  // Calls `fn` for each event with sequence >= from, in order, until it returns false.
  Status ForEach(Sequence from, const std::function<bool(Sequence, const schema::Event&)>& fn);
  // The same with each event as a view (no message is built), valid during the call; `fn` may
  // rewrite its references (the pipeline resolves them). What replays use. The events up to
  // CompactSequence() are read from the compact column (compact.h), the rest from their stored
  // records (DecodeView), through one snapshot: the same views either way.
  Status ForEachView(Sequence from,
                     const std::function<bool(Sequence, schema::EventView&)>& fn);
  // Calls `fn` for each event with occurred_at < `before`, in event-time order (ties in log
  // order), through the time index merged with the events not indexed yet, until it returns
  // false. Reads one snapshot of the store: events appended during the call are not seen.
  Status ForEachByTime(EpochMillis before,
                       const std::function<bool(Sequence, const schema::Event&)>& fn);
  // The same from a position: events after (`after_time`, `after_seq`) in (occurred_at,
  // sequence) order, i.e. occurred_at > after_time, or == after_time with a greater sequence.
  Status ForEachByTime(EpochMillis after_time, Sequence after_seq, EpochMillis before,
                       const std::function<bool(Sequence, const schema::Event&)>& fn);
  // ForEachByTime with views of the stored records, as ForEachView.
  Status ForEachViewByTime(EpochMillis before,
                           const std::function<bool(Sequence, schema::EventView&)>& fn);
  Status ForEachViewByTime(EpochMillis after_time, Sequence after_seq, EpochMillis before,
                           const std::function<bool(Sequence, schema::EventView&)>& fn);
  // Calls `fn` for each event whose subject is of `kind` (e.g. "person": the directory's
  // history), in the subject index's order (subject id, then sequence), through the subject
  // index merged with the events not indexed yet, until it returns false.
  Status ForEachOfSubjectKind(std::string_view kind,
                              const std::function<bool(Sequence, const schema::Event&)>& fn);
  // The store under the log (readers of what is stored beside it, e.g. the metric facts).
  storage::Store& store() const { return store_; }
  Status ForEachQuarantined(
      const std::function<bool(uint64_t, const schema::QuarantineRecord&)>& fn);
  Result<std::map<TopicPartition, KafkaOffset>> Offsets();

 private:
  // The merged time-index scan behind ForEachByTime and ForEachViewByTime: each stored record
  // in (occurred_at, sequence) order to `fn`, which sets `more` to false to stop.
  Status ScanByTime(EpochMillis after_time, Sequence after_seq, EpochMillis before,
                    const std::function<Status(Sequence, std::string_view, bool& more)>& fn);
  explicit EventLog(storage::Store& store) : store_(store), identities_(store) {}
  Status Load();
  // Chooses the identities' hashing and keys a log written before keying (identity_keying.cc).
  Status OpenIdentities(OpenOptions options);
  Status KeyIdentitiesInPlace(const IdentityKey& key, const std::string& check);
  // Points the actor and person attributes of `e` at pseudonyms, which `names` holds.
  Status Pseudonymize(schema::EventView& e, std::vector<std::string>& names,
                      storage::WriteBatch& wb);
  // Writes `e` at `seq` with its dedup key (no index keys).
  void PutEvent(const schema::Event& e, uint64_t seq, storage::WriteBatch& wb,
                std::string& scratch);
  // Writes `e` (and `origin`) at `seq` without its dedup key, encoded into `scratch`; returns
  // the sequence key the dedup key maps to.
  std::string PutRecord(schema::EventView& e, const schema::OriginView& origin, uint64_t seq,
                        storage::WriteBatch& wb, std::string& scratch);
  // Reads the index checkpoint at open (indexes.cc); see checkpoint_to_store_.
  Status LoadIndexCheckpoint();
  // Reads the compact column's checkpoint at open (indexes.cc); see compact_purge_.
  Status LoadCompactCheckpoint();
  // ForEachView's part in the compact column: events `next`..`through` from its chunks in
  // `view`, moving `next` past each passed to `fn`; `more` false once `fn` returned false.
  Status ReadCompact(storage::ReadView& view, uint64_t& next, uint64_t through,
                     schema::EventView& e,
                     const std::function<bool(Sequence, schema::EventView&)>& fn, bool& more);
  // Adds the index checkpoint to a write that appends events, while it is not stored yet, and
  // notes it stored once that write succeeded (writer thread).
  void StageIndexCheckpoint(storage::WriteBatch& wb) const;
  void IndexCheckpointStored() {
    checkpoint_to_store_.reset();
    compact_reset_to_store_.store(false, std::memory_order_release);
  }
  Status WriteWithIdentities(storage::WriteBatch& wb);
  // The counters after `delta`, with their new values written into `wb`.
  Counters MergeCounters(const Counters& delta, storage::WriteBatch& wb) const;

  storage::Store& store_;
  Identities identities_;
  std::atomic<uint64_t> last_seq_{0};
  // The indexes' checkpoint: every event up to it has its index keys.
  std::atomic<uint64_t> indexed_through_{0};
  // A checkpoint that the store does not hold yet (writer thread only): 0 for a new log, and
  // for a log written before the indexes moved off the hot path (every event indexed in its
  // own write, no checkpoint key) its last sequence at open. It travels with the next write
  // of events, so a log with events always has its checkpoint key and Open never writes.
  std::optional<uint64_t> checkpoint_to_store_;
  // The compact column's checkpoint: every event up to it is in a chunk. Readers use no chunk
  // past it, and read it before their snapshot, so what it covers is in what they read.
  std::atomic<uint64_t> compact_through_{0};
  // The column must be written again from the start (IndexThrough, under index_mu_): its
  // stored checkpoint had another format, or was past the log's end (a state directory put
  // back from an older copy). The first pass deletes every chunk in its write.
  bool compact_purge_ = false;
  // That verdict, not stored yet: the next write of events stores a checkpoint of no format
  // with them (StageIndexCheckpoint), unless the purge's own write came first.
  std::atomic<bool> compact_reset_to_store_{false};
  std::mutex index_mu_;  // one IndexThrough at a time
  uint64_t last_quarantine_ = 0;
  Counters counters_;
  uint64_t identities_keyed_at_open_ = 0;
};

// Upcasts a stored record to the current schema version. Returns an error for a record
// written by a newer build, which this one cannot interpret.
Status Decode(std::string_view bytes, schema::Event& out);
// The same record as a view into `bytes` (docs/design.md section 10: projections read a
// compact fixed-layout view), without building a message: what replays feed the projections.
// Every record Decode() accepts, it accepts, with the decoded event's fields. The origin is
// read only into `origin` when one is given (the log's writer re-encodes the event with it);
// otherwise it is skipped, so bad UTF-8 in origin.topic is not refused here as protobuf
// refuses it.
Status DecodeView(std::string_view bytes, schema::EventView& out,
                  schema::OriginView* origin = nullptr);

}  // namespace teamhealth::eventlog
