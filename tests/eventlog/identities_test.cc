// The keyed identities column (docs/design.md section 6): the key file's rules, keyed hashes
// that a copy of the state directory cannot link to people, the one-time keying of a log
// written before keying, and a wrong key refused at open.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "log_events.h"
#include "teamhealth/base/hash.h"
#include "teamhealth/eventlog/event_log.h"
#include "teamhealth/eventlog/identities.h"
#include "teamhealth/eventlog/identity_key.h"
#include "teamhealth/storage/store.h"
#include "temp_dir.h"

namespace teamhealth::eventlog {
namespace {

using testing::ColumnContents;

using storage::Column;

constexpr const char* kSlack = "slack:U024BE7LH";  // a known person's identity
constexpr const char* kGithub = "github:alice-gh";
constexpr const char* kStranger = "pagerduty:PSTRANGER9";  // in events, not in the directory
constexpr const char* kHandle = "alice";

IdentityKey Key(char fill) {
  return IdentityKey::FromBytes(std::string(32, fill), std::string("key ") + fill).value();
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

DirectoryPerson Alice() {
  return DirectoryPerson{kHandle, {kSlack, kGithub}, {"payments"}, "Europe/London",
                         {"Mon", "Tue"}, "09:00-17:00", "22:00-07:00"};
}

schema::Event Event(const std::string& id, const std::string& actor,
                    const std::vector<std::string>& assignees = {}) {
  schema::Event e = testing::IncidentEvent(id);
  e.set_actor(actor);
  if (!assignees.empty()) {
    auto* a = e.add_attrs();
    a->set_name("assignees");
    for (const auto& p : assignees) a->mutable_value()->mutable_list_value()->add_values(p);
  }
  return e;
}

// A Store that passes everything to another one, records the size of every write and can fail
// writes or compactions, as a crash at that point would leave things.
class RecordingStore final : public storage::Store {
 public:
  explicit RecordingStore(storage::Store& inner) : inner_(inner) {}

  Status Write(storage::WriteBatch& batch) override {
    writes.push_back(batch.Count());
    if (fail_writes) return Error("injected: the process died before this write");
    return inner_.Write(batch);
  }
  Result<std::optional<std::string>> Get(Column column, std::string_view key) override {
    return inner_.Get(column, key);
  }
  Result<std::vector<std::optional<std::string>>> MultiGet(
      Column column, std::span<const std::string> keys) override {
    return inner_.MultiGet(column, keys);
  }
  std::unique_ptr<storage::Iterator> NewIterator(Column column) override {
    return inner_.NewIterator(column);
  }
  std::unique_ptr<storage::ReadView> NewReadView() override { return inner_.NewReadView(); }
  Status FlushAndCompact() override {
    ++compactions;
    if (fail_compaction) return Error("injected: the process died before the compaction");
    return inner_.FlushAndCompact();
  }

  std::vector<int> writes;
  int compactions = 0;
  bool fail_writes = false;
  bool fail_compaction = false;

 private:
  storage::Store& inner_;
};

// Every key and value of every column, concatenated.
std::string Everything(storage::Store& store) {
  std::string all;
  for (int c = 0; c < storage::kColumnCount; ++c) {
    for (const auto& [k, v] : ColumnContents(store, static_cast<Column>(c))) {
      all += k + '\n' + v + '\n';
    }
  }
  return all;
}

// What a copy of the state directory gives away about the people of Alice() and kStranger:
// their raw identities, native ids, handle, and the unkeyed XXH3 hashes anyone can compute from
// a guessed id (as column keys and bare). Empty when nothing is found.
std::vector<std::string> Leaks(storage::Store& store) {
  const std::string all = Everything(store);
  std::vector<std::string> needles = {kSlack, "U024BE7LH", kGithub, "alice-gh", kStranger,
                                      "PSTRANGER9"};
  for (const char* ref : {kSlack, kGithub, kStranger}) {
    needles.push_back(ContentHash(ref));
    needles.push_back("i" + ContentHash(ref));
  }
  needles.push_back(ContentHash(kHandle));
  needles.push_back("h" + ContentHash(kHandle));
  std::vector<std::string> found;
  for (const auto& n : needles) {
    if (all.find(n) != std::string::npos) found.push_back(n);
  }
  return found;
}

std::vector<std::string> EventRecords(storage::Store& store) {
  std::vector<std::string> out;
  for (const auto& [k, v] : ColumnContents(store, Column::kLog)) out.push_back(k + v);
  return out;
}

class IdentitiesTest : public ::testing::Test {
 protected:
  std::unique_ptr<storage::Store> OpenStore(const std::string& dir, bool read_only = false) {
    auto store = storage::Store::Open({dir, read_only, false});
    EXPECT_TRUE(store.ok()) << store.error().message();
    return std::move(*store);
  }

  // Writes Alice (directory and events) and a stranger's events, with `options`. Returns the
  // pseudonyms of kSlack and kStranger.
  std::pair<std::string, std::string> Populate(storage::Store& store, OpenOptions options) {
    auto log = EventLog::Open(store, std::move(options));
    EXPECT_TRUE(log.ok()) << log.error().message();
    IngestBatch early;  // seen before the directory knew her: the directory reuses it
    early.events = {Event("early", kGithub)};
    EXPECT_TRUE((*log)->Append(early).ok());
    EXPECT_TRUE((*log)->SyncDirectory({Alice()}, 5000).ok());
    IngestBatch b;
    b.events = {Event("a", kSlack, {kSlack, kStranger}), Event("b", kStranger)};
    auto r = (*log)->Append(b);
    EXPECT_TRUE(r.ok()) << r.error().message();
    const auto a = (*log)->Read(r->first).value();
    return {a->actor(), (*(*log)->Read(r->last))->actor()};
  }

  testing::TempDir dir_;
  testing::TempDir other_;
  testing::TempDir keys_;  // beside the state directories, as key files belong
};

TEST_F(IdentitiesTest, KeyFileIsReadAsBytesAndRefusedWhenMissingEmptyShortOrInsideTheState) {
  const std::string state = dir_.path() + "/state";
  const std::string missing = keys_.path() + "/missing.key";
  auto r = IdentityKey::FromFile(missing, state);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find(missing), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("cannot read"), std::string::npos) << r.error().message();

  const std::string empty = keys_.path() + "/empty.key";
  WriteFile(empty, "");
  r = IdentityKey::FromFile(empty, state);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find(empty), std::string::npos);
  EXPECT_NE(r.error().message().find("empty"), std::string::npos) << r.error().message();

