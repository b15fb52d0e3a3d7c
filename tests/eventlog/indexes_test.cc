// The time and subject indexes built behind the log (docs/design.md sections 3 and 10): the hot
// path writes none, IndexThrough writes them with their checkpoint in one write, and readers
// give the same answers whatever the indexer's lag.
#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <limits>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <tuple>

#include "forwarding_store.h"
#include "log_events.h"
#include "teamhealth/eventlog/compact.h"
#include "teamhealth/eventlog/event_log.h"
#include "teamhealth/eventlog/indexer.h"
#include "teamhealth/eventlog/keys.h"
#include "teamhealth/storage/store.h"
#include "temp_dir.h"
#include "view_difference.h"

namespace teamhealth::eventlog {
namespace {

using testing::ColumnContents;

using storage::Column;
constexpr EpochMillis kNoTime = std::numeric_limits<EpochMillis>::min();

// Records the size of every write and can fail them.
class CountingStore final : public testing::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  Status Write(storage::WriteBatch& batch) override {
    writes.push_back(batch.Count());
    if (fail_writes) return Error("injected: the process died before this write");
    return inner_.Write(batch);
  }
  std::vector<int> writes;
  bool fail_writes = false;
};

// Indexes right after a reader takes its consistent view (`on_view`): the race between the
// indexer and a reader, made to happen every time.
class IndexingOnReadStore final : public testing::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  std::unique_ptr<storage::ReadView> NewReadView() override {
    auto view = inner_.NewReadView();
    if (on_view) on_view();
    return view;
  }
  std::function<void()> on_view;
};

std::optional<uint64_t> StoredCheckpoint(storage::Store& store) {
  auto v = store.Get(Column::kMeta, keys::kIndexedThroughKey);
  EXPECT_TRUE(v.ok());
  if (!v.ok() || !*v) return std::nullopt;
  return keys::ReadU64(**v);
}

// The index keys events 1..`through` of `log` must have, as the old hot path wrote them.
std::set<std::string> ExpectedIndexKeys(EventLog& log, uint64_t through) {
  std::set<std::string> out;
  EXPECT_TRUE(log.ForEach(Sequence(1), [&](Sequence seq, const schema::Event& e) {
                   if (seq.value() > through) return false;
                   out.insert(keys::TimeIndexKey(e.occurred_at_ms(), seq));
                   if (!e.subject().id().empty()) {
                     out.insert(keys::SubjectIndexKey(e.subject().kind(), e.subject().id(), seq));
                   }
                   return true;
                 }).ok());
  return out;
}

// The time and subject index keys of the store (the column also holds the compact column's
// chunks: ChunkKeys).
std::set<std::string> IndexKeys(storage::Store& store) {
  std::set<std::string> out;
  for (const auto& [k, _] : ColumnContents(store, Column::kIndexes)) {
    if (k.starts_with(keys::kTimeIndex) || k.starts_with(keys::kSubjectIndex)) out.insert(k);
  }
  return out;
}

std::set<std::string> ChunkKeys(storage::Store& store) {
  std::set<std::string> out;
  for (const auto& [k, _] : ColumnContents(store, Column::kIndexes)) {
    if (k.starts_with(keys::kCompactChunk)) out.insert(k);
  }
  return out;
}

// A mix of subjects (people, incidents, none), times with ties and before 1970.
std::vector<schema::Event> RandomEvents(std::mt19937_64& rng, const std::string& prefix, int n) {
  std::vector<schema::Event> out;
  for (int i = 0; i < n; ++i) {
    schema::Event e = testing::IncidentEvent(prefix + std::to_string(i),
                                             static_cast<int64_t>(rng() % 40) * 1000 - 5000);
    switch (rng() % 4) {
      case 0:
        e.mutable_subject()->set_kind("person");
        e.mutable_subject()->set_id("p:" + std::to_string(rng() % 5));
        break;
      case 1:
        e.mutable_subject()->set_kind("incident");
        e.mutable_subject()->set_id("Q-" + std::to_string(rng() % 7));
        break;
      case 2:
        e.clear_subject();
        break;
      default:
        e.mutable_subject()->set_kind("person");
        e.mutable_subject()->clear_id();  // not indexed
        break;
    }
    out.push_back(std::move(e));
  }
  return out;
}

