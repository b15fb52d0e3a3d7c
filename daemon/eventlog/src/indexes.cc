// The time and subject indexes, built behind the log (docs/design.md sections 3 and 10).
//
// Append writes only what exactly-once needs. IndexThrough() reads the events after the
// checkpoint (meta `indexes/through`) in sequence order and writes their index keys and the
// new checkpoint in one write, so the indexes are always exactly "every event up to the
// checkpoint": never ahead of the log, never with a gap. Readers take one snapshot, read the
// checkpoint and the index through it, and merge in the events after the checkpoint (the
// tail), sorted in memory by the key the index would give them: the result is the same
// whatever the indexer's lag. Neither the indexer nor the tail parses events for the indexes:
// the index fields are read from the records' bytes (ReadIndexFields). The same pass writes
// the compact column (compact.h) behind its own checkpoint (meta `compact/through`), for which
// it decodes each event (DecodeView) into a flat record; only whole chunks are written.
#include <algorithm>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "teamhealth/eventlog/compact.h"
#include "teamhealth/eventlog/event_log.h"
#include "teamhealth/eventlog/index_fields.h"
#include "teamhealth/eventlog/keys.h"

namespace teamhealth::eventlog {
namespace {

using storage::Column;
using EventFn = std::function<bool(Sequence, const schema::Event&)>;
using ViewFn = std::function<bool(Sequence, schema::EventView&)>;
// A stored record and its sequence: the scans' one callback, decoded by their callers'
// adapters (Decode into a message, or DecodeView).
using RecordFn = std::function<Status(Sequence, std::string_view, bool& more)>;

RecordFn Decoding(const EventFn& fn, schema::Event& e) {
  return [&fn, &e](Sequence seq, std::string_view record, bool& more) {
    if (auto s = Decode(record, e); !s) return s;
    more = fn(seq, e);
    return Status::Ok();
  };
}

RecordFn Viewing(const ViewFn& fn, schema::EventView& e) {
  return [&fn, &e](Sequence seq, std::string_view record, bool& more) {
    if (auto s = DecodeView(record, e); !s) return s;
    more = fn(seq, e);
    return Status::Ok();
  };
}

// A checkpoint that covers every event of a snapshot.
constexpr uint64_t kEverything = std::numeric_limits<uint64_t>::max();

// Readers fetch the events of the index in runs, one MultiGet each. The first run is short, so
// a reader that stops after a few events (a facts step, a limit) reads few more than it needs;
// each run doubles up to the longest.
constexpr size_t kFirstRun = 32;
constexpr size_t kLongestRun = 1024;

std::string U64Value(uint64_t v) {
  std::string s;
  keys::AppendU64(s, v);
  return s;
}

// Both index keys end with the sequence.
std::optional<uint64_t> SequenceOfIndexKey(std::string_view key) {
  if (key.size() < 9) return std::nullopt;
  return keys::ReadU64(key.substr(key.size() - 8));
}

// The checkpoint as `view` holds it. Absent, no event has been written since the indexes left
// the hot path (the first write of events stores the checkpoint, see checkpoint_to_store_):
// the log is empty, or all its events were indexed in their own writes. Either way the index
// covers every event of the view.
Result<uint64_t> CheckpointIn(storage::ReadView& view) {
  auto v = view.Get(Column::kMeta, keys::kIndexedThroughKey);
  if (!v) return v.error();
  if (!*v) return kEverything;
  auto n = keys::ReadU64(**v);
  if (!n) return Error("corrupt index checkpoint");
  return *n;
}

// Calls `fn` with the index fields of each event of `view` after `checkpoint`, in sequence
// order (the fields view the record, valid during the call).
Status ForEachAfter(storage::ReadView& view, uint64_t checkpoint,
                    const std::function<void(Sequence, const IndexFields&)>& fn) {
  if (checkpoint == kEverything) return Status::Ok();
  auto it = view.NewIterator(Column::kLog);
  IndexFields f;
  for (it->Seek(keys::SequenceKey(Sequence(checkpoint + 1))); it->Valid(); it->Next()) {
    if (auto s = ReadIndexFields(it->value(), f); !s) return s;
    fn(Sequence(keys::ReadU64(it->key()).value_or(0)), f);
  }
  return it->status();
}

// The index keys the events after `checkpoint` would have (`key_of`: none to leave an event
// out), sorted: the part of an index not written yet.
Result<std::vector<std::string>> TailKeys(
    storage::ReadView& view, uint64_t checkpoint,
    const std::function<std::optional<std::string>(Sequence, const IndexFields&)>& key_of) {
  std::vector<std::string> out;
  auto s = ForEachAfter(view, checkpoint, [&](Sequence seq, const IndexFields& f) {
    if (auto k = key_of(seq, f)) out.push_back(std::move(*k));
  });
  if (!s) return s.error();
  std::sort(out.begin(), out.end());
  return out;
}

// Calls `fn` for every event whose index key is in [start, end of range) in key order: the
// index keys the checkpoint covers merged with `tail` (sorted, all in range). An index key of
// a later sequence is skipped: its event is in the tail (such a key is only there if a build
// without the checkpoint, i.e. an older one, indexed on its hot path after this one ran).
// The events are fetched in runs (NextRun), one MultiGet per run through `view`.
class MergedScan {
 public:
  MergedScan(storage::ReadView& view, uint64_t checkpoint, const std::string& start,
             std::function<bool(std::string_view)> in_range, const std::vector<std::string>& tail)
      : view_(view),
        checkpoint_(checkpoint),
        in_range_(std::move(in_range)),
        tail_(tail),
        it_(view.NewIterator(Column::kIndexes)) {
    it_->Seek(start);
  }

