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

Status ReplayUntil(const ReplaySource& source, const config::Config& config,
                   projections::Pipeline& pipeline, projections::MetricSink& sink, EpochMillis to,
                   const EventHook& hook, bool want_names,
                   std::map<std::string, std::string>& handle_of_ref,
                   const std::function<Status()>& after_directory) {
  if (want_names) {
    for (const auto& person : config.directory.people) {
      for (const auto& id : person.identities) handle_of_ref.emplace(id, person.handle);
    }
  }
  auto apply = [&](Sequence seq, const schema::Event& e) {
    if (hook) hook(seq, e);
    pipeline.Apply(e, sink);
  };
  if (!source.event_files.empty()) {
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
    for (const auto& e : *events) {
      if (e.occurred_at_ms() >= to) break;
      apply(Sequence(0), e);
    }
    return Status::Ok();
  }
  std::unique_ptr<storage::Store> store;
  std::unique_ptr<eventlog::EventLog> own_log;
  eventlog::EventLog* log = source.live_log;
  if (log == nullptr) {
    auto opened = storage::Store::Open({source.log_dir, true, false});
    if (!opened) return opened.error();
    store = std::move(*opened);
    eventlog::OpenOptions open{.read_only = true};
    if (want_names) {  // naming people reads the keyed identities column
      auto key = eventlog::LoadIdentityKey(config.storage.identity_key_file, source.log_dir);
      if (!key) return key.error();
      open.identity_key = std::move(*key);
    }
    auto l = eventlog::EventLog::Open(*store, std::move(open));
    if (!l) return l.error();
    own_log = std::move(*l);
    log = own_log.get();
    if (want_names) {
      auto more = log->NamesOf(DirectoryPeople(config.directory));
      if (more) handle_of_ref.insert(more->begin(), more->end());
    }
  }
  if (auto d = projector::PreloadDirectory(*log, pipeline); !d) return d.error();
  if (after_directory) {
    if (auto s = after_directory(); !s) return s;
  }
  // In event-time order through the time index: memory stays O(people + open items).
  return log->ForEachByTime(to, [&](Sequence seq, const schema::Event& e) {
    apply(seq, e);
    return true;
  });
}

}  // namespace teamhealth::app
