#pragma once

#include <array>
#include <cstdint>
#include <map>
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

// Team pulse (docs/design.md section 7.6): pulse.responses are observed in
// `teamhealth_pulse_score{team}` (a histogram with buckets 1..5), with the team named by its
// subject id, in groups:
// - A team's answers wait, as counts per score (nothing else: no time, no event), until
//   Settings::min_group_size of them have arrived. Then the whole group is observed at once,
//   at the instant of the answer that completed it. Whoever watches /metrics (or a report's
//   window edges) sees a group's scores arrive together, never one answer: before, every answer
//   ticked its bucket as it came, so knowing who answered when told their score. Answers that
//   have not yet made a group are not shown anywhere.
// - Only teams the directory knows (DirectoryView::HasTeam: named by some entry, at any time)
//   count: a response about any other name is ignored, so the series stay as many as the
//   directory's teams whatever the responses say.
// - Small-team suppression (privacy.min_group_size, applied by the accumulator to this family)
//   still withholds the pulse of a team with fewer members.
//
// State: the waiting answers' counts per known team (at most min_group_size - 1 each), saved.
// No gauges, and nothing about people. Not thread-safe, like every Projection.
class Pulse final : public Projection {
 public:
  explicit Pulse(const Settings& settings);

  std::string_view name() const override { return "pulse"; }
  // 2: answers released in groups of min_group_size (the state holds the waiting ones).
  uint32_t version() const override { return 2; }
  void Apply(const schema::EventView& e, const DirectoryView& directory, MetricSink& sink) override;
  void ExportGauges(EpochMillis now, const DirectoryView& directory,
                    MetricSink& sink) const override;
  std::string Save() const override;
  bool Load(std::string_view bytes) override;

 private:
  // A team's answers not yet observed: how many of each score 1..5.
  struct Waiting {
    std::array<uint32_t, 5> of_score{};
    uint32_t total() const;
  };
  uint32_t group_size_;
  std::map<std::string, Waiting, std::less<>> waiting_;  // by team; none empty
  // teamhealth_pulse_score{team} of each team released, resolved once (InternSeries) so that a
  // group observes by id (issue 13). A cache, not state: Save, Load and version() ignore it, and
  // a series is the same whichever sink it is observed into.
  StringMap<const Series*> score_of_team_;
};

}  // namespace teamhealth::projections
