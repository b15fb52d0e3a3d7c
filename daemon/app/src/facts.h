#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "teamhealth/base/time.h"
#include "teamhealth/base/types.h"
#include "teamhealth/projections/metrics.h"
#include "event.pb.h"
#include "event_view.h"

namespace teamhealth::app {

// The event behind a fact, copied while it is applied.
struct EventRef {
  uint64_t sequence = 0;  // 0: read from a file
  std::string id, type, subject, actor;
  EpochMillis occurred_at = 0;

  static EventRef Of(Sequence seq, const schema::EventView& e);
};

// One counter increment or histogram observation of one team's metric, with its instant and
// the event that caused it.
struct Fact {
  std::string metric;
  EpochMillis at = 0;
  double value = 0;
  projections::Labels labels;  // without team
  EventRef event;
};

// Records the increments and observations of one team inside [from, to) — of one metric, or of
// every metric when `metric` is empty — attributing each to the event being applied
// (BeginEvent, from the replay's hook). Used by `explain` (one metric) and the HTML retro page
// (every metric, for per-day and per-hour charts). Gauges have no facts. Borrows nothing; not
// thread-safe.
class FactRecorder final : public projections::MetricSink {
 public:
  FactRecorder(std::string team, EpochMillis from, EpochMillis to, std::string metric = {})
      : team_(std::move(team)), metric_(std::move(metric)), from_(from), to_(to) {}

  void BeginEvent(Sequence seq, const schema::EventView& e);
  // The next increment is a stored fact (replay.h ReadWindow): only its event's sequence and
  // time are known until Describe() fills in the rest.
  void BeginStored(uint64_t seq, EpochMillis caused_at);
  // Sequences of the stored facts' events, and filling them in once read.
  std::set<uint64_t> Undescribed() const;
  void Describe(const std::map<uint64_t, EventRef>& events);
  void Add(std::string_view name, const projections::Labels& labels, double delta,
           EpochMillis at) override {
    Record(name, labels, delta, at);
  }
  void Observe(std::string_view name, const projections::Labels& labels, double value,
               EpochMillis at) override {
    Record(name, labels, value, at);
  }
  void Set(std::string_view, const projections::Labels&, double) override {}

  std::vector<Fact>& facts() { return facts_; }
  const std::vector<Fact>& facts() const { return facts_; }

 private:
  void Record(std::string_view name, const projections::Labels& labels, double value,
              EpochMillis at);

  std::string team_, metric_;
  EpochMillis from_, to_;
  EventRef current_;
  std::vector<Fact> facts_;
};

// Forwards every increment, observation and gauge (by name or by id) to several sinks
// (borrowed; they must outlive it): one replay feeding two report windows and a fact recorder.
// Not thread-safe.
class FanOutSink final : public projections::MetricSink {
 public:
  explicit FanOutSink(std::vector<projections::MetricSink*> sinks) : sinks_(std::move(sinks)) {}
  void Add(std::string_view name, const projections::Labels& labels, double delta,
           EpochMillis at) override {
    for (auto* s : sinks_) s->Add(name, labels, delta, at);
  }
  void Observe(std::string_view name, const projections::Labels& labels, double value,
               EpochMillis at) override {
    for (auto* s : sinks_) s->Observe(name, labels, value, at);
  }
  // Forwarded by id too, so a sink behind the fan-out with a faster path by id keeps it.
  void AddSeries(const projections::Series& series, double delta, EpochMillis at) override {
    for (auto* s : sinks_) s->AddSeries(series, delta, at);
  }
  void ObserveSeries(const projections::Series& series, double value, EpochMillis at) override {
    for (auto* s : sinks_) s->ObserveSeries(series, value, at);
  }
  void Set(std::string_view name, const projections::Labels& labels, double value) override {
    for (auto* s : sinks_) s->Set(name, labels, value);
  }

 private:
  std::vector<projections::MetricSink*> sinks_;
};

}  // namespace teamhealth::app