  Status Run(const RecordFn& fn) {
    std::vector<uint64_t> seqs;
    std::vector<std::string> log_keys;
    for (size_t run = kFirstRun;; run = std::min(2 * run, kLongestRun)) {
      if (auto s = NextRun(run, seqs); !s) return s;
      if (seqs.empty()) break;
      log_keys.clear();
      for (const uint64_t seq : seqs) log_keys.push_back(keys::SequenceKey(Sequence(seq)));
      auto records = view_.MultiGet(Column::kLog, log_keys);
      if (!records) return records.error();
      for (size_t i = 0; i < seqs.size(); ++i) {
        const auto& record = (*records)[i];
        if (!record) return Error("index points at a missing event " + std::to_string(seqs[i]));
        bool more = true;
        if (auto s = fn(Sequence(seqs[i]), *record, more); !s) return s;
        if (!more) return Status::Ok();
      }
    }
    return it_->status();
  }

 private:
  // The sequences of the next (up to) `max` events in key order; none at the end.
  Status NextRun(size_t max, std::vector<uint64_t>& seqs) {
    seqs.clear();
    while (seqs.size() < max) {
      std::optional<uint64_t> indexed;
      for (; it_->Valid() && in_range_(it_->key()); it_->Next()) {
        indexed = SequenceOfIndexKey(it_->key());
        if (!indexed) return Error("corrupt index key");
        if (*indexed <= checkpoint_) break;
        indexed.reset();
      }
      const bool from_tail =
          t_ < tail_.size() && (!indexed || std::string_view(tail_[t_]) < it_->key());
      if (!indexed && !from_tail) break;
      if (from_tail) {
        seqs.push_back(*SequenceOfIndexKey(tail_[t_]));
        ++t_;
      } else {
        seqs.push_back(*indexed);
        it_->Next();
      }
    }
    return Status::Ok();
  }

