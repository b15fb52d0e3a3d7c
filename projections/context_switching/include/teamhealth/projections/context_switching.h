#pragma once

#include "teamhealth/projections/projection.h"

namespace teamhealth::projections {

// Placeholder until the context_switching projection lands (DESIGN section 7): counts nothing yet.
class ContextSwitching final : public Projection {
 public:
  explicit ContextSwitching(const Settings& settings) : settings_(settings) {}
  std::string_view name() const override { return "context_switching"; }
  uint32_t version() const override { return 1; }
  void Apply(const schema::Event&, const DirectoryView&, MetricSink&) override {}
  void ExportGauges(EpochMillis, const DirectoryView&, MetricSink&) const override {}
  std::string Save() const override { return {}; }
  bool Load(std::string_view bytes) override { return bytes.empty(); }

 private:
  Settings settings_;
};

}  // namespace teamhealth::projections
