#pragma once

#include "teamhealth/projections/projection.h"

namespace teamhealth::projections {

// Placeholder until the flow projection lands (DESIGN section 7): counts nothing yet.
class Flow final : public Projection {
 public:
  explicit Flow(const Settings& settings) : settings_(settings) {}
  std::string_view name() const override { return "flow"; }
  uint32_t version() const override { return 1; }
  void Apply(const schema::Event&, const DirectoryView&, MetricSink&) override {}
  void ExportGauges(EpochMillis, const DirectoryView&, MetricSink&) const override {}
  std::string Save() const override { return {}; }
  bool Load(std::string_view bytes) override { return bytes.empty(); }

 private:
  Settings settings_;
};

}  // namespace teamhealth::projections