  storage::ReadView& view_;
  const uint64_t checkpoint_;
  const std::function<bool(std::string_view)> in_range_;
  const std::vector<std::string>& tail_;
  std::unique_ptr<storage::Iterator> it_;
  size_t t_ = 0;  // the next key of tail_
};

}  // namespace

Status EventLog::LoadIndexCheckpoint() {
  const uint64_t last = last_seq_.load(std::memory_order_relaxed);
  auto v = store_.Get(Column::kMeta, keys::kIndexedThroughKey);
  if (!v) return v.error();
  if (!*v) {
    // No checkpoint: a new log (0), or a log written before the indexes left the hot path,
    // whose every event was indexed in the write that appended it (its last sequence). The
    // next write of events stores it; until then readers treat a missing key the same way.
    indexed_through_.store(last, std::memory_order_release);
    checkpoint_to_store_ = last;
    return Status::Ok();
  }
  auto through = keys::ReadU64(**v);
  if (!through) return Error("corrupt index checkpoint");
  if (*through > last) {
    // Never written so (the checkpoint moves in a write after its events'), but the next
    // appended events must not count as indexed: store the log's end with them.
    indexed_through_.store(last, std::memory_order_release);
    checkpoint_to_store_ = last;
    return Status::Ok();
  }
  indexed_through_.store(*through, std::memory_order_release);
  return Status::Ok();
}

Status EventLog::LoadCompactCheckpoint() {
  auto v = store_.Get(Column::kMeta, keys::kCompactThroughKey);
  if (!v) return v.error();
  compact_through_.store(0, std::memory_order_release);
  compact_purge_ = false;
  compact_reset_to_store_.store(false, std::memory_order_release);
  if (!*v) return Status::Ok();  // never written: no chunk either (they go with it)
  const auto through = keys::ReadU64(**v);
  const bool same_format = (*v)->size() == 9 && static_cast<uint8_t>((**v)[8]) == kCompactFormat;
  if (!through || !same_format || *through > last_seq_.load(std::memory_order_acquire)) {
    // Chunks of another format, or of events this log no longer has: none is read, and the
    // column is written again from the start, its first pass deleting them. Open never writes,
    // so the next write of events stores the verdict (a checkpoint of no format) with them: a
    // log that grew past the stale checkpoint before that pass must not trust it at its next
    // open.
    compact_purge_ = true;
    compact_reset_to_store_.store(true, std::memory_order_release);
    return Status::Ok();
  }
  compact_through_.store(*through, std::memory_order_release);
  return Status::Ok();
}

namespace {

// Format byte of a checkpoint that says "the column must be written again": no format has it.
constexpr char kCompactPurgePending = 0;
static_assert(kCompactFormat != 0);

// The compact column's part of one pass: chunks of consecutive records, of which only the
// complete ones (kCompactChunkRecords records, or past kCompactChunkBytes) are written, so that
// a column that follows a trickle of events is not a chunk per event. The events of the last,
// incomplete chunk stay for a later pass (replays read them from the log meanwhile).
class ChunkWriter {
 public:
  // Stops taking records at the first chunk boundary past this many bytes: a pass's write
  // stays a few MB, like its index keys.
  static constexpr size_t kPassBytes = 8 << 20;

  bool full() const { return complete_bytes_ >= kPassBytes; }

  void Add(Sequence seq, const schema::EventView& e) {
    if (open_.empty()) {
      open_first_ = seq;
      open_.reserve(kCompactChunkBytes + 4096);  // grown once, not doubling up to its size
    }
    AppendCompact(seq, e, open_);
    if (++open_records_ == kCompactChunkRecords || open_.size() >= kCompactChunkBytes) {
      complete_bytes_ += open_.size();
      complete_.emplace_back(keys::CompactChunkKey(open_first_), std::move(open_));
      open_.clear();
      open_records_ = 0;
      through_ = seq;
    }
  }
  // The last sequence the complete chunks hold (none: nullopt).
  std::optional<Sequence> through() const { return through_; }
  void Stage(storage::WriteBatch& wb) const {
    for (const auto& [key, chunk] : complete_) wb.Put(Column::kIndexes, key, chunk);
  }

