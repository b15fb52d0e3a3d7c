#include "teamhealth/eventlog/event_log.h"

#include <algorithm>
#include <unordered_set>

#include "absl/container/flat_hash_set.h"

#include "person_fields.h"
#include "teamhealth/base/hash.h"
#include "teamhealth/eventlog/compact.h"
#include "teamhealth/eventlog/keys.h"

namespace teamhealth::eventlog {
namespace {

using storage::Column;

// Counter keys in the meta column: "c" + kind + '/' + source [+ '\0' + reason].
constexpr std::string_view kIngestedPrefix = "ci/";
constexpr std::string_view kDuplicatePrefix = "cd/";
constexpr std::string_view kIgnoredPrefix = "cg/";
constexpr std::string_view kQuarantinedPrefix = "cq/";

std::string U64Value(uint64_t v) {
  std::string s;
  keys::AppendU64(s, v);
  return s;
}

void Add(std::map<std::string, uint64_t>& m, const std::string& k, uint64_t n) { m[k] += n; }

// A quarantined record's dedup key: where it came from and what it held.
std::string QuarantineDedupKey(const schema::QuarantineRecord& q) {
  std::string key = "quarantine:";
  key += q.topic();
  key += '\0';
  key += std::to_string(q.partition());
  key += '\0';
  key += std::to_string(q.offset());
  key += '\0';
  key += q.content_hash();
  return key;
}

}  // namespace

Status Decode(std::string_view bytes, schema::Event& out) {
  if (!out.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Error("corrupt event record");
  }
  if (out.schema_version() > kSchemaVersion) {
    return Error("event " + out.id() + " has schema version " +
                 std::to_string(out.schema_version()) + ", newer than this build's " +
                 std::to_string(kSchemaVersion));
  }
  // Version 1 is the first; future upcasts from older versions go here.
  out.set_schema_version(kSchemaVersion);
  return Status::Ok();
}

Result<std::unique_ptr<EventLog>> EventLog::Open(storage::Store& store, OpenOptions options) {
  std::unique_ptr<EventLog> log(new EventLog(store));
  if (auto s = log->Load(); !s) return s.error();
  if (auto s = log->OpenIdentities(std::move(options)); !s) return s.error();
  return log;
}

Status EventLog::Load() {
  auto it = store_.NewIterator(Column::kLog);
  it->SeekToLast();
  if (it->Valid()) last_seq_ = keys::ReadU64(it->key()).value_or(0);
  if (auto s = it->status(); !s) return s;

  auto q = store_.NewIterator(Column::kQuarantine);
  q->SeekToLast();
  if (q->Valid()) last_quarantine_ = keys::ReadU64(q->key()).value_or(0);
  if (auto s = q->status(); !s) return s;

  auto m = store_.NewIterator(Column::kMeta);
  for (m->Seek("c"); m->Valid() && m->key().starts_with("c"); m->Next()) {
    const std::string_view key = m->key();
    const uint64_t v = keys::ReadU64(m->value()).value_or(0);
    const std::string rest(key.substr(3));
    if (key.starts_with(kIngestedPrefix)) {
      counters_.ingested[rest] = v;
    } else if (key.starts_with(kDuplicatePrefix)) {
      counters_.duplicate[rest] = v;
    } else if (key.starts_with(kIgnoredPrefix)) {
      counters_.ignored[rest] = v;
    } else if (key.starts_with(kQuarantinedPrefix)) {
      const auto nul = rest.find('\0');
      if (nul == std::string::npos) continue;
      counters_.quarantined[{rest.substr(0, nul), rest.substr(nul + 1)}] = v;
    }
  }
  if (auto s = m->status(); !s) return s;
  if (auto s = LoadIndexCheckpoint(); !s) return s;
  return LoadCompactCheckpoint();
}

Result<AppendOutcome> EventLog::Append(IngestBatch& batch) {
  AppendOutcome outcome;
  Counters& delta = outcome.delta;

  // Which ids already exist? One batched lookup for the distinct ids of the batch. The sets
  // view the events' ids, which stay put until the batch is written.
  const schema::EncodedEvents& events = batch.events;
  std::vector<std::string> ids;
  ids.reserve(events.size());
  {
    absl::flat_hash_set<std::string_view> distinct;
    distinct.reserve(events.size());
    for (size_t i = 0; i < events.size(); ++i) {
      if (distinct.insert(events.id(i)).second) ids.emplace_back(events.id(i));
    }
  }
  auto found = store_.MultiGet(Column::kDedup, ids);
  if (!found) return found.error();
  absl::flat_hash_set<std::string_view> seen;  // ids that exist or are appended by this batch
  seen.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    if ((*found)[i]) seen.insert(ids[i]);
  }

