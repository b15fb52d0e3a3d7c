// Rebuild benchmark (docs/design.md section 10: replay >= 2 M events/s per core; memory bounded by
// people and open items, not by events). Appends N synthetic canonical events of a
// 1,000-person organisation to a fresh event log (untimed set-up), then rebuilds every
// projection from the start of the log with the real runtime and prints events/s, plus the
// process's resident memory before and after, and the in-memory apply rate without RocksDB.
//   build-release/tests/bench/replay_bench [--events 5000000] [--people 1000] [--dir DIR]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "teamhealth/eventlog/event_log.h"
#include "teamhealth/logging/logging.h"
#include "teamhealth/projections/pipeline.h"
#include "teamhealth/projections/registry.h"
#include "teamhealth/projector/projector.h"
#include "teamhealth/storage/store.h"

namespace {

using namespace teamhealth;

long RssKb() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

void Attr(schema::Event& e, const std::string& name, const std::string& v) {
  auto* a = e.add_attrs();
  a->set_name(name);
  a->mutable_value()->set_string_value(v);
}

void ListAttr(schema::Event& e, const std::string& name, std::initializer_list<std::string> vs) {
  auto* a = e.add_attrs();
  a->set_name(name);
  auto* l = a->mutable_value()->mutable_list_value();
  for (const auto& v : vs) l->add_values(v);
}

// Event i of a synthetic organisation: about 5 % incidents, 35 % work items, 15 % pull requests,
// 45 % chat, spread over a year; attributes sorted by name.
schema::Event Synthetic(uint64_t i, int people, std::mt19937_64& rng) {
  schema::Event e;
  const int64_t t0 = 1735689600000;  // 2025-01-01
  // 800 ms apart: 5 M events span ~46 days, about what a 1,000-person organisation emits
  // (40 M events a year), so time-based pruning behaves as in production.
  e.set_occurred_at_ms(t0 + static_cast<int64_t>(i) * 800);
  const auto person = [&](int p) { return "slack:U" + std::to_string(p % people); };
  const int actor = static_cast<int>(rng() % people);
  const int kind = static_cast<int>(i % 20);
  e.set_source("canonical");
  e.set_id("canonical:r" + std::to_string(i));
  e.set_actor(person(actor));
  if (kind == 0) {
    e.set_type(i % 40 == 0 ? "incident.triggered" : "incident.resolved");
    e.mutable_subject()->set_kind("incident");
    e.mutable_subject()->set_id("Q" + std::to_string(i / 40));
    e.mutable_subject()->set_service("SVC" + std::to_string(i % 7));
    if (e.type() == "incident.triggered") {
      ListAttr(e, "assignees", {person(actor + 1)});
      Attr(e, "urgency", "high");
    }
  } else if (kind < 8) {
    const uint64_t item = (i / 20) % 5000;
    e.mutable_subject()->set_kind("work_item");
    e.mutable_subject()->set_id("W" + std::to_string(item));
    e.mutable_subject()->set_project("P" + std::to_string(item % 20));
    e.set_type("work_item.status_changed");
    static const char* kCats[] = {"todo", "in_progress", "done"};
    Attr(e, "from", "A");
    Attr(e, "from_category", kCats[i % 3]);
    Attr(e, "to", "B");
    Attr(e, "to_category", kCats[(i + 1) % 3]);
  } else if (kind < 11) {
    e.mutable_subject()->set_kind("pull_request");
    e.mutable_subject()->set_id("acme/repo#" + std::to_string((i / 20) % 3000));
    e.set_type(i % 3 == 0 ? "pull_request.opened" : "pull_request.reviewed");
    if (e.type() == "pull_request.reviewed") Attr(e, "state", "approved");
  } else {
    e.mutable_subject()->set_kind("channel");
    e.mutable_subject()->set_id("C" + std::to_string(i % 300));
    e.set_type("chat.message");
    auto* bot = e.add_attrs();
    bot->set_name("bot");
    bot->mutable_value()->set_bool_value(false);
    Attr(e, "channel_type", i % 5 == 0 ? "im" : "channel");
    ListAttr(e, "mentions", {person(actor + 3)});
    ListAttr(e, "recipients", {person(actor + 2)});
  }
  return e;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t n = 5'000'000;
  int people = 1000;
  std::string dir = (std::filesystem::temp_directory_path() / "teamhealth-replay-bench").string();
  for (int i = 1; i + 1 < argc; ++i) {
    if (!std::strcmp(argv[i], "--events")) n = std::stoull(argv[i + 1]);
    if (!std::strcmp(argv[i], "--people")) people = std::stoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
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
  for (uint64_t i = 0; i < n;) {
    eventlog::IngestBatch batch;
    for (int k = 0; k < 20000 && i < n; ++k, ++i) batch.events.push_back(Synthetic(i, people, rng));
    if (!log->Append(batch).ok()) return 1;
  }
  const double setup_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - setup_start).count();
  std::printf("setup: appended %llu events in %.1f s (untimed for the replay figure)\n",
              static_cast<unsigned long long>(n), setup_s);
  // The indexes as `serve` keeps them: built behind the log (its `indexer` thread).
  if (!log->IndexAll().ok()) return 1;
  if (!store->FlushAndCompact().ok()) return 1;

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
  const auto start = std::chrono::steady_clock::now();
  clock_t cpu0 = std::clock();
  if (!projector.CatchUp(1'000'000).ok()) return 1;
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
  const long rss_after = RssKb();
  const uint64_t applied = projector.applied();
  std::printf(
      "replay: %llu events (all 4 projections, from RocksDB, with checkpoints) in %.2f s "
      "wall, %.2f s CPU: %.0f events/s wall, %.0f events/s per CPU second\n",
      static_cast<unsigned long long>(applied), wall, cpu, applied / wall, applied / cpu);
  std::printf("memory: RSS %.1f MB before the rebuild, %.1f MB after (%d people)\n",
              rss_before / 1024.0, rss_after / 1024.0, people);
  for (const auto& [name, bytes] : projector.StateSizes()) {
    std::printf("state: %-18s %8.1f KB\n", name.c_str(), bytes / 1024.0);
  }

  // The projections alone, without reading RocksDB: events decoded once into memory first.
  std::vector<schema::Event> sample;
  const uint64_t sample_n = std::min<uint64_t>(n, 1'000'000);
  (void)log->ForEach(Sequence(1), [&](Sequence, const schema::Event& e) {
    sample.push_back(e);
    return sample.size() < sample_n;
  });
  projections::Pipeline pipeline(projections::MakeDirectoryView(none), settings);
  if (!projector::PreloadDirectory(*log, pipeline).ok()) return 1;
  projections::Accumulator acc;
  const auto s2 = std::chrono::steady_clock::now();
  for (const auto& e : sample) pipeline.Apply(e, acc);
  const double apply_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - s2).count();
  std::printf("apply only (in memory, %zu events): %.0f events/s\n", sample.size(),
              sample.size() / apply_s);
  std::filesystem::remove_all(dir);
  return 0;
}
