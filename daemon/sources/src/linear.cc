#include "common.h"
#include "vendors.h"

namespace teamhealth::sources {
namespace {

// Placeholder until the linear normaliser lands: every record is rejected as unsupported.
class LinearSource final : public Source {
 public:
  std::string_view name() const override { return "linear"; }
  void Normalize(const RawRecord&, NormalizeResult& out) override {
    out.Reject(Reason::kUnsupportedEvent, "the linear normaliser is not implemented yet");
  }
};

}  // namespace

std::unique_ptr<Source> MakeLinearSource(const SourceOptions&) {
  return std::make_unique<LinearSource>();
}

}  // namespace teamhealth::sources