using Visit = std::vector<std::pair<uint64_t, std::string>>;  // (sequence, event id)

class IndexesTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen(bool read_only = false) {
    log_.reset();
    store_.reset();
    auto store = storage::Store::Open({dir_.path(), read_only, true});
    ASSERT_TRUE(store.ok()) << store.error().message();
    store_ = std::move(*store);
    auto log = EventLog::Open(*store_, {.read_only = read_only});
    ASSERT_TRUE(log.ok()) << log.error().message();
    log_ = std::move(*log);
  }

  void Append(std::vector<schema::Event> events) {
    IngestBatch b;
    b.events = std::move(events);
    auto r = log_->Append(b);
    ASSERT_TRUE(r.ok()) << r.error().message();
  }

  // Every event in log order: what the readers must agree with.
  struct Row {
    uint64_t seq;
    schema::Event e;
  };
  std::vector<Row> All() {
    std::vector<Row> rows;
    EXPECT_TRUE(log_->ForEach(Sequence(1), [&](Sequence s, const schema::Event& e) {
                       rows.push_back({s.value(), e});
                       return true;
                     }).ok());
    return rows;
  }

  Visit ByTime(EpochMillis after_time, uint64_t after_seq, EpochMillis before, size_t limit) {
    Visit v;
    auto fn = [&](Sequence s, const schema::Event& e) {
      v.emplace_back(s.value(), e.id());
      return v.size() < limit;
    };
    const Status st = after_time == kNoTime
                          ? log_->ForEachByTime(before, fn)
                          : log_->ForEachByTime(after_time, Sequence(after_seq), before, fn);
    EXPECT_TRUE(st.ok()) << st.error().message();
    return v;
  }

  Visit BySubject(const std::string& kind, size_t limit) {
    Visit v;
    const Status st = log_->ForEachOfSubjectKind(kind, [&](Sequence s, const schema::Event& e) {
      v.emplace_back(s.value(), e.id());
      return v.size() < limit;
    });
    EXPECT_TRUE(st.ok()) << st.error().message();
    return v;
  }

  // The readers against a brute-force sort of ForEach, over several windows and positions.
  void ExpectReadersExact(const std::string& when) {
    SCOPED_TRACE(when + " (indexed through " + std::to_string(log_->IndexedSequence().value()) +
                 " of " + std::to_string(log_->LastSequence().value()) + ")");
    const std::vector<Row> rows = All();
    std::vector<std::tuple<EpochMillis, uint64_t, std::string>> by_time;
    EpochMillis newest = kNoTime;
    for (const auto& r : rows) {
      by_time.emplace_back(r.e.occurred_at_ms(), r.seq, r.e.id());
      newest = std::max<EpochMillis>(newest, r.e.occurred_at_ms());
    }
    std::sort(by_time.begin(), by_time.end());
    const size_t all = std::numeric_limits<size_t>::max();
    const std::vector<std::tuple<EpochMillis, uint64_t, EpochMillis>> windows = {
        {kNoTime, 0, std::numeric_limits<EpochMillis>::max()},
        {kNoTime, 0, 0},
        {kNoTime, 0, 12000},
        {-3000, 0, 20000},
        {-3000, 5, 20000},
        {7000, 40, 30000},
        {7000, 1000, 35000}};
    for (const auto& [after_time, after_seq, before] : windows) {
      Visit expected;
      for (const auto& [t, seq, id] : by_time) {
        const bool after = after_time == kNoTime || t > after_time ||
                           (t == after_time && seq > after_seq);
        if (after && t < before) expected.emplace_back(seq, id);
      }
      EXPECT_EQ(ByTime(after_time, after_seq, before, all), expected)
          << "after " << after_time << "/" << after_seq << " before " << before;
      for (size_t limit : {size_t{1}, size_t{7}}) {  // stopping early
        Visit prefix(expected.begin(), expected.begin() + std::min(limit, expected.size()));
        EXPECT_EQ(ByTime(after_time, after_seq, before, limit), prefix);
      }
    }
    for (const std::string kind : {"person", "incident", "nothing"}) {
      std::vector<std::tuple<std::string, uint64_t, std::string>> subjects;
      for (const auto& r : rows) {
        if (r.e.subject().kind() == kind && !r.e.subject().id().empty()) {
          subjects.emplace_back(r.e.subject().id(), r.seq, r.e.id());
        }
      }
      std::sort(subjects.begin(), subjects.end());
      Visit expected;
      for (const auto& [_, seq, id] : subjects) expected.emplace_back(seq, id);
      EXPECT_EQ(BySubject(kind, all), expected) << kind;
      Visit prefix(expected.begin(), expected.begin() + std::min<size_t>(3, expected.size()));
      EXPECT_EQ(BySubject(kind, 3), prefix) << kind;
    }
    auto got = log_->NewestEventTime();
    ASSERT_TRUE(got.ok()) << got.error().message();
    EXPECT_EQ(*got, newest);
    ExpectViewsExact(rows);
  }

  // ForEachView (the compact column through its checkpoint, then the log) gives every event as
  // DecodeView gives its stored record, codes included, from any start, and stops when told.
  void ExpectViewsExact(const std::vector<Row>& rows, std::vector<uint64_t> starts = {}) {
    SCOPED_TRACE("compact column through " + std::to_string(log_->CompactSequence().value()));
    std::vector<std::string> records;  // by sequence - 1
    for (const auto& r : rows) records.push_back(r.e.SerializeAsString());
    const uint64_t last = log_->LastSequence().value();
    const uint64_t compacted = log_->CompactSequence().value();
    starts.insert(starts.end(), {uint64_t{0}, uint64_t{1}, uint64_t{2}, compacted, compacted + 1,
                                 last / 2 + 1, last, last + 1});
    schema::EventView expected;
    for (const uint64_t from : starts) {
      for (const size_t limit : {size_t{3}, std::numeric_limits<size_t>::max()}) {
        uint64_t next = std::max<uint64_t>(from, 1);
        size_t seen = 0;
        const Status st = log_->ForEachView(Sequence(from), [&](Sequence s, schema::EventView& v) {
          EXPECT_EQ(s.value(), next) << "from " << from;
          if (s.value() != next || next > records.size()) return false;
          EXPECT_TRUE(DecodeView(records[next - 1], expected).ok());
          EXPECT_EQ(testing::ViewDifference(v, expected), "") << "event " << next;
          ++next;
          return ++seen < limit;
        });
        ASSERT_TRUE(st.ok()) << st.error().message();
        const uint64_t first = std::max<uint64_t>(from, 1);
        const uint64_t available = last >= first ? last - first + 1 : 0;
        EXPECT_EQ(seen, std::min<uint64_t>(available, limit)) << "from " << from;
      }
    }
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<IndexingOnReadStore> racing_;  // over store_, under log_ when set
  std::unique_ptr<EventLog> log_;
};

