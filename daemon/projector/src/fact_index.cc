#include "teamhealth/projector/fact_index.h"

#include <xxhash.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <tuple>
#include <unordered_map>

#include "teamhealth/eventlog/keys.h"
#include "teamhealth/projections/accumulator.h"
#include "teamhealth/projections/bytes.h"
#include "teamhealth/projector/projector.h"

namespace teamhealth::projector {
namespace {

constexpr std::string_view kStateKey = "facts/state";
constexpr std::string_view kStatesKey = "facts/p";
constexpr std::string_view kFactPrefix = "facts/F/";
constexpr std::string_view kGaugePrefix = "facts/G/";
constexpr std::string_view kGaugeDayPrefix = "facts/m/";
constexpr std::string_view kChunkPrefix = "facts/c/";
constexpr std::string_view kSnapshotPrefix = "facts/s/";
constexpr std::string_view kFormat = "facts/2";
constexpr EpochMillis kHour = 3600 * 1000;
constexpr EpochMillis kDay = 24 * kHour;
// Also what EventLog::NewestEventTime gives for an empty log.
constexpr EpochMillis kNoTime = std::numeric_limits<EpochMillis>::min();
constexpr int kDailySnapshotsKept = 14;
// When the builder writes its checkpoint (CheckpointDue): at least 5 s apart; once the steps
// since the last one took 30 times what saving the state did (a large organisation's state is
// tens of MB); and at most a minute apart, since a report reads the facts up to the checkpoint
// and applies the events after it (a minute of them: little to apply).
constexpr CheckpointCadence kFactsCadence{std::chrono::seconds(5), std::chrono::minutes(1), 30};
constexpr EpochMillis kGapMidnights = 62;

void AppendU64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}
uint64_t ReadU64(std::string_view s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < s.size(); ++i) v = (v << 8) | static_cast<unsigned char>(s[i]);
  return v;
}
// Times sort as unsigned big-endian numbers with the sign bit flipped.
void AppendTime(std::string& out, EpochMillis t) {
  AppendU64(out, static_cast<uint64_t>(t) ^ (uint64_t{1} << 63));
}
EpochMillis ReadTime(std::string_view s) {
  return static_cast<EpochMillis>(ReadU64(s) ^ (uint64_t{1} << 63));
}
EpochMillis FloorTo(EpochMillis t, EpochMillis unit) {
  EpochMillis q = t / unit;
  if (t % unit != 0 && t < 0) --q;
  return q * unit;
}

std::string FactKey(std::string_view team, EpochMillis hour, uint64_t chunk) {
  std::string k(kFactPrefix);
  k.append(team);
  k.push_back('\0');
  AppendTime(k, hour);
  AppendU64(k, chunk);
  return k;
}
std::string ChunkKey(uint64_t chunk) {
  std::string k(kChunkPrefix);
  AppendU64(k, chunk);
  return k;
}
std::string SnapshotKey(EpochMillis t) {
  std::string k(kSnapshotPrefix);
  AppendTime(k, t);
  return k;
}
std::string GaugeKey(std::string_view team, EpochMillis midnight) {
  std::string k(kGaugePrefix);
  k.append(team);
  k.push_back('\0');
  AppendTime(k, midnight);
  return k;
}
std::string GaugeDayKey(EpochMillis midnight) {
  std::string k(kGaugeDayPrefix);
  AppendTime(k, midnight);
  return k;
}
// The first key after every key starting with `prefix`.
std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  end.back() = static_cast<char>(end.back() + 1);
  return end;
}

const std::vector<std::string>& MetricNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& s : projections::AllSpecs()) n.emplace_back(s.name);
    return n;
  }();
  return names;
}
uint64_t MetricIndex(std::string_view name) {
  static const std::unordered_map<std::string_view, uint64_t> index = [] {
    std::unordered_map<std::string_view, uint64_t> m;
    const auto& names = MetricNames();
    for (size_t i = 0; i < names.size(); ++i) m.emplace(names[i], i);
    return m;
  }();
  const auto it = index.find(name);
  return it == index.end() ? std::numeric_limits<uint64_t>::max() : it->second;
}

std::string SaveStates(const projections::Pipeline& pipeline) {
  std::string bytes;
  projections::ByteWriter w(bytes);
  w.U64(pipeline.size());
  for (size_t i = 0; i < pipeline.size(); ++i) w.Str(pipeline.SaveProjection(i));
  return bytes;
}
bool ReadStates(projections::ByteReader& r, std::vector<std::string>& states) {
  states.clear();
  for (uint64_t n = r.U64(); r.ok() && n > 0; --n) states.push_back(r.Str());
  return r.ok();
}
// The latest snapshot at or before `t` through `it` (an iterator over the projections
// column): its midnight and the projections' states; nullopt when there is none.
Result<std::optional<std::pair<EpochMillis, std::vector<std::string>>>> LatestSnapshot(
    storage::Iterator& it, EpochMillis t) {
  it.Seek(SnapshotKey(t + 1));
  if (it.Valid()) {
    it.Prev();
  } else {
    it.SeekToLast();
    while (it.Valid() && it.key() >= PrefixEnd(kSnapshotPrefix)) it.Prev();
  }
  if (!it.status()) return it.status().error();
  if (!it.Valid() || !it.key().starts_with(kSnapshotPrefix)) {
    return std::optional<std::pair<EpochMillis, std::vector<std::string>>>();
  }
  std::pair<EpochMillis, std::vector<std::string>> out;
  out.first = ReadTime(it.key().substr(kSnapshotPrefix.size()));
  projections::ByteReader r(it.value());
  if (!ReadStates(r, out.second)) return Error("corrupt metric facts snapshot");
  return std::optional(std::move(out));
}

