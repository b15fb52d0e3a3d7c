#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "teamhealth/gateway/gateway.h"
#include "teamhealth/projections/accumulator.h"

namespace teamhealth::http {

// The gateway's own metrics (README "Getting events in"): name, type and help of each, listed by
// `teamhealth metrics` after the daemon's.
const std::vector<projections::MetricSpec>& GatewayMetricSpecs();

// The gateway's metrics in a prometheus-cpp registry only this module sees. Every
// (source, outcome) series of the configured sources exists from the first scrape, at zero;
// unknown paths count under source="unknown". Thread-safe.
class GatewayMetrics final : public gateway::GatewayObserver {
 public:
  GatewayMetrics(std::string_view version, const std::vector<std::string>& sources);
  ~GatewayMetrics() override;

  void OnRequest(std::string_view source, gateway::Outcome outcome, double seconds) override;
  // Prometheus text exposition format 0.0.4.
  std::string Serialize() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace teamhealth::http