TEST_F(IndexesTest, AppendWritesNoIndexKeysButTheFirstWriteStoresTheCheckpoint) {
  EXPECT_FALSE(StoredCheckpoint(*store_));  // Open writes nothing
  Append({testing::IncidentEvent("a", 3000), testing::IncidentEvent("b", 1000)});
  Append({testing::IncidentEvent("c", 2000)});
  EXPECT_TRUE(IndexKeys(*store_).empty());
  EXPECT_EQ(StoredCheckpoint(*store_), 0u);
  EXPECT_EQ(log_->IndexedSequence(), Sequence(0));
  EXPECT_EQ(log_->LastSequence(), Sequence(3));
  ExpectReadersExact("nothing indexed");
}

TEST_F(IndexesTest, IndexThroughWritesTheKeysAndTheCheckpointInOneWrite) {
  Append({testing::IncidentEvent("a", 3000), testing::IncidentEvent("b", 1000),
          testing::IncidentEvent("c", 2000)});
  CountingStore counting(*store_);
  auto log = EventLog::Open(counting);
  ASSERT_TRUE(log.ok());
  EXPECT_TRUE(counting.writes.empty());
  auto n = (*log)->IndexThrough(2);
  ASSERT_TRUE(n.ok()) << n.error().message();
  EXPECT_EQ(*n, 2u);
  // Two events, each a time and a subject key, and the checkpoint.
  ASSERT_EQ(counting.writes, (std::vector<int>{5}));
  EXPECT_EQ(IndexKeys(*store_), ExpectedIndexKeys(**log, 2));
  EXPECT_EQ(StoredCheckpoint(*store_), 2u);
  EXPECT_EQ((*log)->IndexedSequence(), Sequence(2));
  n = (*log)->IndexThrough(100);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1u);
  n = (*log)->IndexThrough(100);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);  // caught up: no write
  EXPECT_EQ(counting.writes, (std::vector<int>{5, 3}));
  EXPECT_EQ(IndexKeys(*store_), ExpectedIndexKeys(**log, 3));
  EXPECT_EQ(StoredCheckpoint(*store_), 3u);
  // Fewer events than a chunk: the compact column waits for more.
  EXPECT_EQ((*log)->CompactSequence(), Sequence(0));
  EXPECT_TRUE(ChunkKeys(*store_).empty());
  // A whole chunk's events: its chunk and checkpoint go in the same write as the index keys.
  std::vector<schema::Event> more;
  for (int i = 0; i < 300; ++i) more.push_back(testing::IncidentEvent("m" + std::to_string(i)));
  IngestBatch batch;
  batch.events = std::move(more);
  ASSERT_TRUE((*log)->Append(batch).ok());
  counting.writes.clear();
  n = (*log)->IndexThrough(1000);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 300u);
  // 300 events' time and subject keys, the checkpoint, one chunk (events 1-256) and its
  // checkpoint; events 257-303 wait for a whole chunk.
  EXPECT_EQ(counting.writes, (std::vector<int>{2 * 300 + 1 + 1 + 1}));
  EXPECT_EQ((*log)->CompactSequence(), Sequence(256));
  EXPECT_EQ(ChunkKeys(*store_), std::set<std::string>{keys::CompactChunkKey(Sequence(1))});
}

