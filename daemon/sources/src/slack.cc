#include "common.h"
#include "vendors.h"

namespace teamhealth::sources {
namespace {

// Placeholder until the slack normaliser lands: every record is rejected as unsupported.
class SlackSource final : public Source {
 public:
  std::string_view name() const override { return "slack"; }
  void Normalize(const RawRecord&, NormalizeResult& out) override {
    out.Reject(Reason::kUnsupportedEvent, "the slack normaliser is not implemented yet");
  }
};

}  // namespace

std::unique_ptr<Source> MakeSlackSource(const SourceOptions&) {
  return std::make_unique<SlackSource>();
}

}  // namespace teamhealth::sources
