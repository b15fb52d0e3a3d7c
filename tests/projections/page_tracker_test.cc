// PageTracker::Prune forgets exactly the incidents last paged more than 30 days before `now`,
// whatever the order their pages came in, as a walk of every incident does.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

#include "teamhealth/projections/bytes.h"
#include "teamhealth/projections/pages.h"

namespace teamhealth::projections {
namespace {

constexpr EpochMillis kDay = 86'400'000;

schema::Event Page(const std::string& incident, EpochMillis at, const std::string& person) {
  schema::Event e;
  e.set_id("pagerduty:" + incident + ":" + std::to_string(at));
  e.set_source("pagerduty");
  e.set_type("incident.triggered");
  e.set_occurred_at_ms(at);
  e.mutable_subject()->set_kind("incident");
  e.mutable_subject()->set_id(incident);
  auto* a = e.add_attrs();
  a->set_name("assignees");
  a->mutable_value()->mutable_list_value()->add_values(person);
  return e;
}

// Incident key -> last_at, read back from the tracker's saved state.
std::map<std::string, EpochMillis> Held(const PageTracker& t) {
  std::map<std::string, EpochMillis> held;
  const std::string bytes = t.Save();
  ByteReader r(bytes);
  for (uint64_t n = r.U64(); r.ok() && n > 0; --n) {
    std::string key = r.Str();
    held[key] = r.I64();
    for (uint64_t m = r.U64(); r.ok() && m > 0; --m) r.Str();
  }
  return held;
}

// Random pages to 300 incidents over 120 days, out of order by up to 40 days, pruned now and
// then; after each prune the tracker holds exactly what the definition says, computed here
// from every page applied (the last one applied sets last_at, as in PageTracker::Apply). A
// tracker loaded from a saved state prunes the same.
TEST(PageTrackerTest, PruneForgetsExactlyTheIncidentsLastPagedOverThirtyDaysAgo) {
  std::mt19937_64 rng(7);
  PageTracker tracker(0);
  std::map<std::string, EpochMillis> last_at;  // the model: every incident ever paged
  EpochMillis now = 0;
  int pruned = 0;
  for (int i = 1; i <= 20'000; ++i) {
    now += static_cast<EpochMillis>(rng() % (10 * 60'000));  // ~ 120 days in all
    const EpochMillis at = now - static_cast<EpochMillis>(rng() % (40 * kDay));
    const std::string incident = "Q" + std::to_string(rng() % 300);
    tracker.Apply(Page(incident, at, "p" + std::to_string(rng() % 5)));
    last_at["pagerduty\x1fincident\x1f" + incident] = at;  // the subject key
    if (i % 500 != 0) continue;
    tracker.Prune(now);
    std::erase_if(last_at, [&](const auto& kv) { return now - kv.second > 30 * kDay; });
    ASSERT_EQ(Held(tracker), last_at) << "after the prune at page " << i;
    pruned += 1;
    if (i % 5000 == 0) {
      PageTracker loaded(0);
      ASSERT_TRUE(loaded.Load(tracker.Save()));
      tracker = loaded;
    }
  }
  EXPECT_EQ(pruned, 40);
  EXPECT_LT(last_at.size(), 300u);  // some incidents were forgotten, so the test saw prunes
}

}  // namespace
}  // namespace teamhealth::projections
