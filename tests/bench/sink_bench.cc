// Metric sink increment benchmark (issue 13): the cost of one counter increment into an
// Accumulator, through `MetricSink&` as a projection makes it, by name (MakeLabels + Add, as the
// projections do today; and Add with labels built once, to tell the two costs apart) and by id
// (AddSeries with a `const Series*` resolved once through InternSeries). Also the cost of an
// InternSeries that hits, which a projection pays once per series it caches, not per event.
// CPU is this thread's (CLOCK_THREAD_CPUTIME_ID); each figure is the best of --rounds.
//   build/tests/bench/sink_bench [--increments 10000000] [--rounds 3]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <limits>
#include <string>

#include "teamhealth/projections/accumulator.h"
#include "teamhealth/projections/event_access.h"
#include "teamhealth/projections/window.h"

namespace {

using namespace teamhealth;
using namespace teamhealth::projections;

constexpr std::string_view kName = "teamhealth_oncall_interruptions_total";

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Out of line, so the compiler cannot see which sink it is and call it directly: projections
// only ever hold a MetricSink&.
[[gnu::noinline]] void ByMakeLabels(MetricSink& sink, const std::string& team, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) {
    sink.Add(kName, MakeLabels({{"period", "business_hours"}, {"team", team}}), 1,
             static_cast<EpochMillis>(i));
  }
}

[[gnu::noinline]] void ByLabels(MetricSink& sink, const Labels& labels, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) sink.Add(kName, labels, 1, static_cast<EpochMillis>(i));
}

[[gnu::noinline]] void BySeries(MetricSink& sink, const Series* series, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) sink.AddSeries(*series, 1, static_cast<EpochMillis>(i));
}

[[gnu::noinline]] uint32_t ByIntern(const std::string& team, uint64_t n) {
  const Labels labels = MakeLabels({{"period", "business_hours"}, {"team", team}});
  uint32_t id = 0;
  for (uint64_t i = 0; i < n; ++i) id = InternSeries(kName, labels).id;
  return id;
}

// Best ns per increment over `rounds`, each into a fresh sink made by `make`; checks the count.
template <typename Make, typename Run, typename Count>
double Best(int rounds, uint64_t n, Make make, Run run, Count count) {
  double best = std::numeric_limits<double>::max();
  for (int r = 0; r < rounds; ++r) {
    auto sink = make();
    const double start = ThreadCpuSeconds();
    run(sink, n);
    best = std::min(best, (ThreadCpuSeconds() - start) / static_cast<double>(n) * 1e9);
    if (count(sink) != static_cast<double>(n)) {
      std::fprintf(stderr, "wrong count: %.0f, expected %llu\n", count(sink),
                   static_cast<unsigned long long>(n));
      std::exit(1);
    }
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t n = 10'000'000;
  int rounds = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--increments")) n = std::stoull(argv[i + 1]);
    if (!std::strcmp(argv[i], "--rounds")) rounds = std::stoi(argv[i + 1]);
  }
  // From a string the projection holds (a directory team name), as in the projections.
  const std::string team = "platform-reliability";
  const Labels labels = MakeLabels({{"period", "business_hours"}, {"team", team}});
  const Series* series = &InternSeries(kName, labels);

  const auto acc = [] { return Accumulator(); };
  const auto acc_count = [&](const Accumulator& a) {
    return a.counters().at(std::string(kName)).at(labels);
  };
  // Every increment inside the window, so both paths do the whole work.
  const auto window = [&] { return WindowSink(0, static_cast<EpochMillis>(n)); };
  const auto window_count = [&](const WindowSink& w) {
    return w.counters().at(std::string(kName)).at(labels);
  };
  const auto make_labels = [&](MetricSink& s, uint64_t k) { ByMakeLabels(s, team, k); };
  const auto prebuilt = [&](MetricSink& s, uint64_t k) { ByLabels(s, labels, k); };
  const auto by_id = [&](MetricSink& s, uint64_t k) { BySeries(s, series, k); };

  std::printf("%llu increments of one counter series, best of %d, ns per increment (CPU):\n",
              static_cast<unsigned long long>(n), rounds);
  std::printf("  Accumulator, MakeLabels + Add:        %6.1f\n",
              Best(rounds, n, acc, make_labels, acc_count));
  std::printf("  Accumulator, Add (labels built once): %6.1f\n",
              Best(rounds, n, acc, prebuilt, acc_count));
  std::printf("  Accumulator, AddSeries (cached id):   %6.1f\n",
              Best(rounds, n, acc, by_id, acc_count));
  std::printf("  WindowSink,  MakeLabels + Add:        %6.1f\n",
              Best(rounds, n, window, make_labels, window_count));
  std::printf("  WindowSink,  AddSeries (cached id):   %6.1f\n",
              Best(rounds, n, window, by_id, window_count));

  const uint64_t lookups = std::max<uint64_t>(n / 10, 1);
  const double start = ThreadCpuSeconds();
  const uint32_t id = ByIntern(team, lookups);
  const double intern_ns = (ThreadCpuSeconds() - start) / static_cast<double>(lookups) * 1e9;
  std::printf("InternSeries that hits (once per series cached, not per event): %.1f ns, id %u\n",
              intern_ns, id);
  return 0;
}