bool LoadStates(projections::Pipeline& pipeline, const std::vector<std::string>& states) {
  if (states.size() != pipeline.size()) return false;
  for (size_t i = 0; i < states.size(); ++i) {
    if (!pipeline.LoadProjection(i, states[i])) return false;
  }
  return true;
}

// The builder's checkpoint.
struct State {
  std::string tag;
  uint64_t seen_seq = 0;         // every event up to it was looked at
  EpochMillis newest = kNoTime;  // newest event time seen (the horizon trails it)
  EpochMillis pos_time = kNoTime;
  uint64_t pos_seq = 0;          // last applied, in (time, sequence) order
  EpochMillis next_midnight = kNoTime;  // crossing it records gauges (and maybe a snapshot)
  uint64_t next_chunk = 1;
  // Where the projections' state at the position is: the snapshot of this midnight, or
  // (kNoTime) its own key, kStatesKey. Kept apart from this small record so that a reader
  // opening the facts does not read the whole organisation's state.
  EpochMillis states_snapshot = kNoTime;

  std::string Save() const {
    std::string bytes;
    projections::ByteWriter w(bytes);
    w.Str(kFormat);
    w.Str(tag);
    w.U64(seen_seq);
    w.I64(newest);
    w.I64(pos_time);
    w.U64(pos_seq);
    w.I64(next_midnight);
    w.U64(next_chunk);
    w.I64(states_snapshot);
    return bytes;
  }
  bool Load(std::string_view bytes) {
    projections::ByteReader r(bytes);
    if (r.Str() != kFormat) return false;
    tag = r.Str();
    seen_seq = r.U64();
    newest = r.I64();
    pos_time = r.I64();
    pos_seq = r.U64();
    next_midnight = r.I64();
    next_chunk = r.U64();
    states_snapshot = r.I64();
    return r.done();
  }
};

// The projections' state a checkpoint names, through `get` (a store's or a read view's Get).
template <typename Get>
Result<std::vector<std::string>> CheckpointStates(const State& state, Get&& get) {
  const std::string key =
      state.states_snapshot == kNoTime ? std::string(kStatesKey) : SnapshotKey(state.states_snapshot);
  auto stored = get(key);
  if (!stored) return stored.error();
  std::vector<std::string> states;
  if (!*stored) return Error("metric facts checkpoint without its projection state");
  projections::ByteReader r(**stored);
  if (!ReadStates(r, states)) return Error("corrupt metric facts checkpoint");
  return states;
}

// Team labels are the key of facts and gauges: stored labels leave them out.
void EncodeLabels(projections::ByteWriter& w, const projections::Labels& labels) {
  size_t n = 0;
  for (const auto& [k, v] : labels) n += k != "team";
  w.U64(n);
  for (const auto& [k, v] : labels) {
    if (k == "team") continue;
    w.Str(k);
    w.Str(v);
  }
}
bool DecodeLabels(projections::ByteReader& r, projections::Labels& labels) {
  labels.clear();
  for (uint64_t n = r.U64(); r.ok() && n > 0; --n) {
    std::string k = r.Str();
    labels.emplace_back(std::move(k), r.Str());
  }
  return r.ok();
}
// Stored labels (sorted by name, without team) with team put back in its place.
void WithTeam(const projections::Labels& stored, const std::string& team,
              projections::Labels& out) {
  out.clear();
  bool placed = false;
  for (const auto& l : stored) {
    if (!placed && l.first > "team") {
      out.emplace_back("team", team);
      placed = true;
    }
    out.push_back(l);
  }
  if (!placed) out.emplace_back("team", team);
}
std::string TeamOf(const projections::Labels& labels) {
  for (const auto& [k, v] : labels) {
    if (k == "team") return v;
  }
  return {};
}

// Appends one fact to a blob of facts (all of one team and hour).
void EncodeFact(std::string& blob, EpochMillis hour, uint64_t metric,
                const projections::Labels& labels, double value, EpochMillis at, uint64_t seq,
                EpochMillis caused_at) {
  projections::ByteWriter w(blob);
  w.U64(metric);
  EncodeLabels(w, labels);
  w.I64(at - hour);
  w.F64(value);
  w.U64(seq);
  w.I64(caused_at - at);
}

// Collects the facts of the events being applied, by team and hour, until they are written.
class FactSink final : public projections::MetricSink {
 public:
  void Begin(uint64_t seq, EpochMillis at) {
    seq_ = seq;
    caused_at_ = at;
  }
  void Add(std::string_view name, const projections::Labels& labels, double delta,
           EpochMillis at) override {
    Record(name, labels, delta, at);
  }
  void Observe(std::string_view name, const projections::Labels& labels, double value,
               EpochMillis at) override {
    Record(name, labels, value, at);
  }
  void Set(std::string_view, const projections::Labels&, double) override {}

