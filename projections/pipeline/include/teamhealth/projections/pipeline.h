#pragma once

#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "event.pb.h"
#include "event_view.h"
#include "teamhealth/base/time.h"
#include "teamhealth/projections/definitions.h"
#include "teamhealth/projections/directory_view.h"
#include "teamhealth/projections/metrics.h"
#include "teamhealth/projections/person_resolver.h"
#include "teamhealth/projections/projection.h"

namespace teamhealth::projections {

// The only way events reach projections (docs/design.md section 5, "One person key"). It
// owns the directory view, the person resolution and the projections, and every path drives
// it: the live projector, `report --log`, `report --events`, the query API, what-if, the
// tests' scenario driver and the replay benchmark. So the same events give the same numbers
// everywhere.
//
// For each event, Apply():
//  1. directory.* events update the directory view and the person resolution (unless the
//     same event was preloaded) and go no further;
//  2. every person reference of any other event is resolved to its person key, and the
//     actor's is stamped with its id in the directory view (EventView::actor_id);
//  3. each projection applies the resolved event, its increments going to that projection's
//     sink.
// Directory history known in advance (all of it, from the log's subject index or a file) is
// Preload()ed before the first event, so history recorded before the directory listed an
// identity is credited to its person, and a time-ordered replay knows who was on which team.
//
// Not thread-safe.
class Pipeline final {
 public:
  // The registry's projections with `settings`.
  Pipeline(DirectoryView directory, const Settings& settings);
  // Explicit projections (tests and single-projection scenarios).
  Pipeline(DirectoryView directory, const Settings& settings,
           std::vector<std::unique_ptr<Projection>> projections);

  // Learns a directory.* event before any event is applied; Apply() of the same event (by id)
  // later does nothing. Other events are ignored.
  void Preload(const schema::Event& e);
  void Preload(const schema::EventView& e);
  // Applies `e`; all projections' increments go to `sink`. The view form is the replay's
  // (eventlog::DecodeView, no message built): it resolves `e`'s person references in place,
  // so `e` views this pipeline's keys afterwards (until its next directory event).
  void Apply(schema::EventView& e, MetricSink& sink);
  void Apply(const schema::Event& e, MetricSink& sink);
  // Applies `e`; projection i's increments go to sinks[i]; a null sink skips projection i
  // (rebuilding some projections while the others stay at their checkpoint).
  void Apply(schema::EventView& e, std::span<MetricSink* const> sinks);
  void Apply(const schema::Event& e, std::span<MetricSink* const> sinks);
  // Every projection's gauges as of `now`.
  void ExportGauges(EpochMillis now, MetricSink& sink) const;
  // Only the gauges of `teams` (those labelled with one of them), computed for them only.
  void ExportGauges(EpochMillis now, MetricSink& sink, const std::set<std::string>& teams) const;

  // True once an applied (not preloaded) directory event changed how a reference resolves:
  // what was counted before no longer matches a replay, so the caller rebuilds from the
  // start of the log with the whole directory preloaded.
  bool resolution_changed() const { return resolution_changed_; }

  // Members per team as of `now` (for privacy suppression).
  std::map<std::string, int> TeamSizes(EpochMillis now) const;
  // Person key -> handle for per-person series, from any reference (identity or pseudonym)
  // -> handle: references are resolved here, like those in events.
  std::map<std::string, std::string> KeyNames(
      const std::map<std::string, std::string>& handle_of_ref) const;

  size_t size() const { return projections_.size(); }
  const Projection& projection(size_t i) const { return *projections_[i]; }
  // Name, version and the values of the definitions it depends on: a change means that
  // projection (and only it) rebuilds.
  std::string Tag(size_t i) const;
  const DirectoryView& directory() const { return directory_; }
  const PersonResolver& resolver() const { return resolver_; }
  const Settings& settings() const { return settings_; }

  std::string SaveProjection(size_t i) const { return projections_[i]->Save(); }
  bool LoadProjection(size_t i, std::string_view bytes) { return projections_[i]->Load(bytes); }

 private:
  void ApplyDirectory(const schema::EventView& e);
  // Step 2: every person reference to its key, and the actor's id stamped (actor_id); the
  // subject's key (EventView::subject_key) for an event on a work item, pull request or
  // incident.
  void Resolve(schema::EventView& e);

  DirectoryView directory_;
  Settings settings_;
  std::vector<std::unique_ptr<Projection>> projections_;
  PersonResolver resolver_;
  std::set<std::string, std::less<>> preloaded_;  // ids of preloaded directory events
  bool resolution_changed_ = false;
  schema::EventView view_;  // the view of an event applied as a message (reused)
  std::string subject_key_;  // the applied event's subject key (reused)
};

}  // namespace teamhealth::projections
