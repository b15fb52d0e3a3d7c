#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "teamhealth/base/result.h"
#include "teamhealth/base/time.h"
#include "teamhealth/base/types.h"
#include "teamhealth/config/config.h"
#include "teamhealth/eventlog/event_log.h"
#include "teamhealth/projections/metrics.h"
#include "teamhealth/projections/pipeline.h"
#include "event.pb.h"

namespace teamhealth::app {

// Where a replay reads its events: the live log of the daemon, a state directory, or files of
// canonical JSON lines. Exactly one of them.
struct ReplaySource {
  eventlog::EventLog* live_log = nullptr;
  std::string log_dir;
  std::vector<std::string> event_files;
};

// Called for each event just before the pipeline applies it: its sequence in the log (0 for an
// event read from a file) and the event.
using EventHook = std::function<void(Sequence, const schema::Event&)>;

// The one replay of report and explain (docs/design.md section 8): the whole directory history
// (the config's, then the source's), then every event before `to` in event-time order, through
// `pipeline` into `sink`; memory stays O(people + open items) for a log (read through its time
// index). `after_directory`, if set, runs once the directory history is in the pipeline (its
// error stops the replay). `handle_of_ref` receives the handles of a state directory's people (reference ->
// handle) when `want_names` is set (per-person series): only a log this call opens may be read
// for names, as the live log's identities cache belongs to its writer.
Status ReplayUntil(const ReplaySource& source, const config::Config& config,
                   projections::Pipeline& pipeline, projections::MetricSink& sink, EpochMillis to,
                   const EventHook& hook, bool want_names,
                   std::map<std::string, std::string>& handle_of_ref,
                   const std::function<Status()>& after_directory = nullptr);

// Canonical JSON lines from several files, deduplicated by id; the first bad line is an error
// naming the file and line.
Result<std::vector<schema::Event>> ReadEventFiles(const std::vector<std::string>& files);

}  // namespace teamhealth::app