  uint64_t count() const { return count_; }
  // (team, hour) -> encoded facts.
  std::map<std::pair<std::string, EpochMillis>, std::string>& blobs() { return blobs_; }
  // Other keys the open chunk writes (gauges recorded at midnights).
  void Put(std::string key, std::string value) { extra_[std::move(key)] = std::move(value); }
  std::map<std::string, std::string>& extra() { return extra_; }
  bool empty() const { return count_ == 0 && extra_.empty(); }
  void Clear() {
    blobs_.clear();
    extra_.clear();
    count_ = 0;
  }

 private:
  void Record(std::string_view name, const projections::Labels& labels, double value,
              EpochMillis at) {
    const uint64_t metric = MetricIndex(name);
    if (metric == std::numeric_limits<uint64_t>::max()) return;  // not a section 7 metric
    const std::string team = TeamOf(labels);
    const EpochMillis hour = FloorTo(at, kHour);
    EncodeFact(blobs_[{team, hour}], hour, metric, labels, value, at, seq_, caused_at_);
    ++count_;
  }

  uint64_t seq_ = 0;
  EpochMillis caused_at_ = 0;
  uint64_t count_ = 0;
  std::map<std::pair<std::string, EpochMillis>, std::string> blobs_;
  std::map<std::string, std::string> extra_;
};

// Gauge values by team, as one blob per team: (metric, labels without team, value)...
class GaugeSink final : public projections::MetricSink {
 public:
  void Add(std::string_view, const projections::Labels&, double, EpochMillis) override {}
  void Observe(std::string_view, const projections::Labels&, double, EpochMillis) override {}
  void Set(std::string_view name, const projections::Labels& labels, double value) override {
    const uint64_t metric = MetricIndex(name);
    const std::string team = TeamOf(labels);
    if (metric == std::numeric_limits<uint64_t>::max() || team.empty()) return;
    projections::ByteWriter w(blobs_[team]);
    w.U64(metric);
    EncodeLabels(w, labels);
    w.F64(value);
  }
  std::map<std::string, std::string>& blobs() { return blobs_; }

 private:
  std::map<std::string, std::string> blobs_;
};

class NullSink final : public projections::MetricSink {
 public:
  void Add(std::string_view, const projections::Labels&, double, EpochMillis) override {}
  void Observe(std::string_view, const projections::Labels&, double, EpochMillis) override {}
  void Set(std::string_view, const projections::Labels&, double) override {}
};

// The (time, sequence) of the oldest event appended after `seen` (up to `last`), and the
// newest event time among them.
struct NewEvents {
  EpochMillis oldest_time = std::numeric_limits<EpochMillis>::max();
  uint64_t oldest_seq = 0;
  EpochMillis newest = kNoTime;
  bool directory = false;  // a directory.* event among them
};
Result<NewEvents> ScanNew(eventlog::EventLog& log, uint64_t seen, uint64_t last) {
  NewEvents out;
  if (last <= seen) return out;
  auto s = log.ForEach(Sequence(seen + 1), [&](Sequence seq, const schema::Event& e) {
    if (seq.value() > last) return false;
    const EpochMillis t = e.occurred_at_ms();
    if (t < out.oldest_time || (t == out.oldest_time && seq.value() < out.oldest_seq)) {
      out.oldest_time = t;
      out.oldest_seq = seq.value();
    }
    out.newest = std::max(out.newest, t);
    out.directory = out.directory || e.subject().kind() == "person";
    return seq.value() < last;
  });
  if (!s) return s.error();
  return out;
}

bool Before(EpochMillis t1, uint64_t s1, EpochMillis t2, uint64_t s2) {
  return t1 < t2 || (t1 == t2 && s1 < s2);
}

}  // namespace

std::string FactsTag(const projections::Pipeline& pipeline) {
  std::string tag;
  for (size_t i = 0; i < pipeline.size(); ++i) tag += pipeline.Tag(i) + "|";
  const std::string resolution = pipeline.resolver().Save();
  tag += std::to_string(XXH3_64bits(resolution.data(), resolution.size()));
  return tag;
}

