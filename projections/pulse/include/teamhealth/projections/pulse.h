#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "teamhealth/projections/projection.h"
#include "teamhealth/projections/string_map.h"

namespace teamhealth::projections {

// The score of a pulse.response the team pulse counts: an integer 1..5 from a response with a
// team and no actor; nullopt for every other event. A response with an actor is ignored, never
// counted under anyone: a pulse must not be linkable to a person (the canonical source
// rejects one; this is the second line of defence, for logs written before it did). A score
// that is not an integer value (a string, 3.5, even 4.0) or outside 1..5 is ignored as well.
std::optional<int> PulseScoreOf(const schema::EventView& e);

// Team pulse (docs/design.md section 7.6): every pulse.response is observed in
// `teamhealth_pulse_score{team}` (a histogram with buckets 1..5) at the event's instant, with
// the team named by its subject id. The team is taken as written, not looked up in the
// directory: a response is about the team, not about a member. A team not in the directory has
// no members, so small-team suppression (privacy.min_group_size, applied by the accumulator to
// this family) withholds it like any team below the minimum size.
//
// Stateless apart from its format number: no gauges, and nothing about people. Not
// thread-safe, like every Projection.
class Pulse final : public Projection {
 public:
  explicit Pulse(const Settings& settings);

  std::string_view name() const override { return "pulse"; }
  uint32_t version() const override { return 1; }
  void Apply(const schema::EventView& e, const DirectoryView& directory, MetricSink& sink) override;
  void ExportGauges(EpochMillis now, const DirectoryView& directory,
                    MetricSink& sink) const override;
  std::string Save() const override;
  bool Load(std::string_view bytes) override;

 private:
  // teamhealth_pulse_score{team} of each team seen, resolved once (InternSeries) so that a
  // response observes by id (issue 13). A cache, not state: Save, Load and version() ignore
  // it, and a series is the same whichever sink it is observed into.
  StringMap<const Series*> score_of_team_;
};

}  // namespace teamhealth::projections
