// DayMap: values by day number in a sorted vector, against std::map as the model.
#include "teamhealth/projections/day_map.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

namespace teamhealth::projections {
namespace {

std::vector<std::pair<int64_t, int>> Entries(const DayMap<int>& m) {
  return {m.begin(), m.end()};
}
std::vector<std::pair<int64_t, int>> Entries(const std::map<int64_t, int>& m) {
  return {m.begin(), m.end()};
}

TEST(DayMapTest, KeepsDaysInOrderWhateverOrderTheyCome) {
  DayMap<int> m;
  EXPECT_TRUE(m.empty());
  EXPECT_TRUE(m.try_emplace(10).second);
  EXPECT_FALSE(m.try_emplace(10).second);  // the newest, found at the end
  m[10] = 1;
  m[12] = 2;  // after the newest
  m[5] = 3;   // before all
  m[11] = 4;  // between two
  EXPECT_EQ(Entries(m), (std::vector<std::pair<int64_t, int>>{{5, 3}, {10, 1}, {11, 4}, {12, 2}}));
  EXPECT_EQ(m.rbegin()->first, 12);
  EXPECT_EQ(m.find(11)->second, 4);
  EXPECT_EQ(m.find(7), m.end());
  EXPECT_EQ(m.find(13), m.end());
  EXPECT_EQ(m.lower_bound(6)->first, 10);
  EXPECT_EQ(m.lower_bound(13), m.end());
  m.erase(m.begin(), m.lower_bound(11));  // days before 11
  EXPECT_EQ(Entries(m), (std::vector<std::pair<int64_t, int>>{{11, 4}, {12, 2}}));
  m.erase(m.find(12));
  EXPECT_EQ(m.size(), 1u);
}

// Random inserts, lookups and erasures, as burnout and context switching make them: the same
// entries as a std::map after every step.
TEST(DayMapTest, AgreesWithAnOrderedMap) {
  std::mt19937 rng(7);
  DayMap<int> m;
  std::map<int64_t, int> model;
  for (int step = 0; step < 20000; ++step) {
    const int64_t day = static_cast<int64_t>(rng() % 60) - 10;
    switch (rng() % 5) {
      case 0:
      case 1: {
        const auto [it, fresh] = m.try_emplace(day);
        const auto [mit, mfresh] = model.try_emplace(day);
        ASSERT_EQ(fresh, mfresh);
        it->second += step;
        mit->second += step;
        break;
      }
      case 2: {
        const auto it = m.lower_bound(day);
        const auto mit = model.lower_bound(day);
        ASSERT_EQ(it == m.end(), mit == model.end());
        if (mit != model.end()) {
          ASSERT_EQ(it->first, mit->first);
          ASSERT_EQ(it->second, mit->second);
        }
        ASSERT_EQ(m.find(day) == m.end(), !model.contains(day));
        break;
      }
      case 3:
        m.erase(m.begin(), m.lower_bound(day - 30));
        model.erase(model.begin(), model.lower_bound(day - 30));
        break;
      case 4:
        if (auto it = m.find(day); it != m.end()) m.erase(it);
        model.erase(day);
        break;
    }
    ASSERT_EQ(Entries(m), Entries(model)) << "step " << step;
  }
}

}  // namespace
}  // namespace teamhealth::projections