Result<FactIndexStats> FactStats(storage::Store& store) {
  FactIndexStats out;
  State state;
  bool checkpointed = false;
  auto it = store.NewIterator(storage::Column::kProjections);
  for (it->Seek("facts/"); it->Valid() && it->key().starts_with("facts/"); it->Next()) {
    const std::string_view key = it->key();
    const uint64_t bytes = key.size() + it->value().size();
    if (key.starts_with(kFactPrefix)) {
      ++out.fact_blobs;
      out.fact_bytes += bytes;
      projections::ByteReader r(it->value());
      while (r.ok() && !r.done()) {
        r.U64();
        for (uint64_t n = r.U64(); r.ok() && n > 0; --n) {
          r.Str();
          r.Str();
        }
        r.I64();
        r.F64();
        r.U64();
        r.I64();
        out.facts += r.ok();
      }
    } else if (key.starts_with(kGaugePrefix)) {
      ++out.gauge_blobs;
      out.gauge_bytes += bytes;
    } else if (key.starts_with(kGaugeDayPrefix)) {
      ++out.gauge_days;
    } else if (key.starts_with(kChunkPrefix)) {
      ++out.chunks;
      out.chunk_bytes += bytes;
    } else if (key.starts_with(kSnapshotPrefix)) {
      ++out.snapshots;
      out.snapshot_bytes += bytes;
    } else if (key == kStatesKey) {
      out.checkpoint_bytes += bytes;
    } else if (key == kStateKey) {
      out.checkpoint_bytes += bytes;
      checkpointed = state.Load(it->value());
      if (checkpointed) {
        out.seen_sequence = state.seen_seq;
        out.position = state.pos_time == kNoTime ? 0 : state.pos_time;
      }
    }
  }
  if (!it->status()) return it->status().error();
  if (!checkpointed) return out;
  auto states = CheckpointStates(
      state, [&](const std::string& key) { return store.Get(storage::Column::kProjections, key); });
  if (!states) return states.error();
  for (const auto& bytes : *states) out.state_bytes.push_back(bytes.size());
  return out;
}

struct FactBuilder::Impl {
  storage::Store& store;
  eventlog::EventLog& log;
  PipelineFactory make_pipeline;
  logging::Logger logger;
  Options options;
  std::unique_ptr<projections::Pipeline> pipeline;
  State state;
  FactSink sink;
  EpochMillis chunk_start = kNoTime;  // the midnight the open chunk's causes start at
  bool pending = false;                // applied or looked at since the last checkpoint
  std::chrono::steady_clock::time_point last_flush = std::chrono::steady_clock::now();
  // What saving the projections' state took last, and the time spent on steps since (see
  // kFactsCadence).
  std::chrono::steady_clock::duration last_save{};
  std::chrono::steady_clock::duration busy{};

  Impl(storage::Store& s, eventlog::EventLog& l, PipelineFactory f, logging::Logger lg,
       Options o)
      : store(s), log(l), make_pipeline(std::move(f)), logger(std::move(lg)), options(o) {}

  Status FreshPipeline() {
    pipeline = make_pipeline();
    return PreloadDirectory(log, *pipeline);
  }

  // Deletes every key of the column under `prefix` from `from` on, into `wb`.
  Status DeleteFrom(std::string_view from, std::string_view prefix, storage::WriteBatch& wb) {
    auto it = store.NewIterator(storage::Column::kProjections);
    for (it->Seek(from); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      wb.Delete(storage::Column::kProjections, it->key());
    }
    return it->status();
  }

  // Writes the open chunk's facts and gauges, `wb` and the checkpoint in one write. The
  // projections' state is the snapshot of `snapshot` when they are at it (that snapshot is in
  // `wb` or stored), else saved under its own key.
  Status Flush(storage::WriteBatch& wb, EpochMillis snapshot = kNoTime) {
    const auto started = std::chrono::steady_clock::now();
    if (!sink.empty()) {
      const uint64_t chunk = state.next_chunk++;
      std::string record;
      projections::ByteWriter w(record);
      w.I64(chunk_start);
      w.U64(sink.blobs().size() + sink.extra().size());
      for (auto& [where, blob] : sink.blobs()) {
        const std::string key = FactKey(where.first, where.second, chunk);
        wb.Put(storage::Column::kProjections, key, blob);
        w.Str(key);
      }
      for (auto& [key, value] : sink.extra()) {
        wb.Put(storage::Column::kProjections, key, value);
        w.Str(key);
      }
      wb.Put(storage::Column::kProjections, ChunkKey(chunk), record);
      sink.Clear();
    }
    state.states_snapshot = snapshot;
    if (snapshot == kNoTime) wb.Put(storage::Column::kProjections, kStatesKey, SaveStates(*pipeline));
    wb.Put(storage::Column::kProjections, kStateKey, state.Save());
    if (auto s = store.Write(wb); !s) return s;
    pending = false;
    busy = {};
    last_flush = std::chrono::steady_clock::now();
    if (snapshot == kNoTime) last_save = last_flush - started;
    return Status::Ok();
  }

  // Forgets every fact and snapshot; the builder starts from the beginning of the log.
  Status Wipe(const std::string& reason) {
    logger->info("Building metric facts from the start of the log. reason=\"{}\"", reason);
    if (auto s = FreshPipeline(); !s) return s;
    storage::WriteBatch wb;
    if (auto s = DeleteFrom("facts/", "facts/", wb); !s) return s;
    const uint64_t next_chunk = state.next_chunk;
    state = State{};
    state.tag = FactsTag(*pipeline);
    state.next_chunk = next_chunk;
    sink.Clear();
    chunk_start = kNoTime;
    if (auto s = Flush(wb); !s) return s;
    // What saving an empty state took says nothing of the states to come: the build's first
    // checkpoint comes after the least gap (kFactsCadence), and measures one.
    last_save = {};
    return Status::Ok();
  }

