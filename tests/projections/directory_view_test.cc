// The directory view's person ids (Intern) and the projections' cache of people by id.
#include "teamhealth/projections/directory_view.h"

#include <gtest/gtest.h>

#include "teamhealth/projections/by_person_id.h"

namespace teamhealth::projections {
namespace {

schema::Event Upsert(const std::string& key, const std::string& team, EpochMillis since) {
  schema::Event e;
  e.set_id("d-" + key + "-" + std::to_string(since));
  e.set_type("directory.person_upserted");
  e.set_occurred_at_ms(since);
  e.mutable_subject()->set_kind("person");
  e.mutable_subject()->set_id(key);
  auto* a = e.add_attrs();
  a->set_name("teams");
  a->mutable_value()->mutable_list_value()->add_values(team);
  return e;
}

DirectoryView Empty() { return DirectoryView({}, {}, WorkPattern{}); }

// Services and projects map by "source:name" in the config: the name is what follows the first
// colon (a project may hold colons), looked up by source and name.
TEST(DirectoryViewTest, ServicesAndProjectsMapBySourceAndName) {
  const DirectoryView d({{"pagerduty:PSVC", "payments"}},
                        {{"jira:PAY", "payments"}, {"github:acme/pay:v2", "search"}, {"bad", "x"}},
                        WorkPattern{});
  ASSERT_NE(d.ServiceTeam("pagerduty", "PSVC"), nullptr);
  EXPECT_EQ(*d.ServiceTeam("pagerduty", "PSVC"), "payments");
  EXPECT_EQ(d.ServiceTeam("opsgenie", "PSVC"), nullptr);
  EXPECT_EQ(d.ServiceTeam("pagerduty", "PSV"), nullptr);
  ASSERT_NE(d.ProjectTeam("jira", "PAY"), nullptr);
  EXPECT_EQ(*d.ProjectTeam("jira", "PAY"), "payments");
  ASSERT_NE(d.ProjectTeam("github", "acme/pay:v2"), nullptr);
  EXPECT_EQ(*d.ProjectTeam("github", "acme/pay:v2"), "search");
  EXPECT_EQ(d.ProjectTeam("github", "acme/pay"), nullptr);
  EXPECT_EQ(d.ProjectTeam("jira", "pay"), nullptr);
  EXPECT_EQ(d.ProjectTeam("bad", ""), nullptr);
}

TEST(DirectoryViewTest, AnIdReachesTheSameEntryAsItsKey) {
  DirectoryView d = Empty();
  d.Apply(Upsert("p:1", "payments", 1000));
  d.Apply(Upsert("p:1", "search", 5000));  // moved teams at 5000
  const PersonId id = d.Intern("p:1");
  EXPECT_EQ(d.Intern("p:1"), id);
  EXPECT_EQ(&d.EntryAt(id, 2000), &d.EntryAt("p:1", 2000));
  EXPECT_EQ(d.EntryAt(id, 2000).team(), "payments");
  EXPECT_EQ(d.EntryAt(id, 6000).team(), "search");
  // A stranger has an id and the stranger's entry; an id never given is a stranger too.
  const PersonId stranger = d.Intern("slack:UNKNOWN");
  EXPECT_NE(stranger, id);
  EXPECT_EQ(d.EntryAt(stranger, 2000).team(), "unmapped");
  EXPECT_EQ(d.EntryAt(PersonId{999}, 2000).team(), "unmapped");
  EXPECT_EQ(d.EntryAt(schema::kNoPersonId, 2000).team(), "unmapped");
}

// Save leaves interned strangers out (the bytes are those of a view that never met them), and
// Load changes histories, never ids: a projection may hold them.
TEST(DirectoryViewTest, IdsSurviveALoadAndStrangersAreNotSaved) {
  DirectoryView plain = Empty();
  plain.Apply(Upsert("p:1", "payments", 1000));
  DirectoryView d = Empty();
  const PersonId early = d.Intern("p:2");  // a stranger first
  d.Apply(Upsert("p:1", "payments", 1000));
  const PersonId p1 = d.Intern("p:1");
  d.Intern("slack:UBOT");
  EXPECT_EQ(d.Save(), plain.Save());

  DirectoryView later = Empty();
  later.Apply(Upsert("p:2", "search", 1000));
  later.Apply(Upsert("p:3", "search", 1000));
  ASSERT_TRUE(d.Load(later.Save()));
  EXPECT_EQ(d.Intern("p:2"), early);
  EXPECT_EQ(d.Intern("p:1"), p1);
  EXPECT_EQ(d.EntryAt(early, 2000).team(), "search");
  EXPECT_EQ(d.EntryAt(p1, 2000).team(), "unmapped");  // not in the loaded directory
  EXPECT_EQ(d.EntryAt("p:3", 2000).team(), "search");
  EXPECT_EQ(d.Save(), later.Save());
  EXPECT_EQ(d.Members("search", 2000), (std::vector<std::string>{"p:2", "p:3"}));
  EXPECT_EQ(d.MemberCounts(2000), (std::map<std::string, int>{{"search", 2}}));

  EXPECT_FALSE(d.Load("\x05"));  // truncated: the view is left as it was
  EXPECT_EQ(d.EntryAt(early, 2000).team(), "search");
}

// Each entry carries the id of its team (PersonEntry::team_id, DirectoryView::TeamId), by which
// projections reach their state of the team; a name keeps its id through moves and a Load.
TEST(DirectoryViewTest, EveryEntryCarriesItsTeamsId) {
  DirectoryView d = Empty();
  EXPECT_EQ(d.TeamId("unmapped"), 0u);
  d.Apply(Upsert("p:1", "payments", 1000));
  d.Apply(Upsert("p:1", "search", 5000));
  d.Apply(Upsert("p:2", "payments", 1000));
  const uint32_t payments = d.TeamId("payments"), search = d.TeamId("search");
  EXPECT_NE(payments, search);
  EXPECT_NE(payments, 0u);
  EXPECT_EQ(d.EntryAt("p:1", 2000).team_id, payments);
  EXPECT_EQ(d.EntryAt("p:1", 6000).team_id, search);
  EXPECT_EQ(d.EntryAt("p:2", 6000).team_id, payments);
  EXPECT_EQ(d.EntryAt("slack:UNKNOWN", 6000).team_id, 0u);  // a stranger: unmapped
  // Every team of an entry by id, in the entry's order (context switching compares them).
  schema::Event two = Upsert("p:6", "search", 1000);
  two.mutable_attrs(0)->mutable_value()->mutable_list_value()->add_values("payments");
  d.Apply(two);
  EXPECT_EQ(d.EntryAt("p:6", 2000).team_ids, (std::vector<uint32_t>{search, payments}));
  EXPECT_EQ(d.EntryAt("p:1", 6000).team_ids, (std::vector<uint32_t>{search}));
  EXPECT_TRUE(d.EntryAt("slack:UNKNOWN", 6000).team_ids.empty());  // no teams: no teammates

  DirectoryView other = Empty();
  other.Apply(Upsert("p:3", "search", 1000));  // in another view, search would be 1
  other.Apply(Upsert("p:4", "platform", 1000));
  ASSERT_TRUE(d.Load(other.Save()));
  EXPECT_EQ(d.EntryAt("p:3", 2000).team_id, search);  // this view's id of the name
  EXPECT_EQ(d.EntryAt("p:4", 2000).team_id, d.TeamId("platform"));
  EXPECT_EQ(d.EntryAt("p:4", 2000).team_ids, (std::vector<uint32_t>{d.TeamId("platform")}));
  EXPECT_EQ(d.TeamId("payments"), payments);
  // Bytes that do not load give no ids: the next new name gets the next id.
  const uint32_t next = d.TeamId("fresh");
  EXPECT_FALSE(d.Load(other.Save() + "x"));
  DirectoryView bad = Empty();
  bad.Apply(Upsert("p:5", "never-loaded", 1000));
  EXPECT_FALSE(d.Load(bad.Save() + "x"));
  EXPECT_EQ(d.TeamId("another"), next + 1);
}

// Keys up to ShortKey::kMaxSize bytes are found through the flat table of short keys, longer
// ones by string: both give the same ids, at the boundary, and keys that differ only in length
// (a trailing NUL) or in their last byte stay apart.
TEST(DirectoryViewTest, ShortAndLongKeysKeepTheirIds) {
  DirectoryView d = Empty();
  const std::string k23(ShortKey::kMaxSize, 'a'), k24(ShortKey::kMaxSize + 1, 'a');
  const std::string k23b = k23.substr(0, 22) + "b";
  const std::string nul("a\0", 2);
  std::vector<std::string> keys = {"p:0123456789abcdef", k23, k24, k23b, "a", nul, ""};
  std::vector<PersonId> ids;
  for (const auto& k : keys) ids.push_back(d.Intern(k));
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(ids[i], i) << "key " << i;  // each its own, dense id
    EXPECT_EQ(d.Intern(keys[i]), ids[i]) << "key " << i;  // and the same again
  }
  d.Apply(Upsert(k23, "payments", 1000));
  d.Apply(Upsert(k24, "search", 1000));
  EXPECT_EQ(d.EntryAt(k23, 2000).team(), "payments");
  EXPECT_EQ(d.EntryAt(k24, 2000).team(), "search");
  EXPECT_EQ(d.EntryAt(k23b, 2000).team(), "unmapped");  // interned, not in the directory
  EXPECT_EQ(d.EntryAt("never-seen", 2000).team(), "unmapped");
  EXPECT_EQ(d.Intern(k23), ids[1]);  // Apply keeps the id
  EXPECT_EQ(ShortKey::Of(k23), ShortKey::Of(k23));
  EXPECT_FALSE(ShortKey::Of(k24).has_value());
  EXPECT_FALSE(ShortKey::Of("a") == ShortKey::Of(nul));
}

TEST(ByTeamIdTest, FillsSlotsAndACopyStartsEmpty) {
  int a = 1;
  ByTeamId<int> cache;
  EXPECT_EQ(cache.Slot(3), nullptr);
  cache.Slot(3) = &a;
  EXPECT_EQ(cache.Slot(3), &a);
  ByTeamId<int> copy = cache;
  EXPECT_EQ(copy.Slot(3), nullptr);
  cache.Clear();
  EXPECT_EQ(cache.Slot(3), nullptr);
}

TEST(ByPersonIdTest, FindsByIdAndForgetsOnClear) {
  StringMap<int> people;
  ByPersonId<int> by_id;
  auto [a, fresh] = by_id.FindOrInsert(people, 3, "p:a");
  EXPECT_TRUE(fresh);
  *a = 7;
  auto [again, fresh_again] = by_id.FindOrInsert(people, 3, "p:a");
  EXPECT_FALSE(fresh_again);
  EXPECT_EQ(again, a);
  // Without an id the key is looked up; with one never seen, too (and remembered).
  EXPECT_EQ(by_id.FindOrInsert(people, schema::kNoPersonId, "p:a").first, a);
  EXPECT_EQ(*by_id.FindOrInsert(people, 0, "p:a").first, 7);
  // Once entries are erased (a prune) the cache is cleared, and the person starts afresh.
  people.erase("p:a");
  by_id.Clear();
  auto [b, fresh_b] = by_id.FindOrInsert(people, 3, "p:a");
  EXPECT_TRUE(fresh_b);
  EXPECT_EQ(*b, 0);
  EXPECT_EQ(people.size(), 1u);
}

}  // namespace
}  // namespace teamhealth::projections