  const std::string secret15 = "0123456789abcde";
  const std::string short_key = keys_.path() + "/short.key";
  WriteFile(short_key, secret15);
  r = IdentityKey::FromFile(short_key, state);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find(short_key), std::string::npos);
  EXPECT_NE(r.error().message().find("15 bytes"), std::string::npos) << r.error().message();
  EXPECT_EQ(r.error().message().find(secret15), std::string::npos) << "the key in a message";

  r = IdentityKey::FromFile(keys_.path(), state);  // a directory
  EXPECT_FALSE(r.ok());

  // 16 bytes, any bytes (NULs and a newline are part of the key), beside the state: accepted.
  const std::string good = keys_.path() + "/identity.key";
  WriteFile(good, std::string("\0\n23456789abcdef", 16));
  ASSERT_TRUE(IdentityKey::FromFile(good, state).ok());
  EXPECT_EQ(IdentityKey::FromFile(good, state)->origin(), "storage.identity_key_file " + good);
  // A different byte is a different key.
  WriteFile(keys_.path() + "/other.key", std::string("\0\n23456789abcdeF", 16));
  EXPECT_NE(IdentityKey::FromFile(good, state)->Mac("x"),
            IdentityKey::FromFile(keys_.path() + "/other.key", state)->Mac("x"));

  // Inside the state directory, also through `..` and a trailing slash: refused, named.
  std::filesystem::create_directories(state + "/sub");
  WriteFile(state + "/sub/identity.key", std::string(32, 'k'));
  for (const std::string& inside :
       {state + "/sub/identity.key", state + "/../state/sub/identity.key"}) {
    r = IdentityKey::FromFile(inside, state + "/");
    ASSERT_FALSE(r.ok()) << inside;
    EXPECT_NE(r.error().message().find("inside the state directory"), std::string::npos)
        << r.error().message();
  }
  // A sibling whose name starts like the state directory is outside it.
  WriteFile(state + ".identity.key", std::string(32, 'k'));
  EXPECT_TRUE(IdentityKey::FromFile(state + ".identity.key", state).ok());

  // Not configured: no key; configured: the file's rules.
  auto none = LoadIdentityKey("", state);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  EXPECT_FALSE(LoadIdentityKey(empty, state).ok());
}

