// Privacy at export (docs/design.md section 6): burnout and direct-interruption series of small teams
// are held back, counted; other series are untouched.
#include <gtest/gtest.h>

#include "teamhealth/projections/accumulator.h"
#include "teamhealth/projections/event_access.h"
#include "teamhealth/projections/window.h"

namespace teamhealth::projections {
namespace {

TEST(PrivacyTest, SmallTeamsLoseOnlyTheirSensitiveSeriesAndTheCountSaysHowMany) {
  Accumulator acc;
  const Labels big = MakeLabels({{"team", "big"}});
  const Labels small = MakeLabels({{"team", "small"}});
  acc.Add("teamhealth_direct_interruptions_total",
          MakeLabels({{"kind", "dm"}, {"period", "business"}, {"team", "small"}}), 3, 0);
  acc.Add("teamhealth_direct_interruptions_total",
          MakeLabels({{"kind", "dm"}, {"period", "business"}, {"team", "big"}}), 4, 0);
  acc.Add("teamhealth_oncall_bypass_total", small, 1, 0);
  acc.Add("teamhealth_oncall_interruptions_total",
          MakeLabels({{"period", "sleep"}, {"team", "small"}}), 2, 0);
  acc.Set("teamhealth_burnout_members_at_risk",
          MakeLabels({{"signal", "wip_over_limit"}, {"team", "small"}}), 1);
  acc.Set("teamhealth_burnout_members_at_risk",
          MakeLabels({{"signal", "wip_over_limit"}, {"team", "big"}}), 2);
  acc.Set("teamhealth_burnout_members_at_risk",
          MakeLabels({{"signal", "wip_over_limit"}, {"team", "unmapped"}}), 1);
  acc.Set("teamhealth_team_members", small, 4);

  // big has 5 members (= min_group_size: shown), small 4 (held back), unmapped is no team.
  acc.SuppressSmallTeams({{"big", 5}, {"small", 4}}, 5);

  EXPECT_EQ(acc.counters().at("teamhealth_direct_interruptions_total").size(), 1u);
  EXPECT_EQ(acc.counters().at("teamhealth_direct_interruptions_total").begin()->first,
            MakeLabels({{"kind", "dm"}, {"period", "business"}, {"team", "big"}}));
  EXPECT_TRUE(acc.counters().at("teamhealth_oncall_bypass_total").empty());
  EXPECT_EQ(acc.gauges().at("teamhealth_burnout_members_at_risk").size(), 1u);
  // On-call load and team size are not people-level signals: kept.
  EXPECT_EQ(acc.counters().at("teamhealth_oncall_interruptions_total").size(), 1u);
  EXPECT_EQ(acc.gauges().at("teamhealth_team_members").size(), 1u);
  // 1 direct interruption + 1 bypass + 2 burnout series (small, unmapped).
  EXPECT_EQ(acc.gauges().at("teamhealth_privacy_suppressed_series").at({}), 4);
}

// The team pulse (teamhealth_pulse_score) is held back for a team below min_group_size like
// the burnout series: how a team of four feels is close to how each of the four feels.
TEST(PrivacyTest, APulseHistogramOfASmallTeamIsWithheldAndOfALargeOneExported) {
  Accumulator acc;
  const Labels big = MakeLabels({{"team", "big"}});
  const Labels small = MakeLabels({{"team", "small"}});
  for (double score : {4, 5, 3}) acc.Observe("teamhealth_pulse_score", big, score, 0);
  for (double score : {1, 2}) acc.Observe("teamhealth_pulse_score", small, score, 0);

  acc.SuppressSmallTeams({{"big", 5}, {"small", 4}}, 5);

  const auto& pulse = acc.histograms().at("teamhealth_pulse_score");
  ASSERT_EQ(pulse.size(), 1u);
  EXPECT_EQ(pulse.begin()->first, big);
  EXPECT_EQ(pulse.begin()->second.count, 3u);
  EXPECT_EQ(pulse.begin()->second.sum, 12);
  EXPECT_EQ(acc.gauges().at("teamhealth_privacy_suppressed_series").at({}), 1);
}

// The accumulator finds a series through an index of pointers into its maps: increments after
// a series was erased (suppression, naming people, Load, MergeFrom) or after the accumulator
// was copied or moved must land in the series as the maps hold them now.
// Worked time off of a small team is one person's HR fact: withheld like burnout. Pings by a
// small sender team tell how often one or two people pinged a team: withheld whatever the
// interrupted team's size; `unmapped` and `other` are no directory team and stay.
TEST(PrivacyTest, WorkedTimeOffOfASmallTeamAndPingsOfASmallSenderTeamAreWithheld) {
  const std::string worked = "teamhealth_time_off_worked_days_total";
  const std::string by_sender = "teamhealth_direct_interruptions_by_sender_team_total";
  auto from = [](const char* team, const char* sender) {
    return MakeLabels({{"sender_team", sender}, {"team", team}});
  };
  Accumulator acc;
  acc.Add(worked, MakeLabels({{"team", "small"}}), 3, 0);
  acc.Add(worked, MakeLabels({{"team", "big"}}), 2, 0);
  acc.Add(by_sender, from("big", "solo"), 7, 0);      // solo: a team of 1
  acc.Add(by_sender, from("big", "support"), 5, 0);   // support: 5 members
  acc.Add(by_sender, from("big", "unmapped"), 4, 0);  // strangers
  acc.Add(by_sender, from("big", "other"), 1, 0);     // beyond the cap
  acc.Add(by_sender, from("small", "support"), 2, 0);  // a small interrupted team
  acc.SuppressSmallTeams({{"big", 6}, {"small", 2}, {"solo", 1}, {"support", 5}}, 5);
  EXPECT_EQ(acc.counters().at(worked).size(), 1u);
  EXPECT_EQ(acc.counters().at(worked).at(MakeLabels({{"team", "big"}})), 2);
  const auto& pings = acc.counters().at(by_sender);
  EXPECT_EQ(pings.size(), 3u);
  EXPECT_EQ(pings.at(from("big", "support")), 5);
  EXPECT_EQ(pings.at(from("big", "unmapped")), 4);
  EXPECT_EQ(pings.at(from("big", "other")), 1);
  // small's worked time off, big <- solo and small <- support: 3 series withheld.
  EXPECT_EQ(acc.gauges().at("teamhealth_privacy_suppressed_series").at({}), 3);
}

// Reports and the retro page read a WindowSink: the same sender-team rule as /metrics.
TEST(PrivacyTest, AReportWithholdsThePingsOfASmallSenderTeam) {
  const std::string by_sender = "teamhealth_direct_interruptions_by_sender_team_total";
  WindowSink sink(0, 1000);
  sink.Add(by_sender, MakeLabels({{"sender_team", "solo"}, {"team", "big"}}), 7, 10);
  sink.Add(by_sender, MakeLabels({{"sender_team", "support"}, {"team", "big"}}), 5, 10);
  sink.Add(by_sender, MakeLabels({{"sender_team", "unmapped"}, {"team", "big"}}), 4, 10);
  sink.WithholdSmallGroups({{"big", 6}, {"solo", 1}, {"support", 5}}, 5);
  const auto& pings = sink.counters().at(by_sender);
  EXPECT_EQ(pings.size(), 2u);
  EXPECT_FALSE(pings.contains(MakeLabels({{"sender_team", "solo"}, {"team", "big"}})));
}

// A window with fewer pulse answers than min_group_size shows no pulse: 4 answers of a team of
// 6 would be those 4 people's scores. 5 answers are shown.
TEST(PrivacyTest, AReportWithholdsAPulseOfFewerAnswersThanTheGroupSize) {
  const std::string pulse = "teamhealth_pulse_score";
  const Labels few = MakeLabels({{"team", "few"}});
  const Labels enough = MakeLabels({{"team", "enough"}});
  WindowSink sink(0, 1000);
  for (int i = 0; i < 4; ++i) sink.Observe(pulse, few, 3, 10 + i);
  for (int i = 0; i < 5; ++i) sink.Observe(pulse, enough, 4, 10 + i);
  sink.WithholdSmallGroups({{"few", 6}, {"enough", 6}}, 5);
  EXPECT_FALSE(sink.observations().at(pulse).contains(few));
  EXPECT_EQ(sink.observations().at(pulse).at(enough).size(), 5u);
}

TEST(PrivacyTest, IncrementsAfterSeriesWereErasedCopiedOrLoadedLandWhereTheyShould) {
  const Labels small = MakeLabels({{"team", "small"}});
  const Labels big = MakeLabels({{"team", "big"}});
  Accumulator acc;
  acc.Add("teamhealth_oncall_bypass_total", small, 1, 0);
  acc.Add("teamhealth_oncall_bypass_total", big, 2, 0);
  acc.Observe("teamhealth_oncall_time_to_ack_seconds", small, 30, 0);
  acc.SuppressSmallTeams({{"big", 5}, {"small", 4}}, 5);  // erases small's bypass series
  acc.Add("teamhealth_oncall_bypass_total", small, 10, 0);
  acc.Add("teamhealth_oncall_bypass_total", big, 20, 0);
  EXPECT_EQ(acc.counters().at("teamhealth_oncall_bypass_total").at(small), 10);
  EXPECT_EQ(acc.counters().at("teamhealth_oncall_bypass_total").at(big), 22);

  Accumulator copy = acc;  // its own maps: increments to it leave acc alone
  copy.Add("teamhealth_oncall_bypass_total", big, 100, 0);
  copy.Observe("teamhealth_oncall_time_to_ack_seconds", small, 60, 0);
  EXPECT_EQ(acc.counters().at("teamhealth_oncall_bypass_total").at(big), 22);
  EXPECT_EQ(copy.counters().at("teamhealth_oncall_bypass_total").at(big), 122);
  EXPECT_EQ(acc.histograms().at("teamhealth_oncall_time_to_ack_seconds").at(small).count, 1u);
  EXPECT_EQ(copy.histograms().at("teamhealth_oncall_time_to_ack_seconds").at(small).count, 2u);

  Accumulator moved = std::move(copy);
  moved.Add("teamhealth_oncall_bypass_total", big, 1000, 0);
  EXPECT_EQ(moved.counters().at("teamhealth_oncall_bypass_total").at(big), 1122);

  Accumulator loaded;
  loaded.Add("teamhealth_oncall_bypass_total", big, 5, 0);
  ASSERT_TRUE(loaded.Load(acc.Save()));  // replaces the maps
  loaded.Add("teamhealth_oncall_bypass_total", big, 1, 0);
  EXPECT_EQ(loaded.counters().at("teamhealth_oncall_bypass_total").at(big), 23);

  Accumulator merged;
  merged.Add("teamhealth_oncall_bypass_total", big, 7, 0);
  merged.MergeFrom(acc);
  merged.Add("teamhealth_oncall_bypass_total", big, 1, 0);
  EXPECT_EQ(merged.counters().at("teamhealth_oncall_bypass_total").at(big), 30);
}

}  // namespace
}  // namespace teamhealth::projections