  // Undoes everything caused at or after the latest snapshot at or before `t`.
  Status Rollback(EpochMillis t) {
    EpochMillis snapshot_time = kNoTime;
    std::vector<std::string> states;
    {
      auto it = store.NewIterator(storage::Column::kProjections);
      auto snapshot = LatestSnapshot(*it, t);
      if (!snapshot) return snapshot.error();
      if (*snapshot) std::tie(snapshot_time, states) = std::move(**snapshot);
    }
    if (snapshot_time == kNoTime) return Wipe("an event older than every snapshot arrived");
    logger->debug("Rolling metric facts back to a snapshot. snapshot={} event={}",
                  FormatRfc3339(snapshot_time), FormatRfc3339(t));
    storage::WriteBatch wb;
    // Chunks are numbered in the order of their causes: delete from the newest backwards.
    {
      auto it = store.NewIterator(storage::Column::kProjections);
      it->Seek(PrefixEnd(kChunkPrefix));
      if (it->Valid()) it->Prev(); else it->SeekToLast();
      for (; it->Valid() && it->key().starts_with(kChunkPrefix); it->Prev()) {
        projections::ByteReader r(it->value());
        const EpochMillis start = r.I64();
        if (start < snapshot_time) break;
        for (uint64_t n = r.U64(); r.ok() && n > 0; --n) {
          wb.Delete(storage::Column::kProjections, r.Str());
        }
        if (!r.ok()) return Error("corrupt metric facts chunk");
        wb.Delete(storage::Column::kProjections, it->key());
      }
      if (!it->status()) return it->status();
    }
    if (auto s = DeleteFrom(SnapshotKey(snapshot_time + 1), kSnapshotPrefix, wb); !s) return s;
    if (auto s = FreshPipeline(); !s) return s;
    if (!LoadStates(*pipeline, states)) return Error("corrupt metric facts snapshot");
    sink.Clear();
    state.pos_time = snapshot_time;
    state.pos_seq = 0;
    state.next_midnight = snapshot_time + kDay;
    chunk_start = snapshot_time;
    return Flush(wb, snapshot_time);
  }

  // Crossing every midnight up to the one at or before `t` (the next event's time): each
  // one's gauges, team by team, go into the open chunk (a report ending at a midnight reads
  // them instead of rebuilding the state). Some midnights also get a snapshot: those of the
  // last kDailySnapshotsKept days before the newest event and one a week (Thursdays, day 0 of
  // the epoch) before; a snapshot ends the chunk, in one write with the facts before it.
  // Across a long gap between events (an event stamped in 1970, say) only the last
  // kGapMidnights midnights are recorded: a report ending earlier in the gap gets its gauges
  // from the snapshot before the gap, which no event has changed since.
  Status Midnights(EpochMillis t) {
    const EpochMillis last = FloorTo(t, kDay);
    EpochMillis m = state.next_midnight == kNoTime
                        ? last
                        : std::max(state.next_midnight, last - (kGapMidnights - 1) * kDay);
    for (; m <= last; m += kDay) {
      GaugeSink gauges;
      pipeline->ExportGauges(m, gauges);
      for (auto& [team, blob] : gauges.blobs()) sink.Put(GaugeKey(team, m), std::move(blob));
      sink.Put(GaugeDayKey(m), "");  // the gauges of every team at m are recorded
      state.next_midnight = m + kDay;
      // Midnights after the newest event (crossed by the clock on a quiet night or after an
      // outage) leave the state as it was: only the last one crossed gets a snapshot, the
      // position's, rather than a copy of the same state for every day of the gap.
      const bool after_events = m > state.newest;
      if (after_events ? m != last
                       : m / kDay % 7 != 0 && state.newest - m > kDailySnapshotsKept * kDay) {
        continue;
      }
      // The checkpoint written with the snapshot is at this midnight: every event before it is
      // applied. (Left at the last event, a restart from it would start the open chunk before
      // the snapshot and would not see an event older than the midnight as late.)
      state.pos_time = m;
      state.pos_seq = 0;
      storage::WriteBatch wb;
      wb.Put(storage::Column::kProjections, SnapshotKey(m), SaveStates(*pipeline));
      const EpochMillis old = m - kDailySnapshotsKept * kDay;
      if (FloorTo(old, kDay) / kDay % 7 != 0) wb.Delete(storage::Column::kProjections, SnapshotKey(old));
      if (auto s = Flush(wb, m); !s) return s;
      chunk_start = m;
    }
    return Status::Ok();
  }
};

FactBuilder::FactBuilder(storage::Store& store, eventlog::EventLog& log,
                         PipelineFactory make_pipeline, logging::Logger logger, Options options)
    : impl_(std::make_unique<Impl>(store, log, std::move(make_pipeline), std::move(logger),
                                   options)) {}

FactBuilder::~FactBuilder() = default;

EpochMillis FactBuilder::position() const { return impl_->state.pos_time; }

