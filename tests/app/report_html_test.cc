// The retro page's sections for issue 14 (who pings us, project switches, worked time off, the
// team pulse), rendered from constructed window series. Set TEAMHEALTH_RETRO_PAGE_OUT to a
// directory to keep the pages (for looking at them in a browser, e.g. headless Chromium).
#include "report_html.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <string>

namespace teamhealth::app {
namespace {

using projections::Labels;

constexpr EpochMillis kDay = 86400000;
// [2026-03-02, 2026-03-16) and the previous 14 days.
constexpr EpochMillis kFrom = 1772409600000;
constexpr EpochMillis kTo = kFrom + 14 * kDay;
constexpr EpochMillis kPrevFrom = kFrom - 14 * kDay;

Labels Team(Labels rest = {}) {
  rest.emplace_back("team", "core");
  return rest;
}

// Team "core" of 6 members. Direct interruptions in the window: support 9, sales 4, platform 4,
// unmapped 3, other 1 = 21, of which 6 bypassed the on-call engineer. Context switches 10, 4
// of them across projects; 2 person-days worked in time off, one member at risk on
// time_off_worked_28d. Pulse: 3, 4, 2, 4, 5, 4 now (mean 22/6 = 3.67); 4, 4 before (mean 4).
struct Fixture {
  projections::WindowSink current{kFrom, kTo}, previous{kPrevFrom, kFrom};
  std::vector<Fact> facts;
  RetroPageData data{.team = "core",
                     .zone = "UTC",
                     .zone_reason = "the directory default",
                     .prev_from = kPrevFrom,
                     .from = kFrom,
                     .to = kTo,
                     .members = 6,
                     .min_group_size = 5};

  Fixture() {
    const std::string by_sender = "teamhealth_direct_interruptions_by_sender_team_total";
    for (const auto& [sender, n] : std::vector<std::pair<std::string, double>>{
             {"unmapped", 3}, {"support", 9}, {"other", 1}, {"platform", 4}, {"sales", 4}}) {
      current.Add(by_sender, Team({{"sender_team", sender}}), n, kFrom + kDay);
    }
    current.Add("teamhealth_direct_interruptions_total", Team({{"period", "business"}}), 21,
                kFrom + kDay);
    current.Add("teamhealth_oncall_bypass_total", Team(), 6, kFrom + kDay);
    for (int day = 0; day < 10; ++day) {
      current.Add("teamhealth_context_switches_total", Team(), 1, kFrom + day * kDay);
      facts.push_back({.metric = "teamhealth_context_switches_total", .at = kFrom + day * kDay,
                       .value = 1});
    }
    for (int day = 0; day < 4; ++day) {
      current.Add("teamhealth_project_switches_total", Team(), 1, kFrom + day * kDay);
      facts.push_back({.metric = "teamhealth_project_switches_total", .at = kFrom + day * kDay,
                       .value = 1});
    }
    current.Add("teamhealth_time_off_worked_days_total", Team(), 2, kFrom + 3 * kDay);
    for (const auto& signal : {"any", "time_off_worked_28d", "wip_over_limit"}) {
      current.Set("teamhealth_burnout_members_at_risk", Team({{"signal", signal}}),
                  std::string(signal) == "wip_over_limit" ? 0 : 1);
    }
    for (double score : {3, 4, 2, 4, 5, 4}) {
      current.Observe("teamhealth_pulse_score", Team(), score, kFrom + 2 * kDay);
    }
    for (double score : {4, 4}) {
      previous.Observe("teamhealth_pulse_score", Team(), score, kPrevFrom + kDay);
    }
    data.current = &current;
    data.previous = &previous;
    data.facts = &facts;
  }

