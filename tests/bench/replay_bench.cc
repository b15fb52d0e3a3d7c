// Rebuild benchmark (docs/design.md section 10: replay >= 2 M events/s per core; memory bounded by
// people and open items, not by events). Appends N synthetic canonical events of a
// 1,000-person organisation to a fresh event log (untimed set-up), then rebuilds every
// projection from the start of the log with the real runtime, as the daemon does
// (Projector::Run on its own thread, its checkpoints included), and prints events/s, plus the
// process's resident memory before and after, and the in-memory decode and apply rates
// without RocksDB. --checkpoint-events N rebuilds with Projector::CatchUp instead, a
// checkpoint every N events. --scrape-ms N also takes what /metrics serves
// (Projector::Snapshot) every N ms during the rebuild, from another thread, and prints how long
// those took: a scrape waits for the step being applied, and used to wait for a checkpoint's
// serialisation too (its CPU counts in the events per CPU second: leave it off for those).
//   build-release/tests/bench/replay_bench [--events 5000000] [--people 1000] [--dir DIR]
//                                          [--checkpoint-events N] [--scrape-ms N]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>

#include <unistd.h>

#include "synthetic_events.h"
#include "teamhealth/eventlog/event_log.h"
#include "teamhealth/eventlog/keys.h"
#include "teamhealth/logging/logging.h"
#include "teamhealth/projections/pipeline.h"
#include "teamhealth/projections/registry.h"
#include "teamhealth/projector/projector.h"
#include "teamhealth/storage/store.h"

namespace {

using namespace teamhealth;
using bench::Synthetic;

long RssKb() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}


}  // namespace