TEST_F(IndexesTest, AFailedIndexWriteLeavesTheIndexesAtTheirCheckpoint) {
  Append({testing::IncidentEvent("a"), testing::IncidentEvent("b"), testing::IncidentEvent("c")});
  ASSERT_TRUE(log_->IndexThrough(1).ok());
  CountingStore failing(*store_);
  auto log = EventLog::Open(failing);
  ASSERT_TRUE(log.ok());
  failing.fail_writes = true;
  EXPECT_FALSE((*log)->IndexThrough(10).ok());
  EXPECT_EQ((*log)->IndexedSequence(), Sequence(1));
  EXPECT_EQ(StoredCheckpoint(*store_), 1u);
  EXPECT_EQ(IndexKeys(*store_), ExpectedIndexKeys(*log_, 1));
  failing.fail_writes = false;
  auto n = (*log)->IndexThrough(10);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2u);
  EXPECT_EQ(IndexKeys(*store_), ExpectedIndexKeys(*log_, 3));
}

TEST_F(IndexesTest, ReadersGiveTheSameWhateverTheIndexersLag) {
  const uint64_t seed = std::random_device{}();
  std::printf("seed=%llu\n", static_cast<unsigned long long>(seed));
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  Append(RandomEvents(rng, "x", 120));
  ExpectReadersExact("not built");
  ASSERT_EQ(*log_->IndexThrough(37), 37u);
  ExpectReadersExact("partly built");
  ASSERT_EQ(*log_->IndexThrough(1), 1u);
  ExpectReadersExact("partly built, one more");
  ASSERT_TRUE(log_->IndexAll(50).ok());
  EXPECT_EQ(log_->IndexedSequence(), log_->LastSequence());
  ExpectReadersExact("fully built");
  Append(RandomEvents(rng, "y", 60));
  ExpectReadersExact("built, then more appended");
  // A reader that cannot write (`report` beside a running daemon) merges the same tail.
  Reopen(/*read_only=*/true);
  EXPECT_EQ(log_->IndexedSequence(), Sequence(120));
  ExpectReadersExact("read-only");
}

TEST_F(IndexesTest, AnIndexWriteAfterAReaderTookItsViewIsNotSeenByThatReader) {
  std::mt19937_64 rng(7);
  Append(RandomEvents(rng, "x", 120));
  log_.reset();
  racing_ = std::make_unique<IndexingOnReadStore>(*store_);
  auto log = EventLog::Open(*racing_);
  ASSERT_TRUE(log.ok()) << log.error().message();
  log_ = std::move(*log);
  // Every reader call indexes 4 more events once it holds its view: a reader taking the
  // checkpoint or the index from the live store instead would miss those 4 or read them twice.
  // About 28 reader calls below: the index is still being built through most of them.
  racing_->on_view = [&] { ASSERT_TRUE(log_->IndexThrough(4).ok()); };
  ExpectReadersExact("indexed while read");
  EXPECT_GT(log_->IndexedSequence().value(), 60u);
}

