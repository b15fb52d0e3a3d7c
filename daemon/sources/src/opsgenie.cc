#include "common.h"
#include "vendors.h"

namespace teamhealth::sources {
namespace {

// Placeholder until the opsgenie normaliser lands: every record is rejected as unsupported.
class OpsgenieSource final : public Source {
 public:
  std::string_view name() const override { return "opsgenie"; }
  void Normalize(const RawRecord&, NormalizeResult& out) override {
    out.Reject(Reason::kUnsupportedEvent, "the opsgenie normaliser is not implemented yet");
  }
};

}  // namespace

std::unique_ptr<Source> MakeOpsgenieSource(const SourceOptions&) {
  return std::make_unique<OpsgenieSource>();
}

}  // namespace teamhealth::sources