TEST_F(IdentitiesTest, CreateFileIfMissingWritesAnOwnerOnlyRandomKeyAndKeepsAnExistingOne) {
  const std::string path = keys_.path() + "/demo.identity.key";
  ASSERT_TRUE(IdentityKey::CreateFileIfMissing(path).ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 32);
  const std::string first = IdentityKey::FromFile(path, dir_.path()).value().Mac("x");
  ASSERT_TRUE(IdentityKey::CreateFileIfMissing(path).ok());  // kept, not replaced
  EXPECT_EQ(IdentityKey::FromFile(path, dir_.path()).value().Mac("x"), first);
  const std::string second = keys_.path() + "/second.key";
  ASSERT_TRUE(IdentityKey::CreateFileIfMissing(second).ok());
  EXPECT_NE(IdentityKey::FromFile(second, dir_.path()).value().Mac("x"), first);
}

TEST_F(IdentitiesTest, TheSameIdentityUnderTwoKeysHasDifferentColumnKeys) {
  auto a = OpenStore(dir_.path());
  auto b = OpenStore(other_.path());
  Populate(*a, {.identity_key = Key('a')});
  Populate(*b, {.identity_key = Key('b')});
  const auto ka = ColumnContents(*a, Column::kIdentities);
  const auto kb = ColumnContents(*b, Column::kIdentities);
  ASSERT_EQ(ka.size(), 4u);  // Alice's handle and two identities, the stranger
  ASSERT_EQ(kb.size(), ka.size());
  for (const auto& [k, _] : ka) {
    EXPECT_TRUE(Identities::IsKeyedKey(k)) << k;
    EXPECT_FALSE(kb.contains(k)) << "one column key under two identity keys: " << k;
  }
  // Each is the HMAC of the unkeyed key under its own key, and nothing else.
  const std::string unkeyed = Identities::UnkeyedKey('i', kSlack);
  EXPECT_TRUE(ka.contains(Identities::KeyedKey(Key('a'), unkeyed)));
  EXPECT_TRUE(kb.contains(Identities::KeyedKey(Key('b'), unkeyed)));
}

TEST_F(IdentitiesTest, WithoutTheKeyAKnownIdentityCannotBeLinkedToItsPseudonym) {
  // Written by the legacy (unkeyed) path: the unkeyed hashes ARE there, and link the guessed
  // identities to their pseudonyms. This is what the scan below must not find with a key; if
  // the keyed path hashed without the key, the scan would fail the same way.
  auto legacy = OpenStore(other_.path());
  const auto [legacy_slack, legacy_stranger] = Populate(*legacy, {});
  const auto legacy_ids = ColumnContents(*legacy, Column::kIdentities);
  EXPECT_EQ(legacy_ids.at("i" + ContentHash(kSlack)), legacy_slack);
  EXPECT_EQ(legacy_ids.at("i" + ContentHash(kStranger)), legacy_stranger);
  EXPECT_TRUE(legacy_ids.contains("h" + ContentHash(kHandle)));
  EXPECT_FALSE(Leaks(*legacy).empty());

  // Written with a key: neither an identity, nor a native id, nor the handle, nor any unkeyed
  // hash of them is anywhere in the state, keys or values of any column.
  auto store = OpenStore(dir_.path());
  const auto [slack, stranger] = Populate(*store, {.identity_key = Key('k')});
  EXPECT_EQ(Leaks(*store), std::vector<std::string>{});
  const auto ids = ColumnContents(*store, Column::kIdentities);
  for (const auto& [k, v] : ids) {
    EXPECT_TRUE(Identities::IsKeyedKey(k)) << k;
    EXPECT_EQ(v.substr(0, 2), "p:");
  }
  // The pseudonyms are there; only the key finds the way to them.
  EXPECT_EQ(ids.at(Identities::KeyedKey(Key('k'), "i" + ContentHash(kSlack))), slack);
  EXPECT_EQ(ids.at(Identities::KeyedKey(Key('k'), "i" + ContentHash(kStranger))), stranger);
}

