// The team pulse projection (see include/teamhealth/projections/pulse.h).
#include "teamhealth/projections/pulse.h"

#include "teamhealth/projections/bytes.h"
#include "teamhealth/projections/event_access.h"

namespace teamhealth::projections {
namespace {

constexpr uint64_t kStateFormat = 1;  // the state is only this number

}  // namespace

std::optional<int> PulseScoreOf(const EventView& e) {
  if (e.type_code() != schema::EventType::kPulseResponse || !e.actor().empty() || e.subject().id().empty()) {
    return std::nullopt;
  }
  const EventView::Value* score = Attr(e, AttrName::kScore);
  if (score == nullptr || !score->has_int_value()) return std::nullopt;
  const int64_t v = score->int_value();
  if (v < 1 || v > 5) return std::nullopt;
  return static_cast<int>(v);
}

Pulse::Pulse(const Settings&) {}

void Pulse::Apply(const EventView& e, const DirectoryView&, MetricSink& sink) {
  if (auto score = PulseScoreOf(e)) {
    auto [it, fresh] = FindOrInsert(score_of_team_, e.subject().id());
    if (fresh) {
      it->second = &InternSeries("teamhealth_pulse_score", MakeLabels({{"team", it->first}}));
    }
    sink.ObserveSeries(*it->second, *score, e.occurred_at_ms());
  }
}

void Pulse::ExportGauges(EpochMillis, const DirectoryView&, MetricSink&) const {}

std::string Pulse::Save() const {
  std::string out;
  ByteWriter w(out);
  w.U64(kStateFormat);
  return out;
}

bool Pulse::Load(std::string_view bytes) {
  ByteReader r(bytes);
  return r.U64() == kStateFormat && r.ok() && r.done();
}

}  // namespace teamhealth::projections