Status FactBuilder::Start() {
  Impl& m = *impl_;
  if (auto s = m.FreshPipeline(); !s) return s;
  auto stored = m.store.Get(storage::Column::kProjections, kStateKey);
  if (!stored) return stored.error();
  if (!*stored) return m.Wipe("no metric facts yet");
  State loaded;
  if (!loaded.Load(**stored)) return m.Wipe("metric facts of another format");
  if (loaded.tag != FactsTag(*m.pipeline)) {
    m.state.next_chunk = loaded.next_chunk;
    return m.Wipe("definitions or person resolution changed");
  }
  auto states = CheckpointStates(
      loaded, [&](const std::string& key) { return m.store.Get(storage::Column::kProjections, key); });
  if (!states || !LoadStates(*m.pipeline, *states)) {
    m.state.next_chunk = loaded.next_chunk;
    return m.Wipe("unreadable projection state in the metric facts checkpoint");
  }
  m.state = std::move(loaded);
  m.chunk_start = FloorTo(std::max<EpochMillis>(m.state.pos_time, 0), kDay);
  return Status::Ok();
}

Result<uint64_t> FactBuilder::Step(uint64_t max_events) {
  Impl& m = *impl_;
  const auto started = std::chrono::steady_clock::now();
  State& st = m.state;
  const uint64_t last = m.log.LastSequence().value();
  bool dirty = false;
  if (last > st.seen_seq) {
    // Nothing applied yet: nothing can be late, and the scan would read the whole log.
    NewEvents fresh{.directory = true};
    if (st.pos_time != kNoTime) {
      auto scanned = ScanNew(m.log, st.seen_seq, last);
      if (!scanned) return scanned.error();
      fresh = *scanned;
    }
    if (fresh.directory) {
      // A report preloads the whole directory history: if it now resolves a reference
      // differently, the facts must be rebuilt with it.
      auto preloaded = m.make_pipeline();
      if (auto s = PreloadDirectory(m.log, *preloaded); !s) return s.error();
      if (FactsTag(*preloaded) != st.tag) {
        if (auto s = m.Wipe("the directory now resolves a person reference differently"); !s) {
          return s.error();
        }
        st.seen_seq = last;
        return uint64_t{0};
      }
    }
    if (fresh.oldest_seq != 0 &&
        Before(fresh.oldest_time, fresh.oldest_seq, st.pos_time, st.pos_seq)) {
      ++rollbacks_;
      if (auto s = m.Rollback(fresh.oldest_time); !s) return s.error();
    }
    st.seen_seq = last;
    dirty = true;
  }
  auto newest = m.log.NewestEventTime();
  if (!newest) return newest.error();
  st.newest = *newest;
  if (st.newest == kNoTime) return uint64_t{0};
  const EpochMillis now = m.options.clock ? m.options.clock() : kNoTime;
  const EpochMillis horizon = std::max(st.newest, now) - m.options.lag_ms;
  uint64_t n = 0;
  bool rebuild = false;
  bool stopped_early = false;  // at an event appended during the step, not at the horizon
  Status inner = Status::Ok();
  auto s = m.log.ForEachViewByTime(st.pos_time, Sequence(st.pos_seq), horizon,
                               [&](Sequence seq, schema::EventView& e) {
                                 // Appended during this step: the next step looks at it first.
                                 if (seq.value() > st.seen_seq) {
                                   stopped_early = true;
                                   return false;
                                 }
                                 const EpochMillis t = e.occurred_at_ms();
                                 if (t >= st.next_midnight) {
                                   inner = m.Midnights(t);
                                   if (!inner) return false;
                                 }
                                 m.sink.Begin(seq.value(), t);
                                 m.pipeline->Apply(e, m.sink);
                                 st.pos_time = t;
                                 st.pos_seq = seq.value();
                                 ++n;
                                 if (m.pipeline->resolution_changed()) {
                                   rebuild = true;
                                   return false;
                                 }
                                 if (m.sink.count() >= m.options.chunk_facts) {
                                   storage::WriteBatch wb;
                                   inner = m.Flush(wb);
                                   if (!inner) return false;
                                 }
                                 return n < max_events;
                               });
  if (!s) return s.error();
  if (!inner) return inner.error();
  if (rebuild) {
    if (auto w = m.Wipe("a directory change re-resolves a person reference"); !w) return w.error();
    return n;
  }
  // Every event before the horizon is applied and no event after the next midnight is: with a
  // clock, cross the midnights up to the horizon now (their gauges are final unless a late
  // event arrives, which rolls back), and put the position there, so that an event older than
  // them counts as late.
  if (m.options.clock && n < max_events && !stopped_early && st.next_midnight != kNoTime &&
      st.next_midnight <= horizon) {
    if (auto c = m.Midnights(horizon); !c) return c.error();
    st.pos_time = st.next_midnight - kDay;
    st.pos_seq = 0;
    dirty = true;
  }
  // The projections' state is written with every checkpoint, as kFactsCadence says (a full
  // chunk and every midnight write at once, whatever it says). What is not written yet is
  // applied again after a restart.
  m.pending = m.pending || n > 0 || dirty;
  const auto now_steady = std::chrono::steady_clock::now();
  // A chunk or midnight written during the step was a checkpoint: only what came after it.
  if (n > 0 || dirty) m.busy += now_steady - std::max(started, m.last_flush);
  if (m.pending &&
      CheckpointDue(kFactsCadence, now_steady - m.last_flush, m.busy, m.last_save, false)) {
    if (auto f = Checkpoint(); !f) return f.error();
  }
  return n;
}