TEST_F(IdentitiesTest, ALogWrittenBeforeKeyingIsKeyedOnceAtOpenInOneWriteWithPseudonymsKept) {
  auto store = OpenStore(dir_.path());
  const auto [slack, stranger] = Populate(*store, {});
  const auto before = ColumnContents(*store, Column::kIdentities);
  const auto events = EventRecords(*store);
  ASSERT_EQ(before.size(), 4u);  // Alice's handle and two identities, the stranger

  RecordingStore recording(*store);
  auto log = EventLog::Open(recording, {.identity_key = Key('k')});
  ASSERT_TRUE(log.ok()) << log.error().message();
  EXPECT_EQ((*log)->identities_keyed_at_open(), before.size());
  // One write re-keys every mapping (a put and a delete each) with the key check and the
  // compaction marker; then the compaction, then the marker's removal.
  ASSERT_EQ(recording.writes.size(), 2u);
  EXPECT_EQ(recording.writes[0], static_cast<int>(2 * before.size() + 2));
  EXPECT_EQ(recording.compactions, 1);

  // Every mapping moved to its keyed column key, pointing at the same pseudonym; the events
  // are byte for byte what they were.
  std::map<std::string, std::string> expected;
  for (const auto& [k, v] : before) expected[Identities::KeyedKey(Key('k'), k)] = v;
  EXPECT_EQ(ColumnContents(*store, Column::kIdentities), expected);
  EXPECT_EQ(EventRecords(*store), events);
  EXPECT_EQ(Leaks(*store), std::vector<std::string>{});

  // People keep their pseudonyms: new events, the directory and names resolve as before.
  IngestBatch b;
  b.events = {Event("after-1", kSlack), Event("after-2", kStranger), Event("after-3", kGithub)};
  auto r = (*log)->Append(b);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ((*(*log)->Read(r->first))->actor(), slack);
  EXPECT_EQ((*(*log)->Read(Sequence(r->first.value() + 1)))->actor(), stranger);
  EXPECT_EQ((*(*log)->Read(r->last))->actor(), slack);
  auto changed = (*log)->SyncDirectory({Alice()}, 9000);
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(*changed, 0);  // the handle's mapping was found: same person, nothing new
  auto names = (*log)->NamesOf({Alice()});
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names->at(slack), kHandle);

  // Once: the next open finds the column keyed and writes nothing.
  log->reset();
  RecordingStore again(*store);
  auto reopened = EventLog::Open(again, {.identity_key = Key('k')});
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->identities_keyed_at_open(), 0u);
  EXPECT_TRUE(again.writes.empty());
  EXPECT_EQ(again.compactions, 0);
}

TEST_F(IdentitiesTest, KeyingIsAllOrNothingWhenTheWriteDoesNotHappen) {
  auto store = OpenStore(dir_.path());
  const auto [slack, stranger] = Populate(*store, {});
  const auto before = ColumnContents(*store, Column::kIdentities);
  const auto meta = ColumnContents(*store, Column::kMeta);

  // The process dies at the write: nothing of the new state exists.
  RecordingStore crashing(*store);
  crashing.fail_writes = true;
  EXPECT_FALSE(EventLog::Open(crashing, {.identity_key = Key('k')}).ok());
  EXPECT_EQ(crashing.writes.size(), 1u);  // the whole migration was that one write
  EXPECT_EQ(ColumnContents(*store, Column::kIdentities), before);
  EXPECT_EQ(ColumnContents(*store, Column::kMeta), meta);

  // The next start keys it.
  auto log = EventLog::Open(*store, {.identity_key = Key('k')});
  ASSERT_TRUE(log.ok()) << log.error().message();
  EXPECT_EQ((*log)->identities_keyed_at_open(), before.size());
  IngestBatch b;
  b.events = {Event("after", kSlack)};
  ASSERT_TRUE((*log)->Append(b).ok());
  EXPECT_EQ((*(*log)->Read((*log)->LastSequence()))->actor(), slack);
}

TEST_F(IdentitiesTest, ACrashBeforeTheCompactionCompactsAtTheNextOpen) {
  auto store = OpenStore(dir_.path());
  Populate(*store, {});
  RecordingStore crashing(*store);
  crashing.fail_compaction = true;
  EXPECT_FALSE(EventLog::Open(crashing, {.identity_key = Key('k')}).ok());
  // The column is keyed (that write happened) ...
  for (const auto& [k, _] : ColumnContents(*store, Column::kIdentities)) {
    EXPECT_TRUE(Identities::IsKeyedKey(k)) << k;
  }
  // ... and the next open, finding the compaction still due, runs it, keying nothing again.
  RecordingStore next(*store);
  auto log = EventLog::Open(next, {.identity_key = Key('k')});
  ASSERT_TRUE(log.ok()) << log.error().message();
  EXPECT_EQ((*log)->identities_keyed_at_open(), 0u);
  EXPECT_EQ(next.compactions, 1);
  RecordingStore after(*store);
  ASSERT_TRUE(EventLog::Open(after, {.identity_key = Key('k')}).ok());
  EXPECT_EQ(after.compactions, 0);
}

