// Event log read benchmark (issue 13): the CPU the indexer spends per event (IndexThrough, as
// serve's `indexer` thread runs it), and ForEachByTime's events per CPU second over the whole
// log, fully indexed and with an unindexed tail. Appends N synthetic events of a 1,000-person
// organisation (replay_bench's) to a fresh log first (untimed). CPU is this thread's
// (CLOCK_THREAD_CPUTIME_ID; RocksDB's background threads excluded), so a loaded machine changes
// little; each figure is the best of --rounds.
//   build-rel/tests/bench/eventlog_bench [--events 1000000] [--tail 100000] [--rounds 3]
//                                        [--dir DIR]
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <limits>
#include <random>
#include <string>

#include "synthetic_events.h"
#include "teamhealth/eventlog/event_log.h"
#include "teamhealth/storage/store.h"

namespace {

using namespace teamhealth;
using bench::Synthetic;

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

Status AppendSynthetic(eventlog::EventLog& log, uint64_t from, uint64_t n, std::mt19937_64& rng) {
  for (uint64_t i = from; i < from + n;) {
    eventlog::IngestBatch batch;
    for (int k = 0; k < 20000 && i < from + n; ++k, ++i) {
      batch.events.push_back(Synthetic(i, 1000, rng));
    }
    if (auto r = log.Append(batch); !r) return r.error();
  }
  return Status::Ok();
}

// ForEachByTime over every event: how many it gave, and the best CPU seconds of `rounds`.
std::pair<uint64_t, double> TimeByTime(eventlog::EventLog& log, int rounds) {
  uint64_t seen = 0;
  double best = std::numeric_limits<double>::max();
  for (int r = 0; r < rounds; ++r) {
    seen = 0;
    const double c0 = ThreadCpuSeconds();
    auto s = log.ForEachByTime(std::numeric_limits<EpochMillis>::max(),
                               [&](Sequence, const schema::Event& e) {
                                 seen += e.occurred_at_ms() != 0;
                                 return true;
                               });
    best = std::min(best, ThreadCpuSeconds() - c0);
    if (!s) {
      std::fprintf(stderr, "ForEachByTime: %s\n", s.error().message().c_str());
      std::exit(1);
    }
  }
  return {seen, best};
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t n = 1'000'000;
  uint64_t tail = 100'000;
  int rounds = 3;
  std::string dir = (std::filesystem::temp_directory_path() / "teamhealth-eventlog-bench").string();
  for (int i = 1; i + 1 < argc; ++i) {
    if (!std::strcmp(argv[i], "--events")) n = std::stoull(argv[i + 1]);
    if (!std::strcmp(argv[i], "--tail")) tail = std::stoull(argv[i + 1]);
    if (!std::strcmp(argv[i], "--rounds")) rounds = std::stoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
  }
  std::filesystem::remove_all(dir);
  auto store = storage::Store::Open({dir, false, false}).value();
  auto log = eventlog::EventLog::Open(*store).value();
  std::mt19937_64 rng(42);
  if (!AppendSynthetic(*log, 0, n, rng).ok()) return 1;

  // The indexer: IndexThrough in serve's batches (Indexer's default), timed as a whole: the
  // time and subject indexes, and the compact column's whole chunks (its passes can trail the
  // indexes', so the count of events a pass moved is at least n in all).
  const double c0 = ThreadCpuSeconds();
  auto indexed = log->IndexAll(50000);
  const double index_cpu = ThreadCpuSeconds() - c0;
  if (!indexed || *indexed < n || log->IndexedSequence().value() != n) return 1;
  std::printf("indexer: %llu events in %.2f s CPU: %.2f us CPU per event\n",
              static_cast<unsigned long long>(n), index_cpu, index_cpu / n * 1e6);
  if (!store->FlushAndCompact().ok()) return 1;

  auto [seen, cpu] = TimeByTime(*log, rounds);
  std::printf("ForEachByTime, all indexed: %llu events in %.2f s CPU: %.0f events per CPU second\n",
              static_cast<unsigned long long>(seen), cpu, seen / cpu);

  // A tail the indexer has not reached: every reader computes its keys.
  if (!AppendSynthetic(*log, n, tail, rng).ok()) return 1;
  double tail_cpu = std::numeric_limits<double>::max();
  for (int r = 0; r < rounds; ++r) {
    const double t0 = ThreadCpuSeconds();
    if (!log->NewestEventTime()) return 1;
    tail_cpu = std::min(tail_cpu, ThreadCpuSeconds() - t0);
  }
  std::printf("NewestEventTime over a %llu-event tail: %.3f s CPU: %.2f us CPU per tail event\n",
              static_cast<unsigned long long>(tail), tail_cpu, tail_cpu / tail * 1e6);
  auto [seen2, cpu2] = TimeByTime(*log, rounds);
  std::printf("ForEachByTime, %llu-event tail: %llu events in %.2f s CPU: %.0f events per CPU "
              "second\n",
              static_cast<unsigned long long>(tail), static_cast<unsigned long long>(seen2), cpu2,
              seen2 / cpu2);
  log.reset();
  store.reset();
  std::filesystem::remove_all(dir);
  return 0;
}
