// FanOutSink passes the id-based increments on as id-based (so an Accumulator behind it keeps
// its fast path) and they land where the same increments by name land, for counters and
// histograms, in an Accumulator and a WindowSink behind one fan-out.
#include <gtest/gtest.h>

#include "facts.h"
#include "teamhealth/projections/accumulator.h"
#include "teamhealth/projections/window.h"

namespace teamhealth::app {
namespace {

using projections::Accumulator;
using projections::InternSeries;
using projections::Labels;
using projections::MetricSink;
using projections::Series;
using projections::WindowSink;

constexpr std::string_view kBypass = "teamhealth_oncall_bypass_total";
constexpr std::string_view kAck = "teamhealth_oncall_time_to_ack_seconds";

// Counts which calls reach it, then passes them on to an Accumulator.
class CountingSink final : public MetricSink {
 public:
  void Add(std::string_view name, const Labels& labels, double delta, EpochMillis at) override {
    ++by_name;
    acc.Add(name, labels, delta, at);
  }
  void Observe(std::string_view name, const Labels& labels, double value,
               EpochMillis at) override {
    ++by_name;
    acc.Observe(name, labels, value, at);
  }
  void AddSeries(const Series& series, double delta, EpochMillis at) override {
    ++by_id;
    acc.AddSeries(series, delta, at);
  }
  void ObserveSeries(const Series& series, double value, EpochMillis at) override {
    ++by_id;
    acc.ObserveSeries(series, value, at);
  }
  void Set(std::string_view, const Labels&, double) override {}
  int by_name = 0, by_id = 0;
  Accumulator acc;
};

TEST(FanOutSinkTest, IdBasedIncrementsReachEverySinkByIdAndLandWithTheStringOnes) {
  const Labels team{{"team", "core"}};
  const Series& bypass = InternSeries(kBypass, team);
  const Series& ack = InternSeries(kAck, team);
  CountingSink counting;
  Accumulator acc;
  WindowSink window(100, 200);
  FanOutSink fan({&counting, &acc, &window});
  MetricSink& sink = fan;
  sink.AddSeries(bypass, 1, 150);
  sink.Add(kBypass, team, 2, 150);
  sink.AddSeries(bypass, 4, 250);  // outside the window
  sink.ObserveSeries(ack, 45, 150);
  sink.Observe(kAck, team, 30, 150);

  EXPECT_EQ(counting.by_id, 3);
  EXPECT_EQ(counting.by_name, 2);
  for (const Accumulator* a : {&counting.acc, &acc}) {
    EXPECT_EQ(a->counters().at(std::string(kBypass)).at(team), 7);
    const auto& h = a->histograms().at(std::string(kAck)).at(team);
    EXPECT_EQ(h.count, 2u);
    EXPECT_EQ(h.bucket_counts[0], 1u);  // 30 (<= 30)
    EXPECT_EQ(h.bucket_counts[1], 1u);  // 45 (<= 60)
  }
  EXPECT_EQ(window.counters().at(std::string(kBypass)).at(team), 3);
  EXPECT_EQ(window.observations().at(std::string(kAck)).at(team), (std::vector<double>{45, 30}));
}

}  // namespace
}  // namespace teamhealth::app