  storage::WriteBatch wb;
  uint64_t seq = last_seq_.load(std::memory_order_relaxed);
  std::string bytes;
  schema::EventView view;
  schema::OriginView origin;
  std::vector<std::string> names;  // the pseudonyms of the event being written
  // Dedup keys (ids) go in sorted: each then lands next to the one before in the memtable's
  // skip list, whose insert starts from where the last one ended (random order: a search
  // from the top per key).
  std::vector<std::pair<std::string_view, std::string>> dedup;
  dedup.reserve(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    // The batch's events were encoded by EncodeEvent (normalisers, EncodedEvents::Append):
    // each decodes; a failure here is a bug, refused rather than written.
    if (auto st = DecodeView(events.bytes(i), view, &origin); !st) {
      identities_.Rollback();
      return Error("unreadable event in an ingest batch: " + st.error().message());
    }
    if (!seen.insert(events.id(i)).second) {
      Add(delta.duplicate, std::string(view.source()), 1);
      continue;
    }
    if (auto st = Pseudonymize(view, names, wb); !st) {
      identities_.Rollback();
      return st.error();
    }
    ++seq;
    if (outcome.first.value() == 0) outcome.first = Sequence(seq);
    dedup.emplace_back(events.id(i), PutRecord(view, origin, seq, wb, bytes));
    Add(delta.ingested, std::string(view.source()), 1);
  }
  std::sort(dedup.begin(), dedup.end());
  for (const auto& [id, seq_key] : dedup) wb.Put(Column::kDedup, id, seq_key);

  // A quarantined record is kept once per origin and content: importing a file again (whose
  // origin has no Kafka offsets to commit) or replaying a topic from an earlier offset does not
  // quarantine the same bad record twice. The key cannot collide with an event id, whose prefix
  // is a source name.
  std::vector<std::string> qkeys;
  qkeys.reserve(batch.quarantined.size());
  for (const auto& q : batch.quarantined) qkeys.push_back(QuarantineDedupKey(q));
  auto qfound = store_.MultiGet(Column::kDedup, qkeys);
  if (!qfound) {
    identities_.Rollback();
    return qfound.error();
  }
  uint64_t qseq = last_quarantine_;
  std::unordered_set<std::string_view> qseen;
  for (size_t i = 0; i < batch.quarantined.size(); ++i) {
    const auto& q = batch.quarantined[i];
    const bool fresh = !(*qfound)[i] && qseen.insert(qkeys[i]).second;
    outcome.quarantine_stored.push_back(fresh);
    if (!fresh) {
      Add(delta.duplicate, q.source(), 1);
      continue;
    }
    ++qseq;
    const std::string seq_key = keys::SequenceKey(Sequence(qseq));
    wb.Put(Column::kQuarantine, seq_key, q.SerializeAsString());
    wb.Put(Column::kDedup, qkeys[i], seq_key);
    delta.quarantined[{q.source(), q.reason()}] += 1;
  }
  for (const auto& [source, n] : batch.ignored_by_source) Add(delta.ignored, source, n);

  for (const auto& [tp, offset] : batch.next_offsets) {
    wb.Put(Column::kOffsets, keys::OffsetKey(tp), U64Value(static_cast<uint64_t>(offset.value())));
  }

  // Counters travel in the same batch, so they always match the log.
  Counters next = MergeCounters(delta, wb);

