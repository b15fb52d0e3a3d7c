// Zero series at export (Accumulator::AddZeroTeamSeries): every directory team's counters and
// histograms exist from the first scrape, so Prometheus's increase() sees their first increment.
#include <gtest/gtest.h>

#include <string>

#include "teamhealth/projections/accumulator.h"
#include "teamhealth/projections/event_access.h"

namespace teamhealth::projections {
namespace {

const std::map<std::string, int> kTeams = {{"big", 5}, {"small", 4}};

TEST(ZeroSeriesTest, EachTeamGetsItsTeamOnlyCountersAndHistogramsAtZero) {
  Accumulator acc;
  acc.AddZeroTeamSeries(kTeams, 5);
  for (const char* team : {"big", "small"}) {
    const Labels labels = MakeLabels({{"team", team}});
    EXPECT_EQ(acc.counters().at("teamhealth_reassignments_total").at(labels), 0) << team;
    EXPECT_EQ(acc.counters().at("teamhealth_oncall_shift_seconds_total").at(labels), 0) << team;
    const HistogramData& h = acc.histograms().at("teamhealth_pr_pickup_seconds").at(labels);
    EXPECT_EQ(h.count, 0u);
    EXPECT_EQ(h.sum, 0);
    // One count per bound and one for +Inf, all zero.
    EXPECT_EQ(h.bucket_counts.size(), FindSpec("teamhealth_pr_pickup_seconds")->buckets.size() + 1);
    for (uint64_t c : h.bucket_counts) EXPECT_EQ(c, 0u);
  }
}

TEST(ZeroSeriesTest, ClosedLabelsGetEveryValueAndOpenLabelsNone) {
  Accumulator acc;
  acc.AddZeroTeamSeries({{"big", 5}}, 5);
  // period: business, off_hours, sleep (3 series); period x kind: 3 x 2 = 6 series.
  EXPECT_EQ(acc.counters().at("teamhealth_oncall_interruptions_total").size(), 3u);
  EXPECT_EQ(acc.counters().at("teamhealth_oncall_interruptions_total").count(
                MakeLabels({{"period", "off_hours"}, {"team", "big"}})),
            1u);
  EXPECT_EQ(acc.counters().at("teamhealth_direct_interruptions_total").size(), 6u);
  EXPECT_EQ(acc.counters().at("teamhealth_direct_interruptions_total").count(
                MakeLabels({{"kind", "mention"}, {"period", "sleep"}, {"team", "big"}})),
            1u);
  // urgency, item_type and sender_team take open sets of values: no zero series.
  EXPECT_EQ(acc.counters().count("teamhealth_oncall_incidents_total"), 0u);
  EXPECT_EQ(acc.counters().count("teamhealth_work_items_completed_total"), 0u);
  EXPECT_EQ(acc.counters().count("teamhealth_direct_interruptions_by_sender_team_total"), 0u);
  EXPECT_EQ(acc.histograms().count("teamhealth_cycle_time_seconds"), 0u);
  // Gauges are exported by their projections (0 included); per-person series never.
  EXPECT_TRUE(acc.gauges().empty());
  EXPECT_EQ(acc.counters().count("teamhealth_person_oncall_interruptions_total"), 0u);
}

TEST(ZeroSeriesTest, ASeriesThatExistsKeepsItsValue) {
  Accumulator acc;
  const Labels big = MakeLabels({{"team", "big"}});
  acc.Add("teamhealth_reassignments_total", big, 3, 0);
  acc.Observe("teamhealth_pr_review_seconds", big, 120, 0);
  acc.AddZeroTeamSeries({{"big", 5}}, 5);
  EXPECT_EQ(acc.counters().at("teamhealth_reassignments_total").at(big), 3);
  EXPECT_EQ(acc.histograms().at("teamhealth_pr_review_seconds").at(big).count, 1u);
  EXPECT_EQ(acc.histograms().at("teamhealth_pr_review_seconds").at(big).sum, 120);
  // And the increments that follow land on the same series.
  acc.Add("teamhealth_reassignments_total", big, 1, 0);
  EXPECT_EQ(acc.counters().at("teamhealth_reassignments_total").at(big), 4);
}

TEST(ZeroSeriesTest, ASmallTeamGetsNoZeroOfAWithheldFamilyAndNothingMoreIsCountedSuppressed) {
  Accumulator acc;
  acc.Add("teamhealth_oncall_bypass_total", MakeLabels({{"team", "small"}}), 2, 0);
  acc.SuppressSmallTeams(kTeams, 5);
  acc.AddZeroTeamSeries(kTeams, 5);
  const Labels big = MakeLabels({{"team", "big"}});
  const Labels small = MakeLabels({{"team", "small"}});
  // Withheld below min_group_size (section 6): bypass, direct interruptions, time off, pulse.
  EXPECT_EQ(acc.counters().at("teamhealth_oncall_bypass_total").count(small), 0u);
  EXPECT_EQ(acc.counters().at("teamhealth_oncall_bypass_total").at(big), 0);
  EXPECT_EQ(acc.counters().at("teamhealth_time_off_worked_days_total").count(small), 0u);
  EXPECT_EQ(acc.histograms().at("teamhealth_pulse_score").count(small), 0u);
  EXPECT_EQ(acc.histograms().at("teamhealth_pulse_score").count(big), 1u);
  for (const auto& [labels, value] : acc.counters().at("teamhealth_direct_interruptions_total")) {
    EXPECT_EQ(labels.back(), (std::pair<std::string, std::string>{"team", "big"}));
  }
  // Not withheld: the small team's other series are there at 0.
  EXPECT_EQ(acc.counters().at("teamhealth_context_switches_total").at(small), 0);
  // Only the one series that existed was suppressed.
  EXPECT_EQ(acc.gauges().at("teamhealth_privacy_suppressed_series").at({}), 1);
}

}  // namespace
}  // namespace teamhealth::projections
