// The team pulse projection (see include/teamhealth/projections/pulse.h).
#include "teamhealth/projections/pulse.h"

#include <algorithm>

#include "teamhealth/projections/bytes.h"
#include "teamhealth/projections/event_access.h"

namespace teamhealth::projections {
namespace {

// 1: nothing but this number. 2: each team's waiting answers.
constexpr uint64_t kStateFormat = 2;

}  // namespace

std::optional<int> PulseScoreOf(const EventView& e) {
  if (e.type_code() != schema::EventType::kPulseResponse || !e.actor().empty() || e.subject().id().empty()) {
    return std::nullopt;
  }
  const EventView::Value* score = Attr(e, "score");
  if (score == nullptr || !score->has_int_value()) return std::nullopt;
  const int64_t v = score->int_value();
  if (v < 1 || v > 5) return std::nullopt;
  return static_cast<int>(v);
}

uint32_t Pulse::Waiting::total() const {
  uint32_t n = 0;
  for (uint32_t c : of_score) n += c;
  return n;
}

Pulse::Pulse(const Settings& settings)
    : group_size_(static_cast<uint32_t>(std::max(1, settings.min_group_size))) {}

void Pulse::Apply(const EventView& e, const DirectoryView& directory, MetricSink& sink) {
  const auto score = PulseScoreOf(e);
  if (!score) return;
  const std::string_view team = e.subject().id();
  if (!directory.HasTeam(team)) return;  // keeps the series to the directory's teams
  auto it = waiting_.find(team);
  if (it == waiting_.end()) it = waiting_.try_emplace(std::string(team)).first;
  Waiting& w = it->second;
  ++w.of_score[*score - 1];
  if (w.total() < group_size_) return;
  // A group: every answer of it at once, at this instant.
  auto [series, fresh] = FindOrInsert(score_of_team_, team);
  if (fresh) {
    series->second = &InternSeries("teamhealth_pulse_score", MakeLabels({{"team", team}}));
  }
  for (int s = 1; s <= 5; ++s) {
    for (uint32_t n = 0; n < w.of_score[s - 1]; ++n) {
      sink.ObserveSeries(*series->second, s, e.occurred_at_ms());
    }
  }
  waiting_.erase(it);
}

void Pulse::ExportGauges(EpochMillis, const DirectoryView&, MetricSink&) const {}

std::string Pulse::Save() const {
  std::string out;
  ByteWriter w(out);
  w.U64(kStateFormat);
  w.U64(waiting_.size());
  for (const auto& [team, waiting] : waiting_) {
    w.Str(team);
    for (uint32_t c : waiting.of_score) w.U64(c);
  }
  return out;
}

// Rejects anything Save() could not have written (with this group size); on failure the state
// is left untouched.
bool Pulse::Load(std::string_view bytes) {
  ByteReader r(bytes);
  if (r.U64() != kStateFormat || !r.ok()) return false;
  std::map<std::string, Waiting, std::less<>> waiting;
  for (uint64_t n = r.U64(); r.ok() && n > 0; --n) {
    auto [it, fresh] = waiting.try_emplace(r.Str());
    uint64_t total = 0;
    for (uint32_t& c : it->second.of_score) {
      const uint64_t v = r.U64();
      if (v >= group_size_) return false;
      c = static_cast<uint32_t>(v);
      total += v;
    }
    if (!fresh || it->first.empty() || total == 0 || total >= group_size_) return false;
  }
  if (!r.ok() || !r.done()) return false;
  waiting_ = std::move(waiting);
  return true;
}

}  // namespace teamhealth::projections
