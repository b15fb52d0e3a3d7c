// The report formats (daemon/app/src/report_format.h) for the series of issue 14: the
// sender-team, project-switch and worked-time-off counters as they come, and the pulse
// histogram with its count, mean and distribution of scores. Hand-worked values beside each
// expectation.
#include "report_format.h"

#include <gtest/gtest.h>

#include <string>

namespace teamhealth::app {
namespace {

using projections::Labels;

// 2026-03-02T00:00:00Z .. 2026-03-16T00:00:00Z (14 days).
constexpr EpochMillis kFrom = 1772409600000;
constexpr EpochMillis kTo = kFrom + 14 * 86400000LL;

// One team, "core": 7 DMs or mentions from support and 2 from senders outside the directory,
// 3 switches across projects, 2 person-days worked in time off, 1 member at risk on the new
// signal; pulse answers 4, 2, 5, 4, 3; acknowledgements after 300 s and 360 s.
struct Fixture {
  SeriesValues counters = {
      {"teamhealth_direct_interruptions_by_sender_team_total",
       {{Labels{{"sender_team", "support"}, {"team", "core"}}, 7},
        {Labels{{"sender_team", "unmapped"}, {"team", "core"}}, 2}}},
      {"teamhealth_project_switches_total", {{Labels{{"team", "core"}}, 3}}},
      {"teamhealth_time_off_worked_days_total", {{Labels{{"team", "core"}}, 2}}}};
  SeriesValues gauges = {{"teamhealth_burnout_members_at_risk",
                          {{Labels{{"signal", "time_off_worked_28d"}, {"team", "core"}}, 1}}}};
  SeriesObservations observations = {
      {"teamhealth_pulse_score", {{Labels{{"team", "core"}}, {4, 2, 5, 4, 3}}}},
      {"teamhealth_oncall_time_to_ack_seconds", {{Labels{{"team", "core"}}, {300, 360}}}}};
  ReportTeam team{.name = "core"};

  ReportView View() const {
    return ReportView{.from = kFrom,
                      .to = kTo,
                      .teams = {team},
                      .counters = &counters,
                      .gauges = &gauges,
                      .observations = &observations};
  }
};

// Pulse: count 5, sum 4+2+5+4+3 = 18, mean 18/5 = 3.6 (JsonWriter writes doubles with 17
// significant digits, which read back exactly: 3.6000000000000001 is the double 3.6); sorted
// 2 3 4 4 5, nearest rank: p50 = 3rd = 4, p80 = 4th = 4, p95 = 5th = 5; one 2, one 3, two 4s,
// one 5, no 1.
TEST(ReportFormatTest, JsonPulseHasCountMeanAndDistribution) {
  Fixture f;
  const std::string json = FormatReport(f.View(), ReportFormat::kJson);
  EXPECT_NE(json.find(R"("teamhealth_pulse_score":[{"labels":{},"count":5,"sum":18,)"
                      R"("mean":3.6000000000000001,"p50":4,"p80":4,"p95":5,)"
                      R"("distribution":{"1":0,"2":1,"3":1,"4":2,"5":1}}])"),
            std::string::npos)
      << json;
  // Every histogram has a mean, only score histograms a distribution: ack (300+360)/2 = 330.
  EXPECT_NE(json.find(R"("count":2,"sum":660,"mean":330,"p50":300,"p80":360,"p95":360})"),
            std::string::npos)
      << json;
}

TEST(ReportFormatTest, JsonHasTheNewCountersAndSignal) {
  Fixture f;
  const std::string json = FormatReport(f.View(), ReportFormat::kJson);
  EXPECT_NE(json.find(R"("teamhealth_direct_interruptions_by_sender_team_total":[)"
                      R"({"labels":{"sender_team":"support"},"value":7},)"
                      R"({"labels":{"sender_team":"unmapped"},"value":2}])"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("teamhealth_project_switches_total":[{"labels":{},"value":3}])"),
            std::string::npos);
  EXPECT_NE(json.find(R"("teamhealth_time_off_worked_days_total":[{"labels":{},"value":2}])"),
            std::string::npos);
  EXPECT_NE(json.find(R"({"labels":{"signal":"time_off_worked_28d"},"value":1})"),
            std::string::npos);
}

TEST(ReportFormatTest, CsvHasMeanAndScoreColumns) {
  Fixture f;
  const std::string csv = FormatReport(f.View(), ReportFormat::kCsv);
  // Label columns sender_team and signal (sorted), the numbers, then one column per score.
  EXPECT_EQ(csv.substr(0, csv.find("\r\n")),
            "metric,sender_team,signal,value,count,sum,mean,p50,p80,p95,"
            "score_1,score_2,score_3,score_4,score_5");
  EXPECT_NE(csv.find("\r\nteamhealth_pulse_score,,,,5,18,3.6,4,4,5,0,1,1,2,1\r\n"),
            std::string::npos)
      << csv;
  EXPECT_NE(csv.find("\r\nteamhealth_oncall_time_to_ack_seconds,,,,2,660,330,300,360,360,,,,,"
                     "\r\n"),
            std::string::npos)
      << csv;
  EXPECT_NE(csv.find("\r\nteamhealth_direct_interruptions_by_sender_team_total,support,,7,,,,,"
                     ",,,,,,\r\n"),
            std::string::npos)
      << csv;
}

TEST(ReportFormatTest, CsvWithoutPulseHasNoScoreColumns) {
  Fixture f;
  f.observations.erase("teamhealth_pulse_score");
  const std::string csv = FormatReport(f.View(), ReportFormat::kCsv);
  EXPECT_EQ(csv.substr(0, csv.find("\r\n")),
            "metric,sender_team,signal,value,count,sum,mean,p50,p80,p95");
}

TEST(ReportFormatTest, TableShowsMeanAndDistribution) {
  Fixture f;
  const std::string table = FormatReport(f.View(), ReportFormat::kTable);
  EXPECT_NE(table.find("  teamhealth_pulse_score{} count=5 sum=18 mean=3.6 p50=4 p80=4 p95=5\n"
                       "    distribution: 1=0 2=1 3=1 4=2 5=1\n"),
            std::string::npos)
      << table;
  // Seconds: mean 330 s = 5m 30s.
  EXPECT_NE(table.find("  teamhealth_oncall_time_to_ack_seconds{} count=2 sum=11m mean=5m 30s "
                       "p50=5m p80=6m p95=6m\n"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("  teamhealth_direct_interruptions_by_sender_team_total"
                       "{sender_team=\"support\"} 7\n"),
            std::string::npos);
}

// A team below privacy.min_group_size: the pulse and sender-team series are withheld and named.
TEST(ReportFormatTest, SuppressedPulseIsListedNotShown) {
  Fixture f;
  f.team.hidden = {"teamhealth_direct_interruptions_by_sender_team_total",
                   "teamhealth_pulse_score"};
  const std::string json = FormatReport(f.View(), ReportFormat::kJson);
  EXPECT_EQ(json.find("\"teamhealth_pulse_score\":["), std::string::npos) << json;
  EXPECT_NE(json.find(R"("suppressed":["teamhealth_direct_interruptions_by_sender_team_total",)"
                      R"("teamhealth_pulse_score"])"),
            std::string::npos)
      << json;
}

}  // namespace
}  // namespace teamhealth::app
