// The definitions table: one place for every setting's name, range and dependants, read by
// config parsing, report --set and the rebuild tags.
#include "teamhealth/projections/definitions.h"

#include <gtest/gtest.h>

#include "teamhealth/config/config.h"

namespace teamhealth::projections {
namespace {

TEST(DefinitionsTest, EveryNameIsUniqueAndItsDefaultIsInRange) {
  std::set<std::string_view> names;
  const Settings defaults;
  for (const auto& d : Definitions()) {
    EXPECT_TRUE(names.insert(d.name).second) << d.name;
    const double v = d.get(defaults);
    EXPECT_GE(v, d.min) << d.name;
    EXPECT_LE(v, d.max) << d.name;
    EXPECT_TRUE(d.section == "metrics" || d.section == "privacy") << d.name;
  }
}

TEST(DefinitionsTest, AValueOutOfRangeNamesTheSettingAndTheRange) {
  Settings s;
  auto st = SetDefinitionFromText(s, "switch_cost_minutes", "-5");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message(), "switch_cost_minutes=-5: must be between 0 and 1440");
  EXPECT_EQ(s.switch_cost_minutes, 15);  // unchanged
  st = SetDefinitionFromText(s, "after_hours_share_14d", "1.5");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message(), "after_hours_share_14d=1.5: must be between 0 and 1");
  st = SetDefinitionFromText(s, "wip_limit", "2.5");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message(), "wip_limit=2.5: must be a whole number");
  st = SetDefinitionFromText(s, "wip_limit", "abc");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message(), "wip_limit=abc: not a number");
  st = SetDefinitionFromText(s, "person_metrics", "1");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message(), "person_metrics=1: must be true or false");
  st = SetDefinitionFromText(s, "no_such_thing", "1");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("no_such_thing: unknown definition (known: "),
            std::string::npos);
}

TEST(DefinitionsTest, ValidValuesLandInTheSettingsTheProjectionsRead) {
  Settings s;
  ASSERT_TRUE(SetDefinitionFromText(s, "session_gap_minutes", "30").ok());
  EXPECT_EQ(s.session_gap_ms, 30 * 60'000);
  ASSERT_TRUE(SetDefinitionFromText(s, "page_merge_seconds", "0").ok());
  EXPECT_EQ(s.page_merge_ms, 0);
  ASSERT_TRUE(SetDefinitionFromText(s, "switch_cost_minutes", "7.5").ok());
  EXPECT_EQ(s.switch_cost_minutes, 7.5);
  ASSERT_TRUE(SetDefinitionFromText(s, "person_metrics", "true").ok());
  EXPECT_TRUE(s.person_metrics);
}

// Config parsing reads the same table: the same value gets the same verdict, with the key.
TEST(DefinitionsTest, ConfigRejectsWhatReportSetRejects) {
  auto bad = config::ParseConfig("[metrics]\nswitch_cost_minutes = -5\n", "t.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find(
                "metrics.switch_cost_minutes=-5: must be between 0 and 1440"),
            std::string::npos)
      << bad.error().message();
  auto wrong_section = config::ParseConfig("[privacy]\nwip_limit = 3\n", "t.toml");
  ASSERT_FALSE(wrong_section.ok());
  EXPECT_NE(wrong_section.error().message().find("privacy.wip_limit: unknown key"),
            std::string::npos);
  auto good = config::ParseConfig(
      "[metrics]\nswitch_cost_minutes = 10\nsession_gap_minutes = 60\n"
      "[privacy]\nmin_group_size = 3\nperson_metrics = true\n",
      "t.toml");
  ASSERT_TRUE(good.ok()) << good.error().message();
  EXPECT_EQ(good->definitions.switch_cost_minutes, 10);
  EXPECT_EQ(good->definitions.session_gap_ms, 3'600'000);
  EXPECT_EQ(good->definitions.min_group_size, 3);
  EXPECT_TRUE(good->definitions.person_metrics);
}

TEST(DefinitionsTest, TagsCoverExactlyTheDefinitionsAProjectionDependsOn) {
  Settings s;
  EXPECT_EQ(DefinitionTag(s, "context_switching"),
            "session_gap_minutes=120;switch_cost_minutes=15;person_metrics=false;"
            "max_sender_teams=20;");
  EXPECT_EQ(DefinitionTag(s, "oncall_load"), "page_merge_seconds=60;person_metrics=false;");
  EXPECT_EQ(DefinitionTag(s, "flow"), "");
  const std::string burnout = DefinitionTag(s, "burnout");
  s.wip_limit = 9;  // a threshold: applied at export, no rebuild
  EXPECT_EQ(DefinitionTag(s, "burnout"), burnout);
  s.no_rest_streak_days = 20;  // also how many days are kept: rebuild
  EXPECT_NE(DefinitionTag(s, "burnout"), burnout);
}

}  // namespace
}  // namespace teamhealth::projections