Status FactBuilder::Checkpoint() {
  Impl& m = *impl_;
  if (!m.pending) return Status::Ok();
  storage::WriteBatch wb;
  return m.Flush(wb);
}

Status FactBuilder::CatchUp() {
  for (;;) {
    auto n = Step(1000000);
    if (!n) return n.error();
    if (*n == 0) return Checkpoint();
  }
}

Result<std::unique_ptr<FactReader>> FactReader::Open(storage::Store& store,
                                                     eventlog::EventLog& log,
                                                     const projections::Pipeline& pipeline,
                                                     std::string& why_not) {
  auto view = store.NewReadView();
  auto stored = view->Get(storage::Column::kProjections, kStateKey);
  if (!stored) return stored.error();
  State state;
  if (!*stored || !state.Load(**stored)) {
    why_not = "no metric facts built yet";
    return std::unique_ptr<FactReader>();
  }
  if (state.tag != FactsTag(pipeline)) {
    why_not = "the metric facts were built with other definitions or another directory";
    return std::unique_ptr<FactReader>();
  }
  const uint64_t last = log.LastSequence().value();
  if (last > state.seen_seq && state.pos_time != kNoTime) {
    auto fresh = ScanNew(log, state.seen_seq, last);
    if (!fresh) return fresh.error();
    if (fresh->oldest_seq != 0 &&
        Before(fresh->oldest_time, fresh->oldest_seq, state.pos_time, state.pos_seq)) {
      why_not = "events older than the metric facts arrived since they were last built";
      return std::unique_ptr<FactReader>();
    }
  }
  auto reader = std::make_unique<FactReader>(std::move(view), log);
  reader->pos_time_ = state.pos_time;
  reader->pos_seq_ = state.pos_seq;
  reader->states_snapshot_ = state.states_snapshot;
  return reader;
}

namespace {

// One stored fact as read, its labels still encoded (valid while its blob is).
struct RawFact {
  uint64_t metric = 0;          // index into MetricNames()
  std::string_view key;         // metric and labels as stored: a series' identity
  std::string_view labels;      // the encoded labels (a suffix of key)
  EpochMillis at = 0, caused_at = 0;
  double value = 0;
  uint64_t sequence = 0;
};

// Every fact of `team` with its instant in [from, to), caused before `caused_before`, in key
// order: the one read of the fact index that Feed, FeedTotals and explain share.
Status ScanFacts(storage::ReadView& view, const std::string& team, EpochMillis from, EpochMillis to,
                 EpochMillis caused_before, const std::function<void(const RawFact&)>& fn) {
  const size_t metrics = MetricNames().size();
  auto it = view.NewIterator(storage::Column::kProjections);
  const std::string end = FactKey(team, to == std::numeric_limits<EpochMillis>::max()
                                            ? to
                                            : FloorTo(to - 1, kHour) + 1,
                                  0);
  RawFact f;
  for (it->Seek(FactKey(team, FloorTo(from, kHour), 0)); it->Valid() && it->key() < end;
       it->Next()) {
    const std::string_view key = it->key();
    const EpochMillis hour = ReadTime(key.substr(key.size() - 16, 8));
    const std::string_view blob = it->value();
    projections::ByteReader r(blob);
    while (r.ok() && !r.done()) {
      const size_t start = r.pos();
      f.metric = r.U64();
      const size_t labels_start = r.pos();
      for (uint64_t n = r.U64(); r.ok() && n > 0; --n) {
        r.View();
        r.View();
      }
      f.key = blob.substr(start, r.pos() - start);
      f.labels = blob.substr(labels_start, r.pos() - labels_start);
      f.at = hour + r.I64();
      f.value = r.F64();
      f.sequence = r.U64();
      f.caused_at = f.at + r.I64();
      if (!r.ok() || f.metric >= metrics) return Error("corrupt metric facts");
      if (f.at < from || f.at >= to || f.caused_at >= caused_before) continue;
      fn(f);
    }
  }
  return it->status();
}

bool IsHistogram(uint64_t metric) {
  static const std::vector<bool> histogram = [] {
    std::vector<bool> h;
    for (const auto& name : MetricNames()) {
      const auto* spec = projections::FindSpec(name);
      h.push_back(spec != nullptr && spec->type == projections::MetricType::kHistogram);
    }
    return h;
  }();
  return histogram[metric];
}

}  // namespace

Status FactReader::ForEachFact(const std::string& team, EpochMillis from, EpochMillis to,
                               EpochMillis caused_before,
                               const std::function<void(const StoredFact&)>& fn) {
  StoredFact f;
  return ScanFacts(*view_, team, from, to, caused_before, [&](const RawFact& raw) {
    projections::ByteReader r(raw.labels);
    DecodeLabels(r, f.labels);
    f.metric = MetricNames()[raw.metric];
    f.at = raw.at;
    f.value = raw.value;
    f.sequence = raw.sequence;
    f.caused_at = raw.caused_at;
    fn(f);
  });
}