TEST_F(IdentitiesTest, AWrongKeyIsRefusedAtOpenInsteadOfGivingEveryoneNewPseudonyms) {
  auto store = OpenStore(dir_.path());
  Populate(*store, {.identity_key = Key('a')});
  const auto before = ColumnContents(*store, Column::kIdentities);
  const auto events = EventRecords(*store);

  auto wrong = EventLog::Open(*store, {.identity_key = Key('b')});
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message().find("key b"), std::string::npos) << wrong.error().message();
  EXPECT_NE(wrong.error().message().find("not the key"), std::string::npos);
  EXPECT_EQ(ColumnContents(*store, Column::kIdentities), before);
  EXPECT_EQ(EventRecords(*store), events);
  // Read-only opens check it too.
  store.reset();
  auto ro = OpenStore(dir_.path(), true);
  EXPECT_FALSE(EventLog::Open(*ro, {.identity_key = Key('b'), .read_only = true}).ok());
  EXPECT_TRUE(EventLog::Open(*ro, {.identity_key = Key('a'), .read_only = true}).ok());
}

TEST_F(IdentitiesTest, AKeyedLogOpenedWithoutItIsReadableButNobodyCanBeLookedUp) {
  auto store = OpenStore(dir_.path());
  const auto [slack, _] = Populate(*store, {.identity_key = Key('k')});
  const auto before = ColumnContents(*store, Column::kIdentities);
  auto log = EventLog::Open(*store);
  ASSERT_TRUE(log.ok()) << log.error().message();
  int n = 0;
  ASSERT_TRUE((*log)->ForEach(Sequence(1), [&](Sequence, const schema::Event&) {
                      return ++n > 0;
                    }).ok());
  EXPECT_EQ(n, 4);  // early, directory upsert, a, b
  IngestBatch b;
  b.events = {Event("new", kSlack)};
  auto appended = (*log)->Append(b);
  ASSERT_FALSE(appended.ok());
  EXPECT_NE(appended.error().message().find("identity_key_file"), std::string::npos)
      << appended.error().message();
  EXPECT_FALSE((*log)->NamesOf({Alice()}).ok());
  EXPECT_FALSE((*log)->SyncDirectory({Alice()}, 9000).ok());
  EXPECT_FALSE((*log)->Erase(kHandle, Alice().identities, 9000).ok());
  EXPECT_EQ(ColumnContents(*store, Column::kIdentities), before);
  EXPECT_EQ((*log)->LastSequence(), Sequence(4));
}

TEST_F(IdentitiesTest, AReadOnlyOpenReadsALogWrittenBeforeKeyingAsItIs) {
  {
    auto store = OpenStore(dir_.path());
    Populate(*store, {});
  }
  auto ro = OpenStore(dir_.path(), true);
  auto log = EventLog::Open(*ro, {.identity_key = Key('k'), .read_only = true});
  ASSERT_TRUE(log.ok()) << log.error().message();
  EXPECT_EQ((*log)->identities_keyed_at_open(), 0u);
  auto names = (*log)->NamesOf({Alice()});
  ASSERT_TRUE(names.ok()) << names.error().message();
  ASSERT_EQ(names->size(), 1u);  // both identities and the handle point at her pseudonym
  EXPECT_EQ(names->begin()->second, kHandle);
  for (const auto& [k, _] : ColumnContents(*ro, Column::kIdentities)) {
    EXPECT_TRUE(Identities::IsUnkeyedKey(k)) << "a read-only open wrote: " << k;
  }
}

TEST_F(IdentitiesTest, EraseWithTheKeyRemovesTheKeyedMappings) {
  auto store = OpenStore(dir_.path());
  const auto [slack, stranger] = Populate(*store, {.identity_key = Key('k')});
  auto log = EventLog::Open(*store, {.identity_key = Key('k')});
  ASSERT_TRUE(log.ok());
  auto erased = (*log)->Erase(kHandle, Alice().identities, 9000);
  ASSERT_TRUE(erased.ok()) << erased.error().message();
  EXPECT_TRUE(*erased);
  const auto ids = ColumnContents(*store, Column::kIdentities);
  for (const auto& [_, v] : ids) EXPECT_NE(v, slack);
  EXPECT_EQ(ids.size(), 1u);  // the stranger's
  IngestBatch b;
  b.events = {Event("after", kSlack)};
  ASSERT_TRUE((*log)->Append(b).ok());
  EXPECT_NE((*(*log)->Read((*log)->LastSequence()))->actor(), slack);
}

}  // namespace
}  // namespace teamhealth::eventlog
