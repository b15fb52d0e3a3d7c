// Series resolved once (InternSeries) and incremented by id (issue 13): by id and by name land in
// the same series of every sink, and after anything that erases, relabels, replaces or copies a
// sink's series the id path finds the right one (or a fresh one), never a stale place. Each stale
// case would read a wrong value here (and a freed node under the asan preset).
#include <gtest/gtest.h>

#include <algorithm>
#include <barrier>
#include <string>
#include <thread>
#include <vector>

#include "teamhealth/projections/accumulator.h"
#include "teamhealth/projections/event_access.h"
#include "teamhealth/projections/window.h"

namespace teamhealth::projections {
namespace {

constexpr std::string_view kBypass = "teamhealth_oncall_bypass_total";
constexpr std::string_view kAck = "teamhealth_oncall_time_to_ack_seconds";  // buckets 30, 60, ...
constexpr std::string_view kPerson = "teamhealth_person_direct_interruptions_total";

double CounterAt(const Accumulator& acc, std::string_view name, const Labels& labels) {
  return acc.counters().at(std::string(name)).at(labels);
}
const HistogramData& HistogramAt(const Accumulator& acc, std::string_view name,
                                 const Labels& labels) {
  return acc.histograms().at(std::string(name)).at(labels);
}

TEST(SeriesTest, InterningTheSameNameAndLabelsGivesTheSameSeries) {
  const Labels team = MakeLabels({{"team", "interned"}});
  const Series& a = InternSeries(kBypass, team);
  const Series& b = InternSeries(kBypass, MakeLabels({{"team", "interned"}}));
  const Series& other = InternSeries(kBypass, MakeLabels({{"team", "interned2"}}));
  const Series& other_name = InternSeries("teamhealth_oncall_escalations_total", team);
  EXPECT_EQ(&a, &b);
  EXPECT_EQ(a.name, kBypass);
  EXPECT_EQ(a.labels, team);
  EXPECT_NE(a.id, other.id);
  EXPECT_NE(a.id, other_name.id);
  // Length-prefixed keys: "ab" + "c" is not "a" + "bc".
  EXPECT_NE(InternSeries("x", {{"ab", "c"}}).id, InternSeries("x", {{"a", "bc"}}).id);
}

TEST(SeriesTest, TwoThreadsInterningAtOnceAgreeOnEveryId) {
  // Both threads intern the same 2,000 series, in opposite orders, starting together.
  constexpr int kSeries = 2000;
  std::vector<Labels> labels;
  for (int i = 0; i < kSeries; ++i) labels.push_back({{"team", "concurrent-" + std::to_string(i)}});
  std::vector<const Series*> forward(kSeries), backward(kSeries);
  std::barrier start(2);
  std::thread t1([&] {
    start.arrive_and_wait();
    for (int i = 0; i < kSeries; ++i) forward[i] = &InternSeries(kBypass, labels[i]);
  });
  std::thread t2([&] {
    start.arrive_and_wait();
    for (int i = kSeries - 1; i >= 0; --i) backward[i] = &InternSeries(kBypass, labels[i]);
  });
  t1.join();
  t2.join();
  std::vector<uint32_t> ids;
  for (int i = 0; i < kSeries; ++i) {
    ASSERT_EQ(forward[i], backward[i]) << "series " << i;
    EXPECT_EQ(forward[i]->labels, labels[i]);
    ids.push_back(forward[i]->id);
  }
  // Distinct ids, and dense: these 2,000 new series took 2,000 consecutive ids (nothing else
  // interns while this test runs).
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end());
  EXPECT_EQ(ids.back() - ids.front(), static_cast<uint32_t>(kSeries - 1));
  EXPECT_EQ(&InternSeries(kBypass, labels[7]), forward[7]);
}

// A sink with only the string calls: the id calls reach it through MetricSink's defaults.
class StringOnlySink final : public MetricSink {
 public:
  void Add(std::string_view name, const Labels& labels, double delta, EpochMillis at) override {
    calls.push_back("add " + std::string(name) + " " + labels.at(0).second + " " +
                    std::to_string(delta) + " @" + std::to_string(at));
  }
  void Observe(std::string_view name, const Labels& labels, double value,
               EpochMillis at) override {
    calls.push_back("observe " + std::string(name) + " " + labels.at(0).second + " " +
                    std::to_string(value) + " @" + std::to_string(at));
  }
  void Set(std::string_view, const Labels&, double) override {}
  std::vector<std::string> calls;
};

TEST(SeriesTest, ASinkWithOnlyTheStringCallsReceivesTheIdCallsAsStringCalls) {
  StringOnlySink sink;
  MetricSink& as_sink = sink;
  as_sink.AddSeries(InternSeries(kBypass, {{"team", "a"}}), 2, 7);
  as_sink.ObserveSeries(InternSeries(kAck, {{"team", "b"}}), 45, 8);
  EXPECT_EQ(sink.calls, (std::vector<std::string>{
                            "add teamhealth_oncall_bypass_total a 2.000000 @7",
                            "observe teamhealth_oncall_time_to_ack_seconds b 45.000000 @8"}));
}

TEST(SeriesTest, AccumulatorByIdAndByNameLandInTheSameSeries) {
  const Labels team = MakeLabels({{"team", "core"}});
  const Series& bypass = InternSeries(kBypass, team);
  const Series& ack = InternSeries(kAck, team);
  Accumulator acc;
  acc.AddSeries(bypass, 1, 0);  // first by id: takes the string path, remembers the place
  acc.Add(kBypass, team, 2, 0);
  acc.AddSeries(bypass, 4, 0);  // remembered place
  EXPECT_EQ(CounterAt(acc, kBypass, team), 7);
  EXPECT_EQ(acc.counters().at(std::string(kBypass)).size(), 1u);

  acc.Observe(kAck, team, 30, 0);   // first bucket (<= 30)
  acc.ObserveSeries(ack, 45, 0);    // second (<= 60)
  acc.ObserveSeries(ack, 1e9, 0);   // +Inf
  const HistogramData& h = HistogramAt(acc, kAck, team);
  EXPECT_EQ(h.count, 3u);
  EXPECT_EQ(h.sum, 30 + 45 + 1e9);
  ASSERT_EQ(h.bucket_counts.size(), 11u);  // 10 bounds + Inf, as by name
  EXPECT_EQ(h.bucket_counts[0], 1u);
  EXPECT_EQ(h.bucket_counts[1], 1u);
  EXPECT_EQ(h.bucket_counts[10], 1u);

  // The same series through Accumulator by name only: identical state.
  Accumulator by_name;
  by_name.Add(kBypass, team, 1, 0);
  by_name.Add(kBypass, team, 2, 0);
  by_name.Add(kBypass, team, 4, 0);
  by_name.Observe(kAck, team, 30, 0);
  by_name.Observe(kAck, team, 45, 0);
  by_name.Observe(kAck, team, 1e9, 0);
  EXPECT_EQ(acc.Save(), by_name.Save());
}

TEST(SeriesTest, AHistogramOfAMetricWithoutSpecHasOnlyTheInfBucketByIdToo) {
  const Series& s = InternSeries("not_a_section_7_metric", {});
  Accumulator acc;
  acc.ObserveSeries(s, 3, 0);
  acc.ObserveSeries(s, 4, 0);
  const HistogramData& h = HistogramAt(acc, "not_a_section_7_metric", {});
  EXPECT_EQ(h.bucket_counts, (std::vector<uint64_t>{2}));
  EXPECT_EQ(h.sum, 7);
}

TEST(SeriesTest, AfterSuppressionTheIdPathMakesAFreshSeriesInsteadOfTheErasedOne) {
  const Labels small = MakeLabels({{"team", "small"}});
  const Series& bypass = InternSeries(kBypass, small);
  const Series& pulse = InternSeries("teamhealth_pulse_score", small);
  Accumulator acc;
  acc.AddSeries(bypass, 1, 0);
  acc.ObserveSeries(pulse, 4, 0);
  acc.SuppressSmallTeams({{"small", 2}}, 5);  // erases both nodes
  EXPECT_FALSE(acc.counters().at(std::string(kBypass)).contains(small));
  acc.AddSeries(bypass, 10, 0);
  acc.ObserveSeries(pulse, 2, 0);
  EXPECT_EQ(CounterAt(acc, kBypass, small), 10);
  EXPECT_EQ(HistogramAt(acc, "teamhealth_pulse_score", small).count, 1u);
  EXPECT_EQ(HistogramAt(acc, "teamhealth_pulse_score", small).sum, 2);
}

TEST(SeriesTest, AfterLoadTheIdPathFindsTheLoadedSeries) {
  const Labels team = MakeLabels({{"team", "core"}});
  const Series& bypass = InternSeries(kBypass, team);
  const Series& ack = InternSeries(kAck, team);
  Accumulator saved;
  saved.Add(kBypass, team, 100, 0);
  saved.Observe(kAck, team, 30, 0);

  Accumulator acc;
  acc.AddSeries(bypass, 5, 0);  // remembered, then its map is replaced
  acc.ObserveSeries(ack, 45, 0);
  ASSERT_TRUE(acc.Load(saved.Save()));
  acc.AddSeries(bypass, 1, 0);
  acc.ObserveSeries(ack, 45, 0);
  EXPECT_EQ(CounterAt(acc, kBypass, team), 101);
  EXPECT_EQ(HistogramAt(acc, kAck, team).count, 2u);
  EXPECT_EQ(HistogramAt(acc, kAck, team).sum, 75);

  // A failed Load replaces nothing: the remembered places still hold.
  EXPECT_FALSE(acc.Load("not an accumulator"));
  acc.AddSeries(bypass, 1, 0);
  EXPECT_EQ(CounterAt(acc, kBypass, team), 102);
}

// MergeFrom replaces only families this accumulator has no series of, so no remembered place
// can go stale through it today; it forgets them all the same, and this checks the values.
TEST(SeriesTest, AfterMergeFromTheIdPathFindsTheMergedSeries) {
  const Labels team = MakeLabels({{"team", "core"}});
  const Series& bypass = InternSeries(kBypass, team);
  const Series& ack = InternSeries(kAck, team);
  Accumulator other;
  other.Add(kBypass, team, 100, 0);
  other.Observe(kAck, team, 30, 0);
  other.Add("teamhealth_oncall_escalations_total", team, 3, 0);

  Accumulator acc;
  acc.AddSeries(bypass, 5, 0);
  acc.ObserveSeries(ack, 45, 0);
  acc.MergeFrom(other);
  acc.AddSeries(bypass, 1, 0);
  acc.ObserveSeries(ack, 45, 0);
  acc.AddSeries(InternSeries("teamhealth_oncall_escalations_total", team), 1, 0);
  EXPECT_EQ(CounterAt(acc, kBypass, team), 106);
  EXPECT_EQ(CounterAt(acc, "teamhealth_oncall_escalations_total", team), 4);
  EXPECT_EQ(HistogramAt(acc, kAck, team).count, 3u);
  EXPECT_EQ(CounterAt(other, kBypass, team), 100);  // the source is left alone
}

TEST(SeriesTest, AfterNamePeopleTheIdPathOfAPseudonymIsAFreshSeriesNotTheRenamedOne) {
  // NamePeople moves a series' node under the new label: a remembered place would now be the
  // handle's series.
  const Labels pseudonym = MakeLabels({{"person", "p-1"}, {"team", "core"}});
  const Labels handle = MakeLabels({{"person", "alice"}, {"team", "core"}});
  const Series& by_pseudonym = InternSeries(kPerson, pseudonym);
  Accumulator acc;
  acc.AddSeries(by_pseudonym, 3, 0);
  acc.NamePeople({{"p-1", "alice"}});
  EXPECT_EQ(CounterAt(acc, kPerson, handle), 3);
  acc.AddSeries(by_pseudonym, 1, 0);
  EXPECT_EQ(CounterAt(acc, kPerson, handle), 3);
  EXPECT_EQ(CounterAt(acc, kPerson, pseudonym), 1);
}

TEST(SeriesTest, ACopiedAccumulatorIncrementsItsOwnSeriesById) {
  const Labels team = MakeLabels({{"team", "core"}});
  const Series& bypass = InternSeries(kBypass, team);
  const Series& ack = InternSeries(kAck, team);
  Accumulator acc;
  acc.AddSeries(bypass, 1, 0);
  acc.ObserveSeries(ack, 30, 0);

  Accumulator copy = acc;
  copy.AddSeries(bypass, 10, 0);
  copy.ObserveSeries(ack, 30, 0);
  EXPECT_EQ(CounterAt(acc, kBypass, team), 1);
  EXPECT_EQ(CounterAt(copy, kBypass, team), 11);
  EXPECT_EQ(HistogramAt(acc, kAck, team).count, 1u);
  EXPECT_EQ(HistogramAt(copy, kAck, team).count, 2u);

  Accumulator assigned;
  assigned.AddSeries(bypass, 50, 0);  // remembered, then its maps are assigned over
  assigned = acc;
  assigned.AddSeries(bypass, 100, 0);
  EXPECT_EQ(CounterAt(acc, kBypass, team), 1);
  EXPECT_EQ(CounterAt(assigned, kBypass, team), 101);
}

TEST(SeriesTest, AMovedAccumulatorAndTheOneMovedOverKeepTheirOwnSeries) {
  const Labels team = MakeLabels({{"team", "core"}});
  const Series& bypass = InternSeries(kBypass, team);
  Accumulator acc;
  acc.AddSeries(bypass, 1, 0);
  Accumulator moved = std::move(acc);
  moved.AddSeries(bypass, 10, 0);
  EXPECT_EQ(CounterAt(moved, kBypass, team), 11);

  // Reused after a fresh one is moved over it: its remembered place was in the maps it gave
  // away, which `moved` owns now.
  acc = Accumulator();
  acc.AddSeries(bypass, 100, 0);
  EXPECT_EQ(CounterAt(acc, kBypass, team), 100);
  EXPECT_EQ(CounterAt(moved, kBypass, team), 11);

  Accumulator target;
  target.AddSeries(bypass, 1000, 0);
  target = std::move(moved);
  target.AddSeries(bypass, 1, 0);
  EXPECT_EQ(CounterAt(target, kBypass, team), 12);
}

TEST(SeriesTest, WindowSinkByIdAndByNameKeepTheSameWindowAndSeries) {
  const Labels team = MakeLabels({{"team", "core"}});
  const Series& bypass = InternSeries(kBypass, team);
  const Series& ack = InternSeries(kAck, team);
  WindowSink by_id(100, 200), by_name(100, 200);
  for (EpochMillis at : {50, 100, 150, 199, 200, 250}) {
    by_id.AddSeries(bypass, 1, at);
    by_id.ObserveSeries(ack, static_cast<double>(at), at);
    by_name.Add(kBypass, team, 1, at);
    by_name.Observe(kAck, team, static_cast<double>(at), at);
  }
  EXPECT_EQ(by_id.counters(), by_name.counters());
  EXPECT_EQ(by_id.observations(), by_name.observations());
  EXPECT_EQ(by_id.counters().at(std::string(kBypass)).at(team), 3);
  EXPECT_EQ(by_id.observations().at(std::string(kAck)).at(team),
            (std::vector<double>{100, 150, 199}));

  // Mixed on one sink: one series.
  by_id.Add(kBypass, team, 5, 120);
  by_id.AddSeries(bypass, 1, 120);
  EXPECT_EQ(by_id.counters().at(std::string(kBypass)).at(team), 9);
  // Outside the window by id creates no series, as by name.
  WindowSink empty(100, 200);
  empty.AddSeries(bypass, 1, 99);
  empty.ObserveSeries(ack, 1, 200);
  EXPECT_TRUE(empty.counters().empty());
  EXPECT_TRUE(empty.observations().empty());
}

TEST(SeriesTest, WindowSinkAfterNamePeopleWithholdingAndCopyFindsTheRightSeriesById) {
  const Labels pseudonym = MakeLabels({{"person", "p-1"}, {"team", "core"}});
  const Labels handle = MakeLabels({{"person", "alice"}, {"team", "core"}});
  const Series& by_pseudonym = InternSeries(kPerson, pseudonym);
  WindowSink sink(0, 1000);
  sink.AddSeries(by_pseudonym, 3, 1);
  sink.NamePeople({{"p-1", "alice"}});
  sink.AddSeries(by_pseudonym, 1, 1);
  EXPECT_EQ(sink.counters().at(std::string(kPerson)).at(handle), 3);
  EXPECT_EQ(sink.counters().at(std::string(kPerson)).at(pseudonym), 1);

  // Withholding erases a small sender team's counter and a pulse of too few answers.
  const Labels pings = MakeLabels({{"sender_team", "tiny"}, {"team", "core"}});
  const Series& by_sender =
      InternSeries("teamhealth_direct_interruptions_by_sender_team_total", pings);
  const Series& pulse = InternSeries("teamhealth_pulse_score", MakeLabels({{"team", "core"}}));
  sink.AddSeries(by_sender, 2, 1);
  sink.ObserveSeries(pulse, 4, 1);
  sink.WithholdSmallGroups({{"tiny", 1}, {"core", 9}}, 5);
  EXPECT_FALSE(sink.counters()
                   .at("teamhealth_direct_interruptions_by_sender_team_total")
                   .contains(pings));
  EXPECT_FALSE(sink.observations().at("teamhealth_pulse_score").contains(pulse.labels));
  sink.AddSeries(by_sender, 7, 1);
  sink.ObserveSeries(pulse, 5, 1);
  EXPECT_EQ(sink.counters().at("teamhealth_direct_interruptions_by_sender_team_total").at(pings),
            7);
  EXPECT_EQ(sink.observations().at("teamhealth_pulse_score").at(pulse.labels),
            (std::vector<double>{5}));

  WindowSink copy = sink;
  copy.AddSeries(by_sender, 100, 1);
  copy.ObserveSeries(pulse, 1, 1);
  EXPECT_EQ(sink.counters().at("teamhealth_direct_interruptions_by_sender_team_total").at(pings),
            7);
  EXPECT_EQ(copy.counters().at("teamhealth_direct_interruptions_by_sender_team_total").at(pings),
            107);
  EXPECT_EQ(sink.observations().at("teamhealth_pulse_score").at(pulse.labels).size(), 1u);
  EXPECT_EQ(copy.observations().at("teamhealth_pulse_score").at(pulse.labels).size(), 2u);
}

}  // namespace
}  // namespace teamhealth::projections
