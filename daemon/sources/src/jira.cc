#include "common.h"
#include "vendors.h"

namespace teamhealth::sources {
namespace {

// Placeholder until the jira normaliser lands: every record is rejected as unsupported.
class JiraSource final : public Source {
 public:
  std::string_view name() const override { return "jira"; }
  void Normalize(const RawRecord&, NormalizeResult& out) override {
    out.Reject(Reason::kUnsupportedEvent, "the jira normaliser is not implemented yet");
  }
};

}  // namespace

std::unique_ptr<Source> MakeJiraSource(const SourceOptions&) {
  return std::make_unique<JiraSource>();
}

}  // namespace teamhealth::sources
