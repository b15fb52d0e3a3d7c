// Privacy at export (docs/design.md section 6): burnout and direct-interruption series of small teams
// are held back, counted; other series are untouched.
#include <gtest/gtest.h>

#include "teamhealth/projections/accumulator.h"
#include "teamhealth/projections/event_access.h"

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

}  // namespace
}  // namespace teamhealth::projections
