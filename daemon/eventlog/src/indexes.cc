// The time and subject indexes, built behind the log (docs/design.md sections 3 and 10).
//
// Append writes only what exactly-once needs. IndexThrough() reads the events after the
// checkpoint (meta `indexes/through`) in sequence order and writes their index keys and the
// new checkpoint in one write, so the indexes are always exactly "every event up to the
// checkpoint": never ahead of the log, never with a gap. Readers take one snapshot, read the
// checkpoint and the index through it, and merge in the events after the checkpoint (the
// tail), sorted in memory by the key the index would give them: the result is the same
// whatever the indexer's lag. Neither the indexer nor the tail parses events: the index fields
// are read from the records' bytes (ReadIndexFields).
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

void EventLog::StageIndexCheckpoint(storage::WriteBatch& wb) const {
  if (checkpoint_to_store_) {
    wb.Put(Column::kMeta, keys::kIndexedThroughKey, U64Value(*checkpoint_to_store_));
  }
}

Status EventLog::LoadCompactCheckpoint() {
  auto v = store_.Get(Column::kMeta, keys::kCompactThroughKey);
  if (!v) return v.error();
  compact_through_.store(0, std::memory_order_release);
  compact_purge_ = false;
  if (!*v) return Status::Ok();  // never written: no chunk either (they go with it)
  const auto through = keys::ReadU64(**v);
  const bool same_format = (*v)->size() == 9 && static_cast<uint8_t>((**v)[8]) == kCompactFormat;
  if (!through || !same_format || *through > last_seq_.load(std::memory_order_acquire)) {
    // Chunks of another format, or of events this log no longer has: none is read, and the
    // column is written again from the start, its first pass deleting them. Open never writes.
    compact_purge_ = true;
    return Status::Ok();
  }
  compact_through_.store(*through, std::memory_order_release);
  return Status::Ok();
}

namespace {

// The compact column's part of one pass: chunks of consecutive records.
class ChunkWriter {
 public:
  void Add(Sequence seq, const schema::EventView& e) {
    if (chunks_.empty() || records_ == kCompactChunkRecords ||
        chunks_.back().second.size() >= kCompactChunkBytes) {
      chunks_.emplace_back(keys::CompactChunkKey(seq), std::string());
      records_ = 0;
    }
    AppendCompact(seq, e, chunks_.back().second);
    ++records_;
  }
  void Stage(storage::WriteBatch& wb) const {
    for (const auto& [key, chunk] : chunks_) wb.Put(Column::kIndexes, key, chunk);
  }

 private:
  std::vector<std::pair<std::string, std::string>> chunks_;
  size_t records_ = 0;
};

std::string CompactCheckpointValue(uint64_t through) {
  std::string v = U64Value(through);
  v.push_back(static_cast<char>(kCompactFormat));
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

Result<uint64_t> EventLog::IndexThrough(uint64_t max_events) {
  std::lock_guard lock(index_mu_);
  // The indexes and the compact column keep their own checkpoints (a log written before the
  // column has its indexes and no column): one pass reads from the earlier and writes each
  // what it lacks.
  const uint64_t index_from = indexed_through_.load(std::memory_order_acquire) + 1;
  const uint64_t compact_from = compact_through_.load(std::memory_order_acquire) + 1;
  const uint64_t from = std::min(index_from, compact_from);
  const uint64_t last = last_seq_.load(std::memory_order_acquire);
  if (from > last || max_events == 0) return uint64_t{0};
  // (No overflow for any max_events: the distance to the end is compared, not summed.)
  const uint64_t through = max_events >= last - (from - 1) ? last : from - 1 + max_events;

  // The keys go in sorted: each then lands next to the one before in the memtable's skip
  // list, whose insert starts from where the last one ended. In log order (times and subjects
  // at random) every insert searched from the top: ~70 % of the indexer's CPU.
  std::vector<std::string> index_keys;
  if (index_from <= through) index_keys.reserve(2 * (through - index_from + 1));
  ChunkWriter chunks;
  auto it = store_.NewIterator(Column::kLog);
  IndexFields f;
  schema::EventView view;
  uint64_t expected = from;
  for (it->Seek(keys::SequenceKey(Sequence(from))); it->Valid() && expected <= through;
       it->Next()) {
    const auto seq = keys::ReadU64(it->key());
    if (!seq || *seq != expected) break;
    if (expected >= index_from) {
      if (auto s = ReadIndexFields(it->value(), f); !s) {
        return Error("cannot index event " + std::to_string(expected) + ": " +
                     s.error().message());
      }
      index_keys.push_back(keys::TimeIndexKey(f.occurred_at_ms, Sequence(expected)));
      if (!f.subject_id.empty()) {
        index_keys.push_back(
            keys::SubjectIndexKey(f.subject_kind, f.subject_id, Sequence(expected)));
      }
    }
    if (expected >= compact_from) {
      if (auto s = DecodeView(it->value(), view); !s) {
        return Error("cannot index event " + std::to_string(expected) + ": " +
                     s.error().message());
      }
      chunks.Add(Sequence(expected), view);
    }
    ++expected;
  }
  if (auto s = it->status(); !s) return s.error();
  if (expected <= through) {
    return Error("cannot index the log: event " + std::to_string(expected) + " is missing");
  }
  std::sort(index_keys.begin(), index_keys.end());
  storage::WriteBatch wb;
  if (compact_purge_) {
    if (auto s = StageChunkPurge(store_, wb); !s) return s.error();
  }
  for (const auto& key : index_keys) wb.Put(Column::kIndexes, key, {});
  chunks.Stage(wb);
  if (index_from <= through) wb.Put(Column::kMeta, keys::kIndexedThroughKey, U64Value(through));
  if (compact_from <= through) {
    wb.Put(Column::kMeta, keys::kCompactThroughKey, CompactCheckpointValue(through));
  }
  if (auto s = store_.Write(wb); !s) return s.error();
  compact_purge_ = false;
  if (index_from <= through) indexed_through_.store(through, std::memory_order_release);
  if (compact_from <= through) compact_through_.store(through, std::memory_order_release);
  return through - from + 1;
}

Result<uint64_t> EventLog::IndexAll(uint64_t batch_events) {
  const uint64_t target = last_seq_.load(std::memory_order_acquire);
  uint64_t total = 0;
  while (std::min(indexed_through_.load(std::memory_order_acquire),
                  compact_through_.load(std::memory_order_acquire)) < target) {
    auto n = IndexThrough(batch_events);
    if (!n) return n.error();
    if (*n == 0) break;
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
