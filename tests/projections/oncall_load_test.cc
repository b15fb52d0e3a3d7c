#include "teamhealth/projections/oncall_load.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "scenario.h"
#include "teamhealth/base/time.h"
#include "teamhealth/projections/bytes.h"
#include "teamhealth/projections/event_access.h"

namespace teamhealth::projections {
namespace {

const std::string kDir = std::string(TEAMHEALTH_PROJECTION_TESTS) + "/oncall_load/";
constexpr EpochMillis kNow = 1775001600000;  // 2026-04-01T00:00:00Z
constexpr EpochMillis kMinute = 60'000;

// A PagerDuty incident event on incident `id` listing `assignees`.
schema::Event Incident(const std::string& type, EpochMillis at, const std::string& id,
                       const std::vector<std::string>& assignees) {
  static int n = 0;
  schema::Event e;
  e.set_id("pagerduty:u" + std::to_string(++n));
  e.set_source("pagerduty");
  e.set_type(type);
  e.set_occurred_at_ms(at);
  e.mutable_subject()->set_kind("incident");
  e.mutable_subject()->set_id(id);
  auto* a = e.add_attrs();
  a->set_name("assignees");
  for (const auto& p : assignees) a->mutable_value()->mutable_list_value()->add_values(p);
  if (type == "incident.triggered") {
    a = e.add_attrs();
    a->set_name("urgency");
    a->mutable_value()->set_string_value("high");
  }
  return e;
}

TEST(OncallLoadTest, GoldenScenario) {
  auto directory = testing::LoadDirectory(kDir + "config.toml");
  OncallLoad projection{Settings{}};
  const auto events = testing::LoadEvents(kDir + "events.jsonl");
  const auto acc = testing::Run(projection, directory, events, kNow);
  testing::ExpectMetrics(acc, kDir + "expected.txt");
}

// Stopping after any event and resuming from saved state gives the same result as one pass.
TEST(OncallLoadTest, ResumingFromSavedStateAfterAnyEventGivesTheSameMetrics) {
  testing::ExpectResumingAnywhereMatchesOnePass(
      [] { return std::make_unique<OncallLoad>(Settings{}); }, kDir, kNow);
}

TEST(OncallLoadTest, ReplayingTheScenarioTwiceGivesIdenticalState) {
  testing::ExpectReplayIsDeterministic([] { return std::make_unique<OncallLoad>(Settings{}); },
                                       kDir, kNow);
}

// A page is a person NEWLY listed among an incident's assignees: someone already listed is not
// paged again by an escalation, a re-trigger (PagerDuty v2 sends incident.trigger again for
// the same incident) or a reassignment that keeps them; someone removed and listed again is.
// PA and PB are not in the directory: team "unmapped", UTC, work Mon-Fri 08:00-18:00. All on
// Mon 2026-03-02 (business hours), 5 minutes apart, so the 60 s merge never applies:
//   10:00 triggered  Q1 [PA]      PA newly listed: interruption 1
//   10:05 escalated  Q1 [PA, PB]  PA already listed: no page; PB newly listed: interruption 2
//   10:10 triggered  Q1 [PA, PB]  re-trigger: both already listed: no page
//   10:15 reassigned Q1 [PB]      PB already listed: no page (PA is no longer listed)
//   10:20 reassigned Q1 [PA]      PA newly listed again: interruption 3
// interruptions{period="business",team="unmapped"} = 1 + 1 + 1 = 3. If listed people were
// paged again, the 10:05 PA, 10:10 PA and PB, and 10:15 PB pages (each 300 s after that
// person's previous page) would add 4: 7.
TEST(OncallLoadTest, APersonAlreadyListedOnAnIncidentIsNotPagedAgain) {
  const EpochMillis t = ParseRfc3339("2026-03-02T10:00:00.000Z").value();
  const std::vector<schema::Event> events = {
      Incident("incident.triggered", t, "Q1", {"pagerduty:PA"}),
      Incident("incident.escalated", t + 5 * kMinute, "Q1", {"pagerduty:PA", "pagerduty:PB"}),
      Incident("incident.triggered", t + 10 * kMinute, "Q1", {"pagerduty:PA", "pagerduty:PB"}),
      Incident("incident.reassigned", t + 15 * kMinute, "Q1", {"pagerduty:PB"}),
      Incident("incident.reassigned", t + 20 * kMinute, "Q1", {"pagerduty:PA"}),
  };
  DirectoryView directory({}, {}, WorkPattern{});
  OncallLoad projection{Settings{}};
  const auto acc = testing::Run(projection, directory, events, kNow);
  const Labels unmapped = MakeLabels({{"team", "unmapped"}});
  EXPECT_EQ(testing::CounterValue(acc, "teamhealth_oncall_interruptions_total",
                                  MakeLabels({{"period", "business"}, {"team", "unmapped"}})),
            3);
  // The re-trigger is not a second incident.
  EXPECT_EQ(testing::CounterValue(acc, "teamhealth_oncall_incidents_total",
                                  MakeLabels({{"team", "unmapped"}, {"urgency", "high"}})),
            1);
  EXPECT_EQ(testing::CounterValue(acc, "teamhealth_oncall_escalations_total", unmapped), 1);
  EXPECT_EQ(testing::CounterValue(acc, "teamhealth_oncall_reassignments_total", unmapped), 2);
  EXPECT_EQ(acc.counters().at("teamhealth_oncall_interruptions_total").size(), 1u)
      << "interruptions in another period or team";
}

// The slots' bookings (ShiftLedger) are state: they go 29 days after the shift ended, at the
// prune every 10,000 events, so memory follows the recent shifts, not the history.
TEST(OncallLoadTest, ShiftBookingsArePruned) {
  const EpochMillis t = ParseRfc3339("2026-03-02T00:00:00.000Z").value();
  schema::Event shift;
  shift.set_id("canonical:shift");
  shift.set_source("canonical");
  shift.set_type("oncall.shift");
  shift.set_occurred_at_ms(t);
  shift.mutable_subject()->set_kind("schedule");
  shift.mutable_subject()->set_id("PRUNED-SCHEDULE");
  auto attr = [&](const char* name) {
    auto* a = shift.add_attrs();
    a->set_name(name);
    return a->mutable_value();
  };
  attr("person")->set_string_value("pagerduty:PA");
  attr("start")->set_int_value(t);
  attr("end")->set_int_value(t + 7 * 86'400'000LL);
  OncallLoad p{Settings{}};
  auto pipeline = testing::BorrowingPipeline(p, DirectoryView({}, {}, WorkPattern{}));
  Accumulator acc;
  pipeline->Apply(shift, acc);
  ASSERT_NE(p.Save().find("PRUNED-SCHEDULE"), std::string::npos);
  // 10,000 events 40 days later (33 days after the shift's end): the prune runs once.
  for (int i = 0; i < 10'000; ++i) {
    pipeline->Apply(Incident("incident.acknowledged", t + 40 * 86'400'000LL + i, "Q", {}), acc);
  }
  EXPECT_EQ(p.Save().find("PRUNED-SCHEDULE"), std::string::npos);
  EXPECT_EQ(testing::CounterValue(acc, "teamhealth_oncall_shift_seconds_total",
                                  MakeLabels({{"team", "unmapped"}})),
            7 * 86400);
}

// Incident key -> (last_at, open), read back from the projection's saved state.
std::map<std::string, std::pair<EpochMillis, bool>> HeldIncidents(const OncallLoad& p) {
  std::map<std::string, std::pair<EpochMillis, bool>> held;
  const std::string bytes = p.Save();
  ByteReader r(bytes);
  r.U64();  // format
  r.U64();  // applied
  for (uint64_t n = r.U64(); r.ok() && n > 0; --n) {
    std::string key = r.Str();
    r.Str();  // team
    r.I64();  // triggered_at
    const EpochMillis last_at = r.I64();
    held[key] = {last_at, (r.U64() & 4) != 0};
  }
  return held;
}

// The prune (every 10,000 events, at the event's instant) forgets exactly the incidents that
// are not open and whose last event is more than 30 days before that instant, whatever the
// order events come in: random triggers, acks, escalations, resolves and reopens of 3,000
// incidents over ~700 days, out of order by up to 40 days. After each prune the projection
// holds what the definition says, computed here from every event applied (the last one
// applied sets last_at; open after a first trigger or a reopen, closed after a resolve). A
// state loaded from its own save in between prunes the same.
TEST(OncallLoadTest, PruneForgetsExactlyTheClosedIncidentsInactiveForThirtyDays) {
  constexpr EpochMillis kDay = 86'400'000;
  struct Model {
    EpochMillis last_at = 0;
    bool open = true;
    bool triggered = false;
  };
  const char* kTypes[] = {"incident.triggered", "incident.triggered", "incident.acknowledged",
                          "incident.escalated", "incident.resolved",  "incident.resolved",
                          "incident.resolved",  "incident.reopened"};
  std::mt19937_64 rng(11);
  auto p = std::make_unique<OncallLoad>(Settings{});
  auto pipeline = testing::BorrowingPipeline(*p, DirectoryView({}, {}, WorkPattern{}));
  Accumulator acc;
  std::map<std::string, Model> model;
  EpochMillis now = ParseRfc3339("2025-01-01T00:00:00.000Z").value();
  EpochMillis at = now;
  std::string id = "Q0";
  int prunes = 0, forgotten = 0;
  for (int i = 1; i <= 200'000; ++i) {
    now += static_cast<EpochMillis>(rng() % (10 * kMinute));
    // A quarter of the events come in the same millisecond as the one before, on the same
    // incident (say a resolve and a reopen): last_at alone cannot tell those states apart.
    if (rng() % 4 != 0) {
      at = now - static_cast<EpochMillis>(rng() % (40 * kDay));
      id = "Q" + std::to_string(rng() % 3000);
    }
    const std::string type = kTypes[rng() % 8];
    pipeline->Apply(Incident(type, at, id, {}), acc);
    auto [it, created] = model.try_emplace("pagerduty\x1fincident\x1f" + id);  // the subject key
    Model& m = it->second;
    m.last_at = at;
    if (type == "incident.triggered" && !m.triggered) m.triggered = m.open = true;
    if (type == "incident.resolved") m.open = false;
    if (type == "incident.reopened") m.open = true;
    if (i % 10'000 != 0) continue;
    forgotten += static_cast<int>(std::erase_if(model, [&](const auto& kv) {
      return !kv.second.open && at - kv.second.last_at > 30 * kDay;
    }));
    std::map<std::string, std::pair<EpochMillis, bool>> expected;
    for (const auto& [key, m2] : model) expected[key] = {m2.last_at, m2.open};
    ASSERT_EQ(HeldIncidents(*p), expected) << "after the prune at event " << i;
    prunes += 1;
    if (i % 30'000 == 0) {  // as at a restart: a fresh projection from the saved state
      auto loaded = std::make_unique<OncallLoad>(Settings{});
      ASSERT_TRUE(loaded->Load(p->Save()));
      p = std::move(loaded);
      pipeline = testing::BorrowingPipeline(*p, DirectoryView({}, {}, WorkPattern{}));
    }
  }
  EXPECT_EQ(prunes, 20);
  EXPECT_GT(forgotten, 1000);  // the prunes did forget incidents (and kept others)
}

TEST(OncallLoadTest, LoadRejectsCorruptState) {
  OncallLoad p{Settings{}};
  EXPECT_FALSE(p.Load("\xff\xff"));
}

}  // namespace
}  // namespace teamhealth::projections
