#include "facts.h"

namespace teamhealth::app {

void FactRecorder::BeginEvent(Sequence seq, const schema::Event& e) {
  current_.sequence = seq.value();
  current_.id = e.id();
  current_.type = e.type();
  current_.subject = e.subject().kind() + ":" + e.subject().id();
  current_.actor = e.actor();
  current_.occurred_at = e.occurred_at_ms();
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