  const bool appends_events = outcome.first.value() != 0;
  if (appends_events) StageIndexCheckpoint(wb);
  if (wb.Count() > 0) {
    if (auto s = WriteWithIdentities(wb); !s) return s.error();
  }
  if (appends_events) IndexCheckpointStored();
  counters_ = std::move(next);
  last_quarantine_ = qseq;
  last_seq_.store(seq, std::memory_order_release);
  outcome.last = Sequence(seq);
  return outcome;
}

Counters EventLog::MergeCounters(const Counters& delta, storage::WriteBatch& wb) const {
  Counters next = counters_;
  auto put_counts = [&](std::string_view prefix, const std::map<std::string, uint64_t>& d,
                        std::map<std::string, uint64_t>& totals) {
    for (const auto& [source, n] : d) {
      totals[source] += n;
      wb.Put(Column::kMeta, std::string(prefix) + source, U64Value(totals[source]));
    }
  };
  put_counts(kIngestedPrefix, delta.ingested, next.ingested);
  put_counts(kDuplicatePrefix, delta.duplicate, next.duplicate);
  put_counts(kIgnoredPrefix, delta.ignored, next.ignored);
  for (const auto& [key, n] : delta.quarantined) {
    auto& total = next.quarantined[key];
    total += n;
    wb.Put(Column::kMeta, std::string(kQuarantinedPrefix) + key.first + '\0' + key.second,
           U64Value(total));
  }
  return next;
}

Status EventLog::WriteWithIdentities(storage::WriteBatch& wb) {
  if (auto s = store_.Write(wb); !s) {
    identities_.Rollback();
    return s;
  }
  identities_.Commit();
  return Status::Ok();
}

void EventLog::PutEvent(const schema::Event& e, uint64_t seq, storage::WriteBatch& wb,
                        std::string& scratch) {
  schema::EventView view(e);
  const schema::OriginView origin{e.origin().topic(), e.origin().partition(), e.origin().offset()};
  wb.Put(Column::kDedup, e.id(), PutRecord(view, origin, seq, wb, scratch));
}

std::string EventLog::PutRecord(schema::EventView& e, const schema::OriginView& origin,
                                uint64_t seq, storage::WriteBatch& wb, std::string& scratch) {
  e.set_schema_version(kSchemaVersion);
  scratch.clear();
  schema::EncodeEvent(e, origin, scratch);
  std::string seq_key = keys::SequenceKey(Sequence(seq));
  wb.Put(Column::kLog, seq_key, scratch);
  // No index keys: the indexer writes them behind the log (indexes.cc). Inserting them here
  // at random places of the memtables cost the writer thread about a third of its CPU.
  return seq_key;
}

Status EventLog::Pseudonymize(schema::EventView& e, std::vector<std::string>& names,
                              storage::WriteBatch& wb) {
  // Every reference is resolved before any view is taken: `names` must not move under them.
  names.clear();
  Status status;
  e.ForEachPersonRef([&](std::string_view& ref) {
    if (!status) return;
    auto p = identities_.Resolve(ref, wb);
    if (!p) {
      status = p.error();
      return;
    }
    names.push_back(std::move(*p));
  });
  if (!status) return status;
  size_t k = 0;
  e.ForEachPersonRef([&](std::string_view& ref) { ref = names[k++]; });
  return Status::Ok();
}

Result<std::optional<Sequence>> EventLog::LookupDedup(std::string_view id) {
  auto v = store_.Get(Column::kDedup, id);
  if (!v) return v.error();
  if (!*v) return std::optional<Sequence>();
  return std::optional<Sequence>(Sequence(keys::ReadU64(**v).value_or(0)));
}

Result<std::optional<schema::Event>> EventLog::Read(Sequence seq) {
  auto v = store_.Get(Column::kLog, keys::SequenceKey(seq));
  if (!v) return v.error();
  if (!*v) return std::optional<schema::Event>();
  schema::Event e;
  if (auto s = Decode(**v, e); !s) return s.error();
  return std::optional<schema::Event>(std::move(e));
}

