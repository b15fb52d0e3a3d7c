#include "replay.h"

#include <algorithm>
#include <fstream>
#include <memory>
#include <unordered_set>

#include "directory.h"
#include "teamhealth/projections/registry.h"
#include "teamhealth/projector/projector.h"
#include "teamhealth/sources/source.h"
#include "teamhealth/storage/store.h"

namespace teamhealth::app {

Result<std::vector<schema::Event>> ReadEventFiles(const std::vector<std::string>& files) {
  sources::SourceOptions options;
  options.accept_directory_events = true;  // a file of events may describe its directory
  auto registry = sources::MakeSourceRegistry(options);
  auto* canonical = registry->Find("canonical");
  std::vector<schema::Event> out;
  std::unordered_set<std::string> seen;
  sources::NormalizeResult result;
  for (const auto& file : files) {
    std::ifstream in(file);
    if (!in) return Error("cannot read " + file);
    int line_no = 0;
    for (std::string line; std::getline(in, line);) {
      ++line_no;
      if (line.empty()) continue;
      sources::RawRecord r;
      r.value = line;
      result.Clear();
      canonical->Normalize(r, result);
      if (result.rejection) {
        return Error(file + ":" + std::to_string(line_no) + ": " +
                     std::string(sources::ReasonName(result.rejection->reason)) + ": " +
                     result.rejection->detail);
      }
      for (auto& e : result.events) {
        if (seen.insert(e.id()).second) out.push_back(std::move(e));
      }
    }
  }
  return out;
}

namespace {

// The log a replay reads: the daemon's, or one opened read-only from a state directory (and
// the handles of its people when `want_names`).
struct OpenedLog {
  std::unique_ptr<storage::Store> store;
  std::unique_ptr<eventlog::EventLog> own;
  eventlog::EventLog* log = nullptr;
};

Result<OpenedLog> OpenLog(const ReplaySource& source, const config::Config& config,
                          bool want_names, std::map<std::string, std::string>& handle_of_ref) {
  OpenedLog out;
  out.log = source.live_log;
  if (out.log != nullptr) return out;
  auto opened = storage::Store::Open({source.log_dir, true, false});
  if (!opened) return opened.error();
  out.store = std::move(*opened);
  eventlog::OpenOptions open{.read_only = true};
  if (want_names) {  // naming people reads the keyed identities column
    auto key = eventlog::LoadIdentityKey(config.storage.identity_key_file, source.log_dir);
    if (!key) return key.error();
    open.identity_key = std::move(*key);
  }
  auto l = eventlog::EventLog::Open(*out.store, std::move(open));
  if (!l) return l.error();
  out.own = std::move(*l);
  out.log = out.own.get();
  if (want_names) {
    auto more = out.log->NamesOf(DirectoryPeople(config.directory));
    if (more) handle_of_ref.insert(more->begin(), more->end());
  }
  return out;
}

void ConfigNames(const config::Config& config, bool want_names,
                 std::map<std::string, std::string>& handle_of_ref) {
  if (!want_names) return;
  for (const auto& person : config.directory.people) {
    for (const auto& id : person.identities) handle_of_ref.emplace(id, person.handle);
  }
}

}  // namespace

Status ForEachLogged(const ReplaySource& source, const config::Config& config,
                    const std::set<uint64_t>& sequences, const EventHook& fn) {
  if (sequences.empty() || !source.event_files.empty()) return Status::Ok();
  std::map<std::string, std::string> no_names;
  auto opened = OpenLog(source, config, false, no_names);
  if (!opened) return opened.error();
  schema::EventView view;
  for (const uint64_t seq : sequences) {
    auto e = opened->log->Read(Sequence(seq));
    if (!e) return e.error();
    if (!*e) continue;
    schema::ViewOf(**e, view);
    fn(Sequence(seq), view);
  }
  return Status::Ok();
}

Status ReplayUntil(const ReplaySource& source, const config::Config& config,
                   projections::Pipeline& pipeline, projections::MetricSink& sink, EpochMillis to,
                   const EventHook& hook, bool want_names,
                   std::map<std::string, std::string>& handle_of_ref,
                   const std::function<Status()>& after_directory) {
  std::string how;
  return ReadWindow(source, config, pipeline, sink, to, hook, want_names, handle_of_ref,
                    after_directory, false, {}, how);
}

Status ReadWindow(const ReplaySource& source, const config::Config& config,
                  projections::Pipeline& pipeline, projections::MetricSink& sink, EpochMillis to,
                  const EventHook& hook, bool want_names,
                  std::map<std::string, std::string>& handle_of_ref,
                  const std::function<Status()>& after_directory, bool allow_facts,
                  const FactWindow& window, std::string& how) {
  ConfigNames(config, want_names, handle_of_ref);
  auto apply = [&](Sequence seq, schema::EventView& e) {
    if (hook) hook(seq, e);
    pipeline.Apply(e, sink);
  };
  if (!source.event_files.empty()) {
    how = "replay (event files)";
    auto events = ReadEventFiles(source.event_files);
    if (!events) return events.error();
    for (const auto& e : projections::DirectoryEvents(config.directory)) pipeline.Preload(e);
    for (const auto& e : *events) pipeline.Preload(e);  // directory.* events only
    if (after_directory) {
      if (auto s = after_directory(); !s) return s;
    }
    std::stable_sort(events->begin(), events->end(), [](const auto& a, const auto& b) {
      return a.occurred_at_ms() < b.occurred_at_ms();
    });
    schema::EventView view;
    for (const auto& e : *events) {
      if (e.occurred_at_ms() >= to) break;
      schema::ViewOf(e, view);
      apply(Sequence(0), view);
    }
    if (window.gauges != nullptr) pipeline.ExportGauges(to, *window.gauges);
    return Status::Ok();
  }
  auto opened = OpenLog(source, config, want_names, handle_of_ref);
  if (!opened) return opened.error();
  eventlog::EventLog& log = *opened->log;
  if (auto d = projector::PreloadDirectory(log, pipeline); !d) return d.error();
  if (after_directory) {
    if (auto s = after_directory(); !s) return s;
  }
  std::string why_not = "what-if definitions";
  if (allow_facts) {
    auto reader = projector::FactReader::Open(log.store(), log, pipeline, why_not);
    if (!reader) return reader.error();
    if (*reader) {
      how = "facts";
      const std::set<std::string> teams = window.teams ? window.teams() : std::set<std::string>{};
      for (const auto& team : teams) {
        auto s = window.totals_only && !window.on_fact
                     ? (*reader)->FeedTotals(team, window.from, to, to, sink)
                     : (*reader)->Feed(team, window.from, to, to, sink,
                                       [&](const projector::StoredFact& f) {
                                         if (window.on_fact) window.on_fact(team, f);
                                       });
        if (!s) return s;
      }
      if (to <= (*reader)->position()) {
        // Every increment before `to` is a fact: the state matters only for the gauges.
        bool recorded = true;
        for (const auto& team : window.gauges != nullptr ? teams : std::set<std::string>{}) {
          auto g = (*reader)->Gauges(team, to, *window.gauges);
          if (!g) return g.error();
          recorded = recorded && *g;
        }
        if (recorded) return Status::Ok();
      }
      if (auto s = (*reader)->StateAt(pipeline, to, sink, hook); !s) return s;
      if (window.gauges != nullptr && teams.empty()) pipeline.ExportGauges(to, *window.gauges);
      if (window.gauges != nullptr && !teams.empty()) {
        pipeline.ExportGauges(to, *window.gauges, teams);  // only theirs: cheaper
      }
      return Status::Ok();
    }
  }
  how = "replay (" + why_not + ")";
  const uint64_t total = log.LastSequence().value();
  uint64_t applied = 0;
  // In event-time order through the time index: memory stays O(people + open items), plus the
  // keys of the events the indexer has not reached yet (EventLog merges them in).
  auto s = log.ForEachViewByTime(to, [&](Sequence seq, schema::EventView& e) {
    apply(seq, e);
    if (++applied % 100000 == 0 && window.progress) window.progress(applied, total);
    return true;
  });
  if (s && window.gauges != nullptr) pipeline.ExportGauges(to, *window.gauges);
  return s;
}

}  // namespace teamhealth::app
