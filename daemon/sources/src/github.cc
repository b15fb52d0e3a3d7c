#include "common.h"
#include "vendors.h"

namespace teamhealth::sources {
namespace {

// Placeholder until the github normaliser lands: every record is rejected as unsupported.
class GithubSource final : public Source {
 public:
  std::string_view name() const override { return "github"; }
  void Normalize(const RawRecord&, NormalizeResult& out) override {
    out.Reject(Reason::kUnsupportedEvent, "the github normaliser is not implemented yet");
  }
};

}  // namespace

std::unique_ptr<Source> MakeGithubSource(const SourceOptions&) {
  return std::make_unique<GithubSource>();
}

}  // namespace teamhealth::sources
