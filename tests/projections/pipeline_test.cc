// The projection pipeline: one person key per person, one apply loop, the directory preloaded.
#include "teamhealth/projections/pipeline.h"

#include <gtest/gtest.h>

#include "scenario.h"
#include "teamhealth/projections/event_access.h"

namespace teamhealth::projections {
namespace {

// Records the events a projection is given.
class Recorder final : public Projection {
 public:
  std::string_view name() const override { return "recorder"; }
  uint32_t version() const override { return 1; }
  void Apply(const schema::EventView& e, const DirectoryView& d, MetricSink&) override {
    seen.push_back(schema::ToMessage(e));
    teams.push_back(e.actor().empty() ? "" : d.TeamAt(e.actor(), e.occurred_at_ms()));
    actor_ids.push_back(e.actor_id());
    actor_teams.push_back(d.EntryAt(e, e.occurred_at_ms()).team());
    subject_keys.emplace_back(e.subject_key());
  }
  void ExportGauges(EpochMillis, const DirectoryView&, MetricSink&) const override {}
  std::string Save() const override { return {}; }
  bool Load(std::string_view) override { return true; }
  std::vector<schema::Event> seen;
  std::vector<std::string> teams;
  std::vector<schema::PersonId> actor_ids;  // the id stamped on each event's actor
  std::vector<std::string> actor_teams;     // the team of the entry reached by it
  std::vector<std::string> subject_keys;    // the subject key stamped on each event
};

// A list attribute's items, as strings.
std::vector<std::string> Items(const schema::Event& e, std::string_view name) {
  const schema::EventView view(e);
  const auto items = ListAttr(view, name);
  return {items.begin(), items.end()};
}

void Str(schema::Event& e, const char* name, const std::string& v) {
  auto* a = e.add_attrs();
  a->set_name(name);
  a->mutable_value()->set_string_value(v);
}
void List(schema::Event& e, const char* name, std::vector<std::string> vs) {
  auto* a = e.add_attrs();
  a->set_name(name);
  auto* l = a->mutable_value()->mutable_list_value();
  for (auto& v : vs) l->add_values(v);
}

schema::Event Upsert(const std::string& id, const std::string& key,
                     std::vector<std::string> aliases) {
  schema::Event e;
  e.set_id(id);
  e.set_source("directory");
  e.set_type("directory.person_upserted");
  e.set_occurred_at_ms(1000);
  e.mutable_subject()->set_kind("person");
  e.mutable_subject()->set_id(key);
  List(e, "aliases", std::move(aliases));
  List(e, "teams", {"payments"});
  return e;
}

schema::Event Message(const std::string& id, const std::string& actor) {
  schema::Event e;
  e.set_id(id);
  e.set_source("slack");
  e.set_type("chat.message");
  e.set_occurred_at_ms(5000);
  e.set_actor(actor);
  e.mutable_subject()->set_kind("channel");
  e.mutable_subject()->set_id("C1");
  Str(e, "channel_type", "im");
  List(e, "mentions", {"jira:alice", "slack:UZED"});
  List(e, "recipients", {"pagerduty:PALICE"});
  return e;
}

DirectoryView Empty() { return DirectoryView({}, {}, WorkPattern{}); }

TEST(PipelineTest, GaugesOfSomeTeamsAreTheirsInTheFullExport) {
  Settings settings;
  settings.person_metrics = true;  // per-person gauges carry a team label too
  Pipeline pipeline(Empty(), settings);
  auto payments = Upsert("d1", "p:1", {"slack:U1"});
  auto search = Upsert("d2", "p:2", {"slack:U2"});
  search.mutable_attrs(1)->mutable_value()->mutable_list_value()->set_values(0, "search");
  pipeline.Preload(payments);
  pipeline.Preload(search);
  Accumulator all, some;
  pipeline.ExportGauges(10'000, all);
  pipeline.ExportGauges(10'000, some, {"search"});

  std::map<std::string, std::map<Labels, double>> expected;
  for (const auto& [name, series] : all.gauges()) {
    for (const auto& [labels, value] : series) {
      for (const auto& [k, v] : labels) {
        if (k == "team" && v == "search") expected[name][labels] = value;
      }
    }
  }
  EXPECT_EQ(some.gauges(), expected);
  // Each projection's gauges of search, and nothing of payments (which the full export has).
  EXPECT_TRUE(expected.contains("teamhealth_team_members"));
  EXPECT_TRUE(expected.contains("teamhealth_person_burnout_at_risk"));
  EXPECT_TRUE(expected.contains("teamhealth_wip_items"));
  EXPECT_TRUE(expected.contains("teamhealth_oncall_open_incidents"));
  EXPECT_EQ(all.gauges().at("teamhealth_team_members").size(), 2u);
}

TEST(PipelineTest, EveryPersonReferenceBecomesThePersonKey) {
  Recorder r;
  auto pipeline = testing::BorrowingPipeline(r, Empty());
  pipeline->Preload(Upsert("d1", "slack:UALICE", {"jira:alice", "pagerduty:PALICE"}));
  Accumulator acc;
  pipeline->Apply(Message("m1", "jira:alice"), acc);
  ASSERT_EQ(r.seen.size(), 1u);
  const auto& e = r.seen[0];
  EXPECT_EQ(e.actor(), "slack:UALICE");
  EXPECT_EQ(Items(e, "mentions"), (std::vector<std::string>{"slack:UALICE", "slack:UZED"}));
  EXPECT_EQ(Items(e, "recipients"), std::vector<std::string>{"slack:UALICE"});
  EXPECT_EQ(r.teams[0], "payments");  // the directory is asked with the key
}

TEST(PipelineTest, AShiftsPersonAndAWorkItemsAssigneesAreResolvedToo) {
  Recorder r;
  auto pipeline = testing::BorrowingPipeline(r, Empty());
  pipeline->Preload(Upsert("d1", "p:1", {"pagerduty:P1", "jira:a1", "github:a"}));
  Accumulator acc;
  schema::Event shift;
  shift.set_id("s");
  shift.set_type("oncall.shift");
  Str(shift, "person", "pagerduty:P1");
  pipeline->Apply(shift, acc);
  schema::Event assigned;
  assigned.set_id("a");
  assigned.set_type("work_item.assigned");
  Str(assigned, "from", "jira:a1");
  Str(assigned, "to", "jira:other");
  pipeline->Apply(assigned, acc);
  schema::Event review;
  review.set_id("r");
  review.set_type("pull_request.review_requested");
  Str(review, "reviewer", "github:a");
  pipeline->Apply(review, acc);
  schema::Event page;
  page.set_id("i");
  page.set_type("incident.triggered");
  List(page, "assignees", {"pagerduty:P2", "pagerduty:P1"});
  pipeline->Apply(page, acc);
  ASSERT_EQ(r.seen.size(), 4u);
  EXPECT_EQ(StringAttr(r.seen[0], "person"), "p:1");
  EXPECT_EQ(StringAttr(r.seen[1], "from"), "p:1");
  EXPECT_EQ(StringAttr(r.seen[1], "to"), "jira:other");  // a stranger stays itself
  EXPECT_EQ(StringAttr(r.seen[2], "reviewer"), "p:1");
  EXPECT_EQ(Items(r.seen[3], "assignees"), (std::vector<std::string>{"pagerduty:P2", "p:1"}));
}

// The pipeline stamps every event's actor with its id in the directory view: one id per person
// whatever reference an event used, a stranger's own id, and the id stays when the directory
// later lists the stranger (the entry it reaches changes, not the id).
TEST(PipelineTest, TheActorIsStampedWithItsDirectoryId) {
  Recorder r;
  auto pipeline = testing::BorrowingPipeline(r, Empty());
  pipeline->Preload(Upsert("d1", "slack:UALICE", {"jira:alice"}));
  Accumulator acc;
  pipeline->Apply(Message("m1", "jira:alice"), acc);
  pipeline->Apply(Message("m2", "slack:UALICE"), acc);
  pipeline->Apply(Message("m3", "slack:UBOB"), acc);
  schema::Event bob = Upsert("d2", "slack:UBOB", {});
  bob.set_occurred_at_ms(500);  // in force from before m4
  pipeline->Apply(bob, acc);
  pipeline->Apply(Message("m4", "slack:UBOB"), acc);
  ASSERT_EQ(r.actor_ids.size(), 4u);
  EXPECT_NE(r.actor_ids[0], schema::kNoPersonId);
  EXPECT_EQ(r.actor_ids[1], r.actor_ids[0]);  // an alias and the key: one person
  EXPECT_NE(r.actor_ids[2], r.actor_ids[0]);
  EXPECT_EQ(r.actor_ids[3], r.actor_ids[2]);
  EXPECT_EQ(r.actor_teams, (std::vector<std::string>{"payments", "payments", "unmapped",
                                                     "payments"}));
  EXPECT_EQ(r.actor_teams, r.teams);  // by id as by key
}

// The pipeline joins the subject key of an event on a work item, pull request or incident once
// (source, kind and id, by '\x1f'), and no other; SubjectKey gives the same key for a view no
// pipeline applied.
TEST(PipelineTest, TheSubjectKeyIsStampedOnEventsWithASubject) {
  Recorder r;
  auto pipeline = testing::BorrowingPipeline(r, Empty());
  Accumulator acc;
  schema::Event item;
  item.set_id("w1");
  item.set_source("jira");
  item.set_type("work_item.commented");
  item.set_actor("jira:a");
  item.mutable_subject()->set_kind("work_item");
  item.mutable_subject()->set_id("PAY-1");
  schema::Event incident = item;
  incident.set_id("i1");
  incident.set_source("pagerduty");
  incident.set_type("incident.triggered");
  incident.clear_actor();
  incident.mutable_subject()->set_kind("");  // no kind: stamped by its family
  incident.mutable_subject()->set_id("Q1");
  pipeline->Apply(item, acc);
  pipeline->Apply(Message("m1", "jira:a"), acc);
  pipeline->Apply(incident, acc);
  EXPECT_EQ(r.subject_keys,
            (std::vector<std::string>{"jira\x1fwork_item\x1fPAY-1", "", "pagerduty\x1f\x1fQ1"}));
  std::string scratch;
  EXPECT_EQ(SubjectKey(schema::EventView(item), scratch), r.subject_keys[0]);
  EXPECT_EQ(SubjectKey(schema::EventView(incident), scratch), r.subject_keys[2]);
}

// A view stamped by one pipeline and resolved again (by another pipeline) loses the stamp
// before its actor can be rewritten: an id never outlives the reference it was given for.
TEST(PipelineTest, ResolvingAViewAgainDropsItsActorId) {
  const auto e = Message("m", "jira:a1");
  schema::EventView view(e);
  view.set_actor_id(7);
  PersonResolver resolver;
  resolver.Learn(Upsert("d1", "p:1", {"jira:a1"}));
  resolver.Resolve(view);
  EXPECT_EQ(view.actor(), "p:1");
  EXPECT_EQ(view.actor_id(), schema::kNoPersonId);
}

// Resolution rewrites the view, never the bytes it views: a message applied through the
// pipeline keeps its references.
TEST(PipelineTest, ResolutionRewritesTheViewNotTheEvent) {
  PersonResolver resolver;
  resolver.Learn(Upsert("d1", "p:1", {"jira:a1"}));
  const auto e = Message("m", "jira:a1");
  schema::EventView view(e);
  resolver.Resolve(view);
  EXPECT_EQ(view.actor(), "p:1");
  EXPECT_EQ(e.actor(), "jira:a1");
  Recorder r;
  auto pipeline = testing::BorrowingPipeline(r, Empty());
  pipeline->Preload(Upsert("d1", "p:1", {"jira:a1"}));
  Accumulator acc;
  pipeline->Apply(e, acc);
  EXPECT_EQ(r.seen.at(0).actor(), "p:1");
  EXPECT_EQ(e.actor(), "jira:a1");
}

// History recorded before the directory listed an identity belongs to the person when the
// directory is preloaded (reports, rebuilds); learning the alias only while applying means what
// was counted before disagrees with a replay, which the pipeline reports.
TEST(PipelineTest, AnAliasLearnedAfterItsHistorySignalsARebuild) {
  Recorder r;
  auto pipeline = testing::BorrowingPipeline(r, Empty());
  Accumulator acc;
  pipeline->Apply(Message("m1", "jira:alice"), acc);
  pipeline->Apply(Upsert("d1", "slack:UALICE", {}), acc);
  EXPECT_FALSE(pipeline->resolution_changed());  // a new person, no alias
  pipeline->Apply(Upsert("d2", "slack:UALICE", {"jira:alice"}), acc);
  EXPECT_TRUE(pipeline->resolution_changed());
  EXPECT_EQ(r.seen.size(), 1u);  // directory events never reach projections
}

TEST(PipelineTest, PreloadedDirectoryEventsAreNotAppliedAgain) {
  Recorder r;
  auto pipeline = testing::BorrowingPipeline(r, Empty());
  const auto d = Upsert("d1", "slack:UALICE", {"jira:alice"});
  pipeline->Preload(d);
  Accumulator acc;
  pipeline->Apply(d, acc);
  EXPECT_FALSE(pipeline->resolution_changed());
  EXPECT_EQ(pipeline->directory().Members("payments", 2000),
            std::vector<std::string>{"slack:UALICE"});
}

TEST(PipelineTest, PerPersonSeriesAreNamedThroughTheSameResolution) {
  Recorder r;
  auto pipeline = testing::BorrowingPipeline(r, Empty());
  pipeline->Preload(Upsert("d1", "p:1", {"p:old"}));
  const auto names = pipeline->KeyNames({{"p:old", "alice"}, {"slack:UZ", "zed"}});
  EXPECT_EQ(names, (std::map<std::string, std::string>{{"p:1", "alice"}, {"slack:UZ", "zed"}}));
}

}  // namespace
}  // namespace teamhealth::projections
