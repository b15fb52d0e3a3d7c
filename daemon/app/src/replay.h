#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "teamhealth/base/result.h"
#include "teamhealth/base/time.h"
#include "teamhealth/base/types.h"
#include "teamhealth/config/config.h"
#include "teamhealth/eventlog/event_log.h"
#include "teamhealth/projections/metrics.h"
#include "teamhealth/projections/pipeline.h"
#include "teamhealth/projector/fact_index.h"
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
// event read from a file) and the event, as stored (its references not resolved yet).
using EventHook = std::function<void(Sequence, const schema::EventView&)>;

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

// How a window is read when the metric facts may answer (docs/design.md section 8).
struct FactWindow {
  EpochMillis from = 0;  // the earliest instant a sink keeps
  // The teams whose facts are read; asked once the directory history is in the pipeline.
  std::function<std::set<std::string>()> teams;
  // Each stored fact read, with its team (explain and the retro page record them).
  std::function<void(const std::string& team, const projector::StoredFact&)> on_fact;
  // A replay of a log calls it every 100,000 events: events applied, events in the log.
  std::function<void(uint64_t applied, uint64_t total)> progress;
  // Receives the gauges as of `to` (of `teams` at least); nullptr: not wanted.
  projections::MetricSink* gauges = nullptr;
  // The sink keeps only the window's totals (a report's WindowSink): facts may reach it summed
  // by series, at any instant inside the window (FactReader::FeedTotals).
  bool totals_only = false;
};

// What report, explain and the retro page read. From a log whose metric facts were built with
// the pipeline's definitions and directory: the facts of `window.teams` with instants in
// [window.from, to) caused before `to` go to `sink` (as increments, team label restored). Then
// the gauges as of `to` go to window.gauges: recorded ones when `to` is a midnight the facts
// have passed; otherwise the pipeline is brought to its state as of `to` (a snapshot and the
// events since; the events after the facts' position go through `sink` and `hook` as in a
// replay). The same numbers as ReplayUntil, at the cost of the window's facts instead of the
// log's length.
// Otherwise (event files, what-if with `allow_facts` false, facts not built or built with
// other definitions) it is ReplayUntil. `how` gets "facts" or "replay (<reason>)".
Status ReadWindow(const ReplaySource& source, const config::Config& config,
                  projections::Pipeline& pipeline, projections::MetricSink& sink, EpochMillis to,
                  const EventHook& hook, bool want_names,
                  std::map<std::string, std::string>& handle_of_ref,
                  const std::function<Status()>& after_directory, bool allow_facts,
                  const FactWindow& window, std::string& how);

// Calls `fn` for each of `sequences` in the source's log (nothing for event files): the events
// behind stored facts.
Status ForEachLogged(const ReplaySource& source, const config::Config& config,
                     const std::set<uint64_t>& sequences, const EventHook& fn);

// Canonical JSON lines from several files, deduplicated by id; the first bad line is an error
// naming the file and line.
Result<std::vector<schema::Event>> ReadEventFiles(const std::vector<std::string>& files);

}  // namespace teamhealth::app