 private:
  std::vector<std::pair<std::string, std::string>> complete_;
  size_t complete_bytes_ = 0;
  std::optional<Sequence> through_;
  std::string open_;
  Sequence open_first_;
  size_t open_records_ = 0;
};

std::string CompactCheckpointValue(uint64_t through, char format = kCompactFormat) {
  std::string v = U64Value(through);
  v.push_back(format);
  return v;
}

// Deletes every chunk of the column (in `wb`).
Status StageChunkPurge(storage::Store& store, storage::WriteBatch& wb) {
  auto it = store.NewIterator(Column::kIndexes);
  for (it->Seek(std::string(1, keys::kCompactChunk));
       it->Valid() && it->key().starts_with(keys::kCompactChunk); it->Next()) {
    wb.Delete(Column::kIndexes, it->key());
  }
  return it->status();
}

}  // namespace

void EventLog::StageIndexCheckpoint(storage::WriteBatch& wb) const {
  if (checkpoint_to_store_) {
    wb.Put(Column::kMeta, keys::kIndexedThroughKey, U64Value(*checkpoint_to_store_));
  }
  if (compact_reset_to_store_.load(std::memory_order_acquire)) {
    // (Should the purge's own write come first, this one makes the next open purge again:
    // wasted work, never a stale chunk read.)
    wb.Put(Column::kMeta, keys::kCompactThroughKey, CompactCheckpointValue(0, kCompactPurgePending));
  }
}

Result<uint64_t> EventLog::IndexThrough(uint64_t max_events) {
  std::lock_guard lock(index_mu_);
  // The indexes and the compact column keep their own checkpoints (a log written before the
  // column has its indexes and no column): one pass reads from the earlier and writes each
  // what it lacks.
  const uint64_t index_from = indexed_through_.load(std::memory_order_acquire) + 1;
  const uint64_t compact_from = compact_through_.load(std::memory_order_acquire) + 1;
  const uint64_t last = last_seq_.load(std::memory_order_acquire);
  // (No overflow for any max_events: distances to the end are compared, not summed.)
  auto end_of = [last](uint64_t from, uint64_t n) {
    if (from > last) return from - 1;  // nothing to do
    return n >= last - (from - 1) ? last : from - 1 + n;
  };
  const uint64_t index_through = max_events == 0 ? index_from - 1 : end_of(index_from, max_events);
  // The column needs a whole chunk's events to write anything.
  const uint64_t compact_end =
      max_events == 0 ? compact_from - 1
                      : end_of(compact_from, std::max<uint64_t>(max_events, kCompactChunkRecords));
  const bool index_work = index_through >= index_from;
  // Not before a whole chunk's events are there (a daemon's indexer passes every few
  // milliseconds: each would decode the same waiting events again).
  const bool compact_work =
      compact_end >= compact_from && last - (compact_from - 1) >= kCompactChunkRecords;
  if (!index_work && !compact_work && !compact_purge_) return uint64_t{0};

  // The keys go in sorted: each then lands next to the one before in the memtable's skip
  // list, whose insert starts from where the last one ended. In log order (times and subjects
  // at random) every insert searched from the top: ~70 % of the indexer's CPU.
  // The time keys as (time, sequence), sorted as numbers: their bytes sort the same way (the
  // time's sign bit flipped, both big-endian), and sorting strings was ~30 % of a pass.
  // The subject keys one after the other in one buffer, sorted as views into it (moving 16-byte
  // views, not strings).
  std::vector<std::pair<int64_t, uint64_t>> time_keys;
  std::string subject_bytes;
  std::vector<std::pair<size_t, size_t>> subject_keys;  // offset and size in subject_bytes
  if (index_work) {
    time_keys.reserve(index_through - index_from + 1);
    subject_keys.reserve(index_through - index_from + 1);
  }
  ChunkWriter chunks;
  const uint64_t from = std::min(index_work ? index_from : last + 1,
                                 compact_work ? compact_from : last + 1);
  const uint64_t through = std::max(index_work ? index_through : 0, compact_work ? compact_end : 0);
  auto it = store_.NewIterator(Column::kLog);
  IndexFields f;
  schema::EventView view;
  uint64_t expected = from;
  for (it->Seek(keys::SequenceKey(Sequence(from))); it->Valid() && expected <= through;
       it->Next()) {
    const auto seq = keys::ReadU64(it->key());
    if (!seq || *seq != expected) break;
    const bool to_index = index_work && expected >= index_from && expected <= index_through;
    const bool to_compact = compact_work && expected >= compact_from && !chunks.full();
    if (!to_index && !to_compact) {
      const bool index_done = !index_work || expected > index_through;
      const bool compact_done = !compact_work || chunks.full();
      if (index_done && compact_done) break;
      ++expected;  // between the two ranges: read past
      continue;
    }
    if (to_compact) {
      if (auto s = DecodeView(it->value(), view); !s) {
        return Error("cannot index event " + std::to_string(expected) +
                     " into the compact column: " + s.error().message());
      }
      chunks.Add(Sequence(expected), view);
    }
    if (to_index) {
      if (to_compact) {
        // The view has the index fields already (DecodeView gives what Decode gives).
        f.occurred_at_ms = view.occurred_at_ms();
        f.subject_kind = view.subject().kind();
        f.subject_id = view.subject().id();
      } else if (auto s = ReadIndexFields(it->value(), f); !s) {
        return Error("cannot index event " + std::to_string(expected) + ": " +
                     s.error().message());
      }
      time_keys.emplace_back(f.occurred_at_ms, expected);
      if (!f.subject_id.empty()) {
        const size_t at = subject_bytes.size();
        keys::AppendSubjectIndexKey(subject_bytes, f.subject_kind, f.subject_id,
                                    Sequence(expected));
        subject_keys.emplace_back(at, subject_bytes.size() - at);
      }
    }
    ++expected;
  }
  if (auto s = it->status(); !s) return s.error();
  if (index_work && expected <= index_through) {
    return Error("cannot index the log: event " + std::to_string(expected) + " is missing");
  }
  const uint64_t compacted =
      chunks.through() ? chunks.through()->value() : compact_from - 1;
  if (!std::is_sorted(time_keys.begin(), time_keys.end())) {
    std::sort(time_keys.begin(), time_keys.end());  // mostly in order already: events arrive so
  }
  std::vector<std::string_view> sorted_subject_keys;
  sorted_subject_keys.reserve(subject_keys.size());
  for (const auto& [at, size] : subject_keys) {
    sorted_subject_keys.emplace_back(subject_bytes.data() + at, size);
  }
  std::sort(sorted_subject_keys.begin(), sorted_subject_keys.end());
  storage::WriteBatch wb;
  if (compact_purge_) {
    if (auto s = StageChunkPurge(store_, wb); !s) return s.error();
  }
  for (const auto& [time, seq] : time_keys) {
    wb.Put(Column::kIndexes, keys::TimeIndexKey(time, Sequence(seq)), {});
  }
  for (const std::string_view key : sorted_subject_keys) wb.Put(Column::kIndexes, key, {});
  chunks.Stage(wb);
  if (index_work) wb.Put(Column::kMeta, keys::kIndexedThroughKey, U64Value(index_through));
  if (compacted >= compact_from || compact_purge_) {
    wb.Put(Column::kMeta, keys::kCompactThroughKey, CompactCheckpointValue(compacted));
  }
  if (wb.Count() == 0) return uint64_t{0};
  if (auto s = store_.Write(wb); !s) return s.error();
  if (compact_purge_) compact_reset_to_store_.store(false, std::memory_order_release);
  compact_purge_ = false;
  if (index_work) indexed_through_.store(index_through, std::memory_order_release);
  compact_through_.store(compacted, std::memory_order_release);
  return std::max(index_work ? index_through - index_from + 1 : 0, compacted - (compact_from - 1));
}

Result<uint64_t> EventLog::IndexAll(uint64_t batch_events, bool with_column) {
  const uint64_t target = last_seq_.load(std::memory_order_acquire);
  uint64_t total = 0;
  while (indexed_through_.load(std::memory_order_acquire) < target || with_column) {
    auto n = IndexThrough(batch_events);
    if (!n) return n.error();
    if (*n == 0) break;  // the column holds every complete chunk
    total += *n;
  }
  return total;
}

Status EventLog::ForEachByTime(EpochMillis before, const EventFn& fn) {
  return ForEachByTime(std::numeric_limits<EpochMillis>::min(), Sequence(0), before, fn);
}

Status EventLog::ForEachByTime(EpochMillis after_time, Sequence after_seq, EpochMillis before,
                               const EventFn& fn) {
  schema::Event e;
  return ScanByTime(after_time, after_seq, before, Decoding(fn, e));
}

Status EventLog::ForEachViewByTime(EpochMillis before, const ViewFn& fn) {
  return ForEachViewByTime(std::numeric_limits<EpochMillis>::min(), Sequence(0), before, fn);
}

Status EventLog::ForEachViewByTime(EpochMillis after_time, Sequence after_seq,
                                   EpochMillis before, const ViewFn& fn) {
  schema::EventView e;
  return ScanByTime(after_time, after_seq, before, Viewing(fn, e));
}

Status EventLog::ScanByTime(EpochMillis after_time, Sequence after_seq, EpochMillis before,
                            const RecordFn& fn) {
  auto view = store_.NewReadView();
  auto checkpoint = CheckpointIn(*view);
  if (!checkpoint) return checkpoint.error();
  const std::string start = after_time == std::numeric_limits<EpochMillis>::min()
                                ? std::string(1, keys::kTimeIndex)
                                : keys::TimeIndexKey(after_time, Sequence(after_seq.value() + 1));
  const std::string end = keys::TimeIndexKey(before, Sequence(0));
  auto in_range = [&](std::string_view key) { return key >= start && key < end; };
  auto tail = TailKeys(*view, *checkpoint,
                       [&](Sequence seq, const IndexFields& f) -> std::optional<std::string> {
                         std::string key = keys::TimeIndexKey(f.occurred_at_ms, seq);
                         if (!in_range(key)) return std::nullopt;
                         return key;
                       });
  if (!tail) return tail.error();
  return MergedScan(*view, *checkpoint, start, in_range, *tail).Run(fn);
}

Status EventLog::ForEachOfSubjectKind(std::string_view kind, const EventFn& fn) {
  auto view = store_.NewReadView();
  auto checkpoint = CheckpointIn(*view);
  if (!checkpoint) return checkpoint.error();
  std::string prefix(1, keys::kSubjectIndex);
  prefix.append(kind);
  prefix.push_back('\0');
  auto tail = TailKeys(*view, *checkpoint,
                       [&](Sequence seq, const IndexFields& f) -> std::optional<std::string> {
                         if (f.subject_kind != kind || f.subject_id.empty()) return std::nullopt;
                         return keys::SubjectIndexKey(kind, f.subject_id, seq);
                       });
  if (!tail) return tail.error();
  schema::Event e;
  return MergedScan(
             *view, *checkpoint, prefix,
             [&](std::string_view key) { return key.starts_with(prefix); }, *tail)
      .Run(Decoding(fn, e));
}

Result<EpochMillis> EventLog::NewestEventTime() {
  auto view = store_.NewReadView();
  auto checkpoint = CheckpointIn(*view);
  if (!checkpoint) return checkpoint.error();
  EpochMillis newest = std::numeric_limits<EpochMillis>::min();
  // The time index's last key that the checkpoint covers.
  auto it = view->NewIterator(Column::kIndexes);
  it->Seek(std::string(1, keys::kTimeIndex + 1));
  if (it->Valid()) {
    it->Prev();
  } else {
    it->SeekToLast();
  }
  for (; it->Valid() && it->key().starts_with(keys::kTimeIndex); it->Prev()) {
    const auto seq = SequenceOfIndexKey(it->key());
    if (!seq) return Error("corrupt time index");
    if (*seq > *checkpoint) continue;
    newest = keys::TimeOfTimeIndexKey(it->key()).value_or(newest);
    break;
  }
  if (auto s = it->status(); !s) return s.error();
  auto s = ForEachAfter(*view, *checkpoint, [&](Sequence, const IndexFields& f) {
    newest = std::max<EpochMillis>(newest, f.occurred_at_ms);
  });
  if (!s) return s.error();
  return newest;
}

}  // namespace teamhealth::eventlog