int main(int argc, char** argv) {
  uint64_t n = 5'000'000;
  int people = 1000;
  uint64_t checkpoint_events = 0;  // 0: Projector::Run
  int scrape_ms = 0;               // 0: no scrapes
  std::string dir = (std::filesystem::temp_directory_path() / "teamhealth-replay-bench").string();
  for (int i = 1; i + 1 < argc; ++i) {
    if (!std::strcmp(argv[i], "--events")) n = std::stoull(argv[i + 1]);
    if (!std::strcmp(argv[i], "--people")) people = std::stoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
    if (!std::strcmp(argv[i], "--checkpoint-events")) checkpoint_events = std::stoull(argv[i + 1]);
    if (!std::strcmp(argv[i], "--scrape-ms")) scrape_ms = std::stoi(argv[i + 1]);
  }
  std::filesystem::remove_all(dir);
  auto store = storage::Store::Open({dir, false, false}).value();
  auto log = eventlog::EventLog::Open(*store).value();

  // The directory: 20 teams of people/20, in a few zones.
  std::vector<eventlog::DirectoryPerson> directory;
  static const char* kZones[] = {"UTC", "Europe/London", "America/New_York", "Asia/Tokyo"};
  for (int p = 0; p < people; ++p) {
    directory.push_back({"person" + std::to_string(p),
                         {"slack:U" + std::to_string(p)},
                         {"team" + std::to_string(p % 20)},
                         kZones[p % 4],
                         {"Mon", "Tue", "Wed", "Thu", "Fri"},
                         "08:00-18:00",
                         "22:00-08:00"});
  }
  if (!log->SyncDirectory(directory, 1735689600000).ok()) return 1;

  std::mt19937_64 rng(42);
  const auto setup_start = std::chrono::steady_clock::now();
  auto million_start = setup_start;
  for (uint64_t i = 0; i < n;) {
    eventlog::IngestBatch batch;
    for (int k = 0; k < 20000 && i < n; ++k, ++i) batch.events.push_back(Synthetic(i, people, rng));
    if (!log->Append(batch).ok()) return 1;
    if (i % 1'000'000 == 0) {  // how appending holds up as the log (and its dedup keys) grows
      const auto now = std::chrono::steady_clock::now();
      std::printf("setup: %llu M events appended, the last million at %.0f events/s\n",
                  static_cast<unsigned long long>(i / 1'000'000),
                  1e6 / std::chrono::duration<double>(now - million_start).count());
      std::fflush(stdout);
      million_start = now;
    }
  }
  const double setup_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - setup_start).count();
  std::printf("setup: appended %llu events in %.1f s (untimed for the replay figure)\n",
              static_cast<unsigned long long>(n), setup_s);
  // The indexes as `serve` keeps them: built behind the log (its `indexer` thread).
  if (!log->IndexAll().ok()) return 1;
  if (!store->FlushAndCompact().ok()) return 1;
  {
    // The state directory's tables and blob files, compressed as RocksDB keeps them.
    uint64_t bytes = 0;
    for (const auto& f : std::filesystem::directory_iterator(dir)) {
      const auto ext = f.path().extension();
      if (ext == ".sst" || ext == ".blob") bytes += f.file_size();
    }
    std::printf("on disk: %.1f MB of tables after compaction (%.0f bytes per event)\n",
                bytes / 1e6, bytes / static_cast<double>(log->LastSequence().value()));
  }
  {
    // What a replay reads: the compact column's chunks (what ForEachView reads up to its
    // checkpoint) against the log's records, uncompressed (RocksDB stores both LZ4-compressed).
    uint64_t record_bytes = 0, chunk_bytes = 0, chunks = 0;
    auto it = store->NewIterator(storage::Column::kLog);
    for (it->SeekToFirst(); it->Valid(); it->Next()) record_bytes += it->value().size();
    it = store->NewIterator(storage::Column::kIndexes);
    for (it->Seek(std::string(1, eventlog::keys::kCompactChunk));
         it->Valid() && it->key().starts_with(eventlog::keys::kCompactChunk); it->Next()) {
      chunk_bytes += it->value().size();
      ++chunks;
    }
    const double events = static_cast<double>(log->LastSequence().value());
    std::printf("stored: log records %.1f MB (%.0f bytes per event), compact column %.1f MB in "
                "%llu chunks (%.0f bytes per event), uncompressed\n",
                record_bytes / 1e6, record_bytes / events, chunk_bytes / 1e6,
                static_cast<unsigned long long>(chunks), chunk_bytes / events);
  }

  logging::Loggers loggers("warn");
  config::DirectoryConfig none;
  const projections::Settings settings;
  const long rss_before = RssKb();
  projector::Projector projector(
      *store, *log,
      [&] {
        return std::make_unique<projections::Pipeline>(projections::MakeDirectoryView(none),
                                                       settings);
      },
      loggers.Get("projector"));
  if (!projector.Start().ok()) return 1;
  std::printf("rebuilding (timed; a profiler can attach now: pid %d)\n", static_cast<int>(getpid()));
  std::fflush(stdout);
  const auto start = std::chrono::steady_clock::now();
  clock_t cpu0 = std::clock();
  if (checkpoint_events > 0) {
    if (!projector.CatchUp(checkpoint_events).ok()) return 1;
  } else {
    std::atomic<bool> stop{false}, returned{false};
    bool ok = true;
    std::thread runner([&] {
      ok = projector.Run(stop).ok();
      returned.store(true);
    });
    std::vector<double> scrapes_ms;
    std::thread scraper([&] {
      if (scrape_ms <= 0) return;
      while (!returned.load() && !stop.load()) {
        const auto t0 = std::chrono::steady_clock::now();
        const auto snap = projector.Snapshot(1775001600000);
        scrapes_ms.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count());
        std::this_thread::sleep_for(std::chrono::milliseconds(scrape_ms));
      }
    });
    while (!returned.load() && projector.applied() < log->LastSequence().value()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    stop.store(true);
    scraper.join();
    runner.join();  // Run checkpoints once more before it returns
    if (!ok) return 1;
    if (!scrapes_ms.empty()) {
      std::sort(scrapes_ms.begin(), scrapes_ms.end());
      auto at = [&](double q) {
        return scrapes_ms[static_cast<size_t>(q * (scrapes_ms.size() - 1))];
      };
      std::printf("scrapes during the rebuild: %zu, every %d ms: p50 %.1f ms, p90 %.1f ms, "
                  "p99 %.1f ms, max %.1f ms\n",
                  scrapes_ms.size(), scrape_ms, at(0.5), at(0.9), at(0.99), scrapes_ms.back());
    }
  }
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
  const long rss_after = RssKb();
  const uint64_t applied = projector.applied();
  std::printf(
      "replay: %llu events (all 4 projections, from RocksDB, %s) in %.2f s wall, %.2f s CPU: "
      "%.0f events/s wall, %.0f events/s per CPU second\n",
      static_cast<unsigned long long>(applied),
      checkpoint_events > 0
          ? ("CatchUp, a checkpoint every " + std::to_string(checkpoint_events) + " events").c_str()
          : "Projector::Run as the daemon, its checkpoints",
      wall, cpu, applied / wall, applied / cpu);
  std::printf("memory: RSS %.1f MB before the rebuild, %.1f MB after (%d people)\n",
              rss_before / 1024.0, rss_after / 1024.0, people);
  for (const auto& [name, bytes] : projector.StateSizes()) {
    std::printf("state: %-18s %8.1f KB\n", name.c_str(), bytes / 1024.0);
  }

  // The projections alone, without reading RocksDB: the stored records copied into memory
  // first, then decoded (eventlog::DecodeView, as every replay does) and applied.
  std::vector<std::string> sample;
  const uint64_t sample_n = std::min<uint64_t>(n, 1'000'000);
  (void)log->ForEach(Sequence(1), [&](Sequence, const schema::Event& e) {
    sample.push_back(e.SerializeAsString());
    return sample.size() < sample_n;
  });
  schema::EventView view;
  const auto s1 = std::chrono::steady_clock::now();
  uint64_t decoded = 0;
  for (const auto& record : sample) decoded += eventlog::DecodeView(record, view).ok() ? 1 : 0;
  const double decode_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - s1).count();
  projections::Pipeline pipeline(projections::MakeDirectoryView(none), settings);
  if (!projector::PreloadDirectory(*log, pipeline).ok()) return 1;
  projections::Accumulator acc;
  const auto s2 = std::chrono::steady_clock::now();
  for (const auto& record : sample) {
    if (!eventlog::DecodeView(record, view).ok()) return 1;
    pipeline.Apply(view, acc);
  }
  const double apply_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - s2).count();
  std::printf("decode only (in memory, %llu events): %.0f events/s\n",
              static_cast<unsigned long long>(decoded), decoded / decode_s);
  std::printf("decode + apply (in memory, %zu events): %.0f events/s\n", sample.size(),
              sample.size() / apply_s);
  std::filesystem::remove_all(dir);
  return 0;
}