Status EventLog::ForEach(Sequence from,
                         const std::function<bool(Sequence, const schema::Event&)>& fn) {
  auto it = store_.NewIterator(Column::kLog);
  schema::Event e;
  for (it->Seek(keys::SequenceKey(from)); it->Valid(); it->Next()) {
    if (auto s = Decode(it->value(), e); !s) return s;
    if (!fn(Sequence(keys::ReadU64(it->key()).value_or(0)), e)) break;
  }
  return it->status();
}

Status EventLog::ForEachView(Sequence from,
                             const std::function<bool(Sequence, schema::EventView&)>& fn) {
  // The compact column up to its checkpoint, read before the snapshot: the write that moved
  // it is in the snapshot, chunks and all. Then the log after it, through the same snapshot.
  const uint64_t compacted = compact_through_.load(std::memory_order_acquire);
  auto view = store_.NewReadView();
  schema::EventView e;
  uint64_t next = std::max<uint64_t>(from.value(), 1);
  if (next <= compacted) {
    bool more = true;
    if (auto s = ReadCompact(*view, next, compacted, e, fn, more); !s || !more) return s;
  }
  auto it = view->NewIterator(Column::kLog);
  for (it->Seek(keys::SequenceKey(Sequence(next))); it->Valid(); it->Next()) {
    if (auto s = DecodeView(it->value(), e); !s) return s;
    if (!fn(Sequence(keys::ReadU64(it->key()).value_or(0)), e)) break;
  }
  return it->status();
}

Status EventLog::ReadCompact(storage::ReadView& view, uint64_t& next, uint64_t through,
                             schema::EventView& e,
                             const std::function<bool(Sequence, schema::EventView&)>& fn,
                             bool& more) {
  // The chunk that holds `next`: the last one whose first sequence is not after it.
  auto it = view.NewIterator(Column::kIndexes);
  const std::string start = keys::CompactChunkKey(Sequence(next));
  it->Seek(start);
  if (auto s = it->status(); !s) return s;  // (SeekToLast would clear an error)
  if (!it->Valid() || it->key() != start) {
    if (it->Valid()) {
      it->Prev();
    } else {
      it->SeekToLast();
    }
  }
  Sequence seq;
  for (; it->Valid() && it->key().starts_with(keys::kCompactChunk) && next <= through;
       it->Next()) {
    CompactReader chunk(it->value());
    for (;;) {
      auto read = chunk.Next(seq, e);
      if (!read) return read.error();
      if (!*read || seq.value() > through) break;
      if (seq.value() < next) continue;  // the chunk's records before `next`
      if (seq.value() != next) {
        return Error("the compact column has no event " + std::to_string(next) + " (next: " +
                     std::to_string(seq.value()) + ")");
      }
      ++next;
      if (!fn(seq, e)) {
        more = false;
        return Status::Ok();
      }
    }
  }
  if (auto s = it->status(); !s) return s;
  if (next <= through) {
    return Error("the compact column ends before its checkpoint: no event " +
                 std::to_string(next) + " (checkpoint " + std::to_string(through) + ")");
  }
  return Status::Ok();
}

Status EventLog::ForEachQuarantined(
    const std::function<bool(uint64_t, const schema::QuarantineRecord&)>& fn) {
  auto it = store_.NewIterator(Column::kQuarantine);
  schema::QuarantineRecord q;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!q.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Error("corrupt quarantine record");
    }
    if (!fn(keys::ReadU64(it->key()).value_or(0), q)) break;
  }
  return it->status();
}

Result<std::map<TopicPartition, KafkaOffset>> EventLog::Offsets() {
  std::map<TopicPartition, KafkaOffset> out;
  auto it = store_.NewIterator(Column::kOffsets);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto tp = keys::ParseOffsetKey(it->key());
    auto v = keys::ReadU64(it->value());
    if (!tp || !v) return Error("corrupt offset record");
    out[*tp] = KafkaOffset(static_cast<int64_t>(*v));
  }
  if (auto s = it->status(); !s) return s.error();
  return out;
}

}  // namespace teamhealth::eventlog
