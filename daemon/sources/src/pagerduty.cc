#include "common.h"
#include "vendors.h"

namespace teamhealth::sources {
namespace {

// Placeholder until the pagerduty normaliser lands: every record is rejected as unsupported.
class PagerDutySource final : public Source {
 public:
  std::string_view name() const override { return "pagerduty"; }
  void Normalize(const RawRecord&, NormalizeResult& out) override {
    out.Reject(Reason::kUnsupportedEvent, "the pagerduty normaliser is not implemented yet");
  }
};

}  // namespace

std::unique_ptr<Source> MakePagerDutySource(const SourceOptions&) {
  return std::make_unique<PagerDutySource>();
}

}  // namespace teamhealth::sources