TEST_F(IndexesTest, ReadersCrossSeveralRunsOfFetchedEvents) {
  // The readers fetch events in runs of 32, 64, ... 1,024 (one MultiGet each): 3,300 events are
  // seven runs, with the unindexed tail merged into several of them.
  const uint64_t seed = std::random_device{}();
  std::printf("seed=%llu\n", static_cast<unsigned long long>(seed));
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  Append(RandomEvents(rng, "x", 2500));
  ASSERT_EQ(*log_->IndexThrough(1700), 1700u);
  Append(RandomEvents(rng, "y", 800));
  ExpectReadersExact("partly built, several runs");
  const auto all = std::numeric_limits<size_t>::max();
  const Visit everything = ByTime(kNoTime, 0, std::numeric_limits<EpochMillis>::max(), all);
  ASSERT_EQ(everything.size(), 3300u);
  // Stopping at, before and after the end of a run stops at once.
  for (size_t limit : {31, 32, 33, 96, 97, 2016, 2017, 3299}) {
    EXPECT_EQ(ByTime(kNoTime, 0, std::numeric_limits<EpochMillis>::max(), limit),
              Visit(everything.begin(), everything.begin() + limit))
        << limit;
  }
  ASSERT_TRUE(log_->IndexAll().ok());
  ExpectReadersExact("fully built, several runs");
}

TEST_F(IndexesTest, AReadViewsMultiGetReadsItsSnapshot) {
  // The readers fetch events with ReadView::MultiGet: it must see the view's store, not the
  // live one (storage has no test executable of its own).
  storage::WriteBatch before;
  before.Put(Column::kMeta, "view-a", "1");
  before.Put(Column::kMeta, "view-b", "2");
  ASSERT_TRUE(store_->Write(before).ok());
  auto view = store_->NewReadView();
  storage::WriteBatch after;
  after.Put(Column::kMeta, "view-a", "changed");
  after.Delete(Column::kMeta, "view-b");
  after.Put(Column::kMeta, "view-c", "new");
  ASSERT_TRUE(store_->Write(after).ok());
  const std::vector<std::string> keys = {"view-c", "view-a", "view-b", "view-a"};
  auto got = view->MultiGet(Column::kMeta, keys);
  ASSERT_TRUE(got.ok()) << got.error().message();
  EXPECT_EQ(*got, (std::vector<std::optional<std::string>>{std::nullopt, "1", "2", "1"}));
  auto live = store_->MultiGet(Column::kMeta, keys);
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(*live,
            (std::vector<std::optional<std::string>>{"new", "changed", std::nullopt, "changed"}));
}

TEST_F(IndexesTest, AnEmptyLogHasNoNewestTimeAndNothingToIndex) {
  auto newest = log_->NewestEventTime();
  ASSERT_TRUE(newest.ok());
  EXPECT_EQ(*newest, kNoTime);
  EXPECT_EQ(*log_->IndexThrough(10), 0u);
  EXPECT_EQ(log_->IndexedSequence(), Sequence(0));
  ExpectReadersExact("empty");
}

TEST_F(IndexesTest, ACrashBetweenIndexWritesContinuesWithoutGapsOrDuplicates) {
  const uint64_t seed = std::random_device{}();
  std::printf("seed=%llu\n", static_cast<unsigned long long>(seed));
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  Append(RandomEvents(rng, "x", 100));
  ASSERT_EQ(*log_->IndexThrough(30), 30u);
  Reopen();  // the process died after the first index write
  EXPECT_EQ(log_->IndexedSequence(), Sequence(30));
  EXPECT_EQ(IndexKeys(*store_), ExpectedIndexKeys(*log_, 30));
  ExpectReadersExact("after the crash");
  Append(RandomEvents(rng, "y", 10));
  ASSERT_EQ(*log_->IndexThrough(45), 45u);
  Reopen();
  EXPECT_EQ(log_->IndexedSequence(), Sequence(75));
  ASSERT_EQ(*log_->IndexAll(), 35u);
  EXPECT_EQ(IndexKeys(*store_), ExpectedIndexKeys(*log_, 110));
  ExpectReadersExact("caught up");
}

