#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "teamhealth/gateway/gateway.h"
#include "teamhealth/gateway/poller.h"
#include "teamhealth/projections/accumulator.h"

namespace teamhealth::http {

// The gateway's own metrics (README "Getting events in"): name, type and help of each, listed by
// `teamhealth metrics` after the daemon's.
const std::vector<projections::MetricSpec>& GatewayMetricSpecs();

// The gateway's metrics in a prometheus-cpp registry only this module sees. Every
// (source, outcome) series of the configured sources exists from the first scrape, at zero;
// unknown paths count under source="unknown". So does every (vendor, outcome) series of the
// schedule poller for the vendors of `schedule_vendors` (each vendor once). Thread-safe.
class GatewayMetrics final : public gateway::GatewayObserver, public gateway::PollerObserver {
 public:
  GatewayMetrics(std::string_view version, const std::vector<std::string>& sources,
                 const std::vector<std::string>& schedule_vendors = {});
  ~GatewayMetrics() override;

  void OnRequest(std::string_view source, gateway::Outcome outcome, double seconds) override;
  void OnPoll(std::string_view vendor, gateway::PollOutcome outcome) override;
  void OnRetry(std::string_view vendor) override;
  void OnShiftsProduced(std::string_view vendor, int count) override;
  void OnPollSucceeded(std::string_view vendor, EpochMillis unix_ms) override;
  // Prometheus text exposition format 0.0.4.
  std::string Serialize() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace teamhealth::http