Status FactReader::Feed(const std::string& team, EpochMillis from, EpochMillis to,
                        EpochMillis caused_before, projections::MetricSink& sink,
                        const std::function<void(const StoredFact&)>& on_fact) {
  projections::Labels labels;
  return ForEachFact(team, from, to, caused_before, [&](const StoredFact& f) {
    if (on_fact) on_fact(f);
    WithTeam(f.labels, team, labels);
    if (IsHistogram(MetricIndex(f.metric))) {
      sink.Observe(f.metric, labels, f.value, f.at);
    } else {
      sink.Add(f.metric, labels, f.value, f.at);
    }
  });
}

// The facts summed by series while they are read (a year of a large team is millions of facts;
// a sink's Add per fact looks up its series by name and labels each time), then one Add per
// counter series and the observations of each histogram series, in the order read. A series'
// increments are summed in the order the per-fact path adds them, so the sums are the same
// to the bit.
Status FactReader::FeedTotals(const std::string& team, EpochMillis from, EpochMillis to,
                              EpochMillis caused_before, projections::MetricSink& sink) {
  struct Series {
    EpochMillis first_at = 0;
    double sum = 0;
    std::vector<double> values;
  };
  // Key: the stored metric number and labels, as bytes.
  std::unordered_map<std::string, Series> series;
  std::vector<std::pair<std::string_view, const Series*>> order;  // in first-read order
  std::string key;
  auto status = ScanFacts(*view_, team, from, to, caused_before, [&](const RawFact& f) {
    key.assign(f.key);
    auto found = series.find(key);
    if (found == series.end()) {
      found = series.emplace(key, Series{.first_at = f.at}).first;
      order.emplace_back(found->first, &found->second);  // nodes stay put on rehash
    }
    if (IsHistogram(f.metric)) {
      found->second.values.push_back(f.value);
    } else {
      found->second.sum += f.value;
    }
  });
  if (!status) return status;
  const auto& names = MetricNames();
  projections::Labels stored, labels;
  for (const auto& [k, s] : order) {
    projections::ByteReader r(k);
    const uint64_t metric = r.U64();
    DecodeLabels(r, stored);
    WithTeam(stored, team, labels);
    if (!IsHistogram(metric)) {
      sink.Add(names[metric], labels, s->sum, s->first_at);
      continue;
    }
    for (const double v : s->values) sink.Observe(names[metric], labels, v, s->first_at);
  }
  return Status::Ok();
}

Result<bool> FactReader::Gauges(const std::string& team, EpochMillis at,
                                projections::MetricSink& sink) {
  if (at > pos_time_) return false;
  auto recorded = view_->Get(storage::Column::kProjections, GaugeDayKey(at));
  if (!recorded) return recorded.error();
  if (!*recorded) return false;
  auto blob = view_->Get(storage::Column::kProjections, GaugeKey(team, at));
  if (!blob) return blob.error();
  if (!*blob) return true;  // no gauge of this team at `at`
  const auto& names = MetricNames();
  projections::ByteReader r(**blob);
  projections::Labels stored, labels;
  while (r.ok() && !r.done()) {
    const uint64_t metric = r.U64();
    DecodeLabels(r, stored);
    const double value = r.F64();
    if (!r.ok() || metric >= names.size()) return Error("corrupt metric facts gauges");
    WithTeam(stored, team, labels);
    sink.Set(names[metric], labels, value);
  }
  return true;
}

Status FactReader::StateAt(projections::Pipeline& pipeline, EpochMillis to,
                           projections::MetricSink& tail,
                           const std::function<void(Sequence, const schema::EventView&)>& hook) {
  if (to > pos_time_) {
    State at_position;
    at_position.states_snapshot = states_snapshot_;
    auto states = CheckpointStates(at_position, [&](const std::string& key) {
      return view_->Get(storage::Column::kProjections, key);
    });
    if (!states) return states.error();
    if (!LoadStates(pipeline, *states)) return Error("corrupt metric facts checkpoint");
    return log_.ForEachViewByTime(pos_time_, Sequence(pos_seq_), to,
                                  [&](Sequence seq, schema::EventView& e) {
                                    if (hook) hook(seq, e);
                                    pipeline.Apply(e, tail);
                                    return true;
                                  });
  }
  // Before the position: the latest snapshot at or before `to`, then the events since.
  EpochMillis from = kNoTime;
  {
    auto it = view_->NewIterator(storage::Column::kProjections);
    auto snapshot = LatestSnapshot(*it, to);
    if (!snapshot) return snapshot.error();
    if (*snapshot) {
      from = (*snapshot)->first;
      if (!LoadStates(pipeline, (*snapshot)->second)) return Error("corrupt metric facts snapshot");
    }
  }
  NullSink counted;  // these events' increments are facts already
  auto apply = [&](Sequence, schema::EventView& e) {
    pipeline.Apply(e, counted);
    return true;
  };
  if (from == kNoTime) return log_.ForEachViewByTime(to, apply);
  return log_.ForEachViewByTime(from, Sequence(0), to, apply);
}

}  // namespace teamhealth::projector