TEST_F(IndexesTest, ALogWrittenWithIndexesInlineOpensIndexedThroughItsLastSequence) {
  const uint64_t seed = std::random_device{}();
  std::printf("seed=%llu\n", static_cast<unsigned long long>(seed));
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  // What an older build left: index keys beside every event, no checkpoint key.
  Append(RandomEvents(rng, "old", 300));
  {
    storage::WriteBatch wb;
    for (const auto& k : ExpectedIndexKeys(*log_, 300)) wb.Put(Column::kIndexes, k, {});
    wb.Delete(Column::kMeta, keys::kIndexedThroughKey);
    ASSERT_TRUE(store_->Write(wb).ok());
  }
  Reopen();
  EXPECT_EQ(log_->IndexedSequence(), Sequence(300));
  EXPECT_EQ(log_->CompactSequence(), Sequence(0));  // no compact column yet
  EXPECT_FALSE(StoredCheckpoint(*store_));  // opening writes nothing
  ExpectReadersExact("old log, no compact column");
  // The pass writes the compact column's first chunk for the old events, and no index key.
  EXPECT_EQ(*log_->IndexThrough(100), 256u);
  EXPECT_EQ(log_->CompactSequence(), Sequence(256));
  EXPECT_FALSE(StoredCheckpoint(*store_));
  EXPECT_EQ(*log_->IndexThrough(100), 0u);  // 44 events: not a whole chunk
  ExpectReadersExact("old log");
  // The first write of events stores the checkpoint with them.
  Append(RandomEvents(rng, "new", 20));
  EXPECT_EQ(StoredCheckpoint(*store_), 300u);
  EXPECT_EQ(IndexKeys(*store_), ExpectedIndexKeys(*log_, 300));
  ExpectReadersExact("old log, new tail");
  Reopen();
  EXPECT_EQ(log_->IndexedSequence(), Sequence(300));
  EXPECT_EQ(log_->CompactSequence(), Sequence(256));
  ASSERT_EQ(*log_->IndexAll(), 20u);
  EXPECT_EQ(IndexKeys(*store_), ExpectedIndexKeys(*log_, 320));
  ExpectReadersExact("old log, indexed on");
}

TEST_F(IndexesTest, IndexKeysAheadOfTheCheckpointAreNotReadTwice) {
  // An older build opened the log after this one and indexed its appends inline.
  Append({testing::IncidentEvent("a", 1000), testing::IncidentEvent("b", 500)});
  ASSERT_TRUE(log_->IndexThrough(1).ok());
  {
    storage::WriteBatch wb;
    for (const auto& k : ExpectedIndexKeys(*log_, 2)) wb.Put(Column::kIndexes, k, {});
    ASSERT_TRUE(store_->Write(wb).ok());
  }
  ExpectReadersExact("keys ahead");
  EXPECT_EQ(ByTime(kNoTime, 0, 5000, 100),
            (Visit{{2, "canonical:b"}, {1, "canonical:a"}}));
}

TEST_F(IndexesTest, DirectoryAndEraseEventsAreIndexedBehindTheLogToo) {
  auto key = IdentityKey::FromBytes("indexes-test-key-0123456789abcdef", "test key").value();
  Reopen();
  auto log = EventLog::Open(*store_, {.identity_key = key});
  ASSERT_TRUE(log.ok());
  log_ = std::move(*log);
  DirectoryPerson alice{.handle = "alice", .identities = {"slack:U1"}, .teams = {"core"}};
  ASSERT_TRUE(log_->SyncDirectory({alice}, 5000).ok());
  EXPECT_EQ(StoredCheckpoint(*store_), 0u);
  ExpectReadersExact("directory, not indexed");
  ASSERT_EQ(BySubject("person", 10).size(), 1u);
  ASSERT_TRUE(log_->Erase("alice", alice.identities, 6000).ok());
  EXPECT_TRUE(IndexKeys(*store_).empty());
  ExpectReadersExact("erased, not indexed");
  ASSERT_TRUE(log_->IndexAll().ok());
  EXPECT_EQ(IndexKeys(*store_), ExpectedIndexKeys(*log_, 2));
  ExpectReadersExact("indexed");
}

