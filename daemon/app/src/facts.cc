#include "facts.h"

namespace teamhealth::app {

EventRef EventRef::Of(Sequence seq, const schema::EventView& e) {
  std::string subject(e.subject().kind());
  subject.append(":").append(e.subject().id());
  return EventRef{.sequence = seq.value(),
                  .id = std::string(e.id()),
                  .type = std::string(e.type()),
                  .subject = std::move(subject),
                  .actor = std::string(e.actor()),
                  .occurred_at = e.occurred_at_ms()};
}

void FactRecorder::BeginEvent(Sequence seq, const schema::EventView& e) {
  current_ = EventRef::Of(seq, e);
}

void FactRecorder::BeginStored(uint64_t seq, EpochMillis caused_at) {
  current_ = EventRef{.sequence = seq, .occurred_at = caused_at};
}

std::set<uint64_t> FactRecorder::Undescribed() const {
  std::set<uint64_t> out;
  for (const auto& f : facts_) {
    if (f.event.id.empty() && f.event.sequence != 0) out.insert(f.event.sequence);
  }
  return out;
}

void FactRecorder::Describe(const std::map<uint64_t, EventRef>& events) {
  for (auto& f : facts_) {
    if (!f.event.id.empty()) continue;
    const auto it = events.find(f.event.sequence);
    if (it != events.end()) f.event = it->second;
  }
}

void FactRecorder::Record(std::string_view name, const projections::Labels& labels, double value,
                          EpochMillis at) {
  if ((!metric_.empty() && name != metric_) || at < from_ || at >= to_) return;
  Fact f{.metric = std::string(name), .at = at, .value = value, .event = current_};
  bool team = false;
  for (const auto& [k, v] : labels) {
    if (k == "team") {
      team = v == team_;
    } else {
      f.labels.emplace_back(k, v);
    }
  }
  if (team) facts_.push_back(std::move(f));
}

}  // namespace teamhealth::app