  std::string Render(const std::string& name) const {
    std::string page = RenderRetroPage(data);
    if (const char* dir = std::getenv("TEAMHEALTH_RETRO_PAGE_OUT")) {
      std::ofstream(std::string(dir) + "/" + name + ".html") << page;
    }
    return page;
  }
};

std::string Chart(const std::string& page, const std::string& id) {
  const auto start = page.find("<svg data-chart=\"" + id + "\"");
  if (start == std::string::npos) return "";
  return page.substr(start, page.find("</svg>", start) - start);
}

TEST(RetroPageTest, WhoPingsUsLargestFirstOtherAndUnmappedLast) {
  const std::string page = Fixture().Render("core");
  const std::string chart = Chart(page, "senders");
  ASSERT_FALSE(chart.empty()) << page;
  // support 9, then platform and sales tied at 4 (by name), then other 1 and unmapped 3.
  std::vector<std::string> order;
  const std::regex title("<title>([a-z]+): ([0-9]+) direct interruptions</title>");
  for (auto it = std::sregex_iterator(chart.begin(), chart.end(), title);
       it != std::sregex_iterator(); ++it) {
    order.push_back((*it)[1].str() + "=" + (*it)[2].str());
  }
  EXPECT_EQ(order, (std::vector<std::string>{"support=9", "platform=4", "sales=4", "other=1",
                                             "unmapped=3"}));
  // Bypass: 6 of 21 = 28.57 %.
  EXPECT_NE(page.find("6 of the window's 21 direct interruptions (28.57 %)"), std::string::npos);
}

TEST(RetroPageTest, ProjectSwitchesWorkedTimeOffAndPulseInHeadline) {
  const std::string page = Fixture().Render("core");
  auto row = [&](const std::string& key) {
    std::smatch m;
    const std::regex re("<tr data-metric=\"" + key +
                        "\">.*?<td class=\"n now\">(.*?)</td><td class=\"n prev\">(.*?)</td>");
    return std::regex_search(page, m, re) ? m[1].str() + "|" + m[2].str() : "";
  };
  EXPECT_EQ(row("switches"), "10|0");
  EXPECT_EQ(row("project_switches"), "4|0");
  EXPECT_EQ(row("time_off_worked"), "2|0");
  EXPECT_EQ(row("pulse_mean"), "3.67|4");  // 22 / 6 = 3.666.. and (4 + 4) / 2
  // Per day: the project switches are a series beside the context switches.
  EXPECT_NE(Chart(page, "switches").find("03-02 … across projects: 1"), std::string::npos);
}

TEST(RetroPageTest, BurnoutTableHasTheNewSignalAndPulseIsBesideIt) {
  const std::string page = Fixture().Render("core");
  EXPECT_NE(page.find("<tr><td>time_off_worked_28d</td><td class=\"n\">1 of 6</td></tr>"),
            std::string::npos);
  EXPECT_NE(page.find("2 person-days worked during time off in this window"), std::string::npos);
  const auto burnout = page.find("<h2>Burnout signals</h2>");
  const auto pulse = page.find("<h2>Team pulse</h2>");
  ASSERT_NE(burnout, std::string::npos);
  ASSERT_NE(pulse, std::string::npos);
  EXPECT_LT(page.rfind("<section class=\"pair\">", burnout), burnout);
  EXPECT_NE(page.find("<strong>3.67</strong> mean of 6 responses (previous window 4)."),
            std::string::npos);
  // One segment per score answered: 2, 3, 4 (three times) and 5; none for 1.
  const std::string bar = Chart(page, "pulse");
  EXPECT_EQ(bar.find("score 1: 1 responses"), std::string::npos);
  EXPECT_NE(bar.find("<title>score 4: 3 responses</title>"), std::string::npos);
  EXPECT_NE(page.find("score 1: 0</span>"), std::string::npos);  // the legend lists every score
}

TEST(RetroPageTest, SmallTeamWithholdsSendersAndPulse) {
  Fixture f;
  f.data.members = 3;
  f.data.small = true;
  const std::string page = f.Render("small");
  EXPECT_TRUE(Chart(page, "senders").empty());
  EXPECT_TRUE(Chart(page, "pulse").empty());
  EXPECT_EQ(page.find("support"), std::string::npos);
  EXPECT_NE(page.find("<tr data-metric=\"pulse_mean\"><td>Team pulse, mean score (1 to 5)</td>"
                      "<td class=\"n now\">withheld</td>"),
            std::string::npos);
  // Worked time off and project switches are not sensitive: still shown.
  EXPECT_NE(page.find("<tr data-metric=\"time_off_worked\">"), std::string::npos);
}

}  // namespace
}  // namespace teamhealth::app