// Events with a long title now and then, so that chunks end by size as well as by count.
std::vector<schema::Event> EventsForChunks(std::mt19937_64& rng, const std::string& prefix,
                                           int n) {
  auto events = RandomEvents(rng, prefix, n);
  for (size_t i = 0; i < events.size(); i += 40) {
    events[i].mutable_subject()->set_title(std::string(20000, 'x'));
  }
  return events;
}

// The first sequence of every chunk of the column, in order.
std::vector<uint64_t> ChunkFirsts(storage::Store& store) {
  std::vector<uint64_t> out;
  for (const auto& k : ChunkKeys(store)) out.push_back(*keys::ReadU64(std::string_view(k).substr(1)));
  return out;
}

// The starts either side of every chunk's first event, and of the checkpoint.
std::vector<uint64_t> StartsAroundChunks(storage::Store& store, uint64_t compacted) {
  std::vector<uint64_t> out;
  for (const uint64_t first : ChunkFirsts(store)) {
    out.insert(out.end(), {first - 1, first, first + 1, first + 100});
  }
  out.insert(out.end(), {compacted - 1, compacted, compacted + 1});
  return out;
}

TEST_F(IndexesTest, TheCompactColumnReadsAlikeFromAnyStartAndAnyChunk) {
  std::mt19937_64 rng(1234);
  Append(EventsForChunks(rng, "x", 700));
  ASSERT_GT(*log_->IndexThrough(300), 0u);
  const uint64_t first_pass = log_->CompactSequence().value();
  // Chunks end at 256 events or past 64 KiB (three long titles, 40 events apart), and only
  // whole chunks are written.
  EXPECT_GT(first_pass, 0u);
  EXPECT_LE(first_pass, 300u);
  ExpectViewsExact(All(), StartsAroundChunks(*store_, first_pass));
  ASSERT_TRUE(log_->IndexAll(1000).ok());
  const uint64_t compacted = log_->CompactSequence().value();
  EXPECT_GT(compacted, first_pass);
  ExpectReadersExact("caught up");
  ExpectViewsExact(All(), StartsAroundChunks(*store_, compacted));
  const auto firsts = ChunkFirsts(*store_);
  ASSERT_FALSE(firsts.empty());
  EXPECT_EQ(firsts.front(), 1u);
  for (size_t i = 1; i < firsts.size(); ++i) {
    EXPECT_LE(firsts[i] - firsts[i - 1], kCompactChunkRecords);
    EXPECT_GE(firsts[i] - firsts[i - 1], 81u);  // at most three long titles a chunk
  }
  // What is left is less than a whole chunk, and within a chunk's events of the end.
  EXPECT_LT(700 - compacted, kCompactChunkRecords);
}

TEST_F(IndexesTest, ATrickleOfEventsStillMakesWholeChunks) {
  // As the indexer follows a daemon that appends an event at a time.
  for (int i = 0; i < 600; ++i) {
    Append({testing::IncidentEvent("t" + std::to_string(i), 1000 + i)});
    ASSERT_TRUE(log_->IndexThrough(50000).ok());
  }
  EXPECT_EQ(log_->IndexedSequence(), Sequence(600));
  EXPECT_EQ(log_->CompactSequence(), Sequence(512));
  EXPECT_EQ(ChunkFirsts(*store_), (std::vector<uint64_t>{1, 257}));
  ExpectReadersExact("trickled");
}

TEST_F(IndexesTest, AMissingChunkIsAnErrorNamingTheEvent) {
  std::mt19937_64 rng(3);
  Append(RandomEvents(rng, "x", 600));
  ASSERT_TRUE(log_->IndexAll(1000).ok());
  ASSERT_EQ(ChunkFirsts(*store_), (std::vector<uint64_t>{1, 257}));
  storage::WriteBatch wb;
  wb.Delete(Column::kIndexes, keys::CompactChunkKey(Sequence(257)));
  ASSERT_TRUE(store_->Write(wb).ok());
  size_t seen = 0;
  const Status st = log_->ForEachView(Sequence(1), [&](Sequence, schema::EventView&) {
    ++seen;
    return true;
  });
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("no event 257"), std::string::npos) << st.error().message();
  EXPECT_EQ(seen, 256u);
}

// Puts a compact checkpoint `bad` can tell apart ("ahead of the log": past its end; "another
// format") and garbage chunks where real ones could be.
void SpoilCompactColumn(storage::Store& store, const std::string& bad, uint64_t last) {
  storage::WriteBatch wb;
  std::string checkpoint;
  keys::AppendU64(checkpoint, bad == "ahead of the log" ? last + 40 : last);
  checkpoint.push_back(bad == "ahead of the log" ? static_cast<char>(kCompactFormat) : 99);
  wb.Put(Column::kMeta, keys::kCompactThroughKey, checkpoint);
  wb.Put(Column::kIndexes, keys::CompactChunkKey(Sequence(last + 3)), "garbage");
  wb.Put(Column::kIndexes, keys::CompactChunkKey(Sequence(2)), "garbage");
  ASSERT_TRUE(store.Write(wb).ok());
}

// A compact column whose checkpoint the log cannot have (past its end: a state directory put
// back from an older copy), or of another format, is not read, and is written again from the
// start, its stale chunks deleted in the first pass.
TEST_F(IndexesTest, AStaleCompactColumnIsWrittenAgainFromTheStart) {
  for (const std::string bad : {"ahead of the log", "another format"}) {
    SCOPED_TRACE(bad);
    std::mt19937_64 rng(11);
    Append(RandomEvents(rng, bad, 300));
    ASSERT_TRUE(log_->IndexAll().ok());
    const uint64_t last = log_->LastSequence().value();
    SpoilCompactColumn(*store_, bad, last);
    Reopen();
    EXPECT_EQ(log_->CompactSequence(), Sequence(0));
    ExpectReadersExact("stale column, not read");
    ASSERT_TRUE(log_->IndexAll().ok());
    EXPECT_GT(log_->CompactSequence().value(), 0u);
    for (const auto& k : ChunkKeys(*store_)) {
      EXPECT_NE(k, keys::CompactChunkKey(Sequence(2)));
      EXPECT_NE(k, keys::CompactChunkKey(Sequence(last + 3)));
    }
    ExpectReadersExact("written again");
    const Sequence compacted = log_->CompactSequence();
    Reopen();
    EXPECT_EQ(log_->CompactSequence(), compacted);
  }
}

// The verdict on a stale column outlives the process: events appended past the stale
// checkpoint before any pass ran do not make it look current at the next open.
TEST_F(IndexesTest, AStaleCompactColumnStaysStaleWhenTheLogGrowsPastItBeforeAPass) {
  std::mt19937_64 rng(5);
  Append(RandomEvents(rng, "a", 300));
  ASSERT_TRUE(log_->IndexAll().ok());
  SpoilCompactColumn(*store_, "ahead of the log", 300);  // checkpoint 340
  Reopen();
  EXPECT_EQ(log_->CompactSequence(), Sequence(0));
  Append(RandomEvents(rng, "b", 60));  // the log now ends at 360, past the stale 340
  Reopen();
  EXPECT_EQ(log_->CompactSequence(), Sequence(0));
  ExpectReadersExact("grown past the stale checkpoint");
  ASSERT_TRUE(log_->IndexAll().ok());
  EXPECT_EQ(ChunkFirsts(*store_), (std::vector<uint64_t>{1}));
  ExpectReadersExact("written again");
}

TEST_F(IndexesTest, TheIndexerFollowsTheLogUntilStopped) {
  std::mutex mu;
  std::condition_variable cv;
  uint64_t seen = 0;
  Indexer indexer(*log_, Indexer::Options{.batch_events = 7}, [&](Sequence s) {
    std::lock_guard lock(mu);
    seen = s.value();
    cv.notify_all();
  });
  std::atomic<bool> stop{false};
  Status status;
  std::thread t([&] { status = indexer.Run(stop); });
  std::mt19937_64 rng(7);
  Append(RandomEvents(rng, "a", 30));
  indexer.Wake();
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return seen == 30; }));
  }
  Append(RandomEvents(rng, "b", 5));
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return seen == 35; }));
  }
  stop.store(true);
  indexer.Wake();
  t.join();
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(IndexKeys(*store_), ExpectedIndexKeys(*log_, 35));
  EXPECT_EQ(StoredCheckpoint(*store_), 35u);
}

}  // namespace
}  // namespace teamhealth::eventlog
