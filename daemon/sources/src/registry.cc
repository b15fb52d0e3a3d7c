#include <algorithm>
#include <array>
#include <cctype>

#include "canonical.h"
#include "teamhealth/sources/source.h"
#include "vendors.h"

namespace teamhealth::sources {

std::optional<std::string_view> RawRecord::Header(std::string_view name) const {
  for (const auto& h : headers) {
    if (EqualsIgnoreCase(h.name, name)) return h.value;
  }
  return std::nullopt;
}

std::string_view ReasonName(Reason reason) {
  switch (reason) {
    case Reason::kEmpty: return "empty";
    case Reason::kInvalidJson: return "invalid_json";
    case Reason::kMissingField: return "missing_field";
    case Reason::kInvalidField: return "invalid_field";
    case Reason::kBadTimestamp: return "bad_timestamp";
    case Reason::kUnknownType: return "unknown_type";
    case Reason::kUnsupportedEvent: return "unsupported_event";
    case Reason::kNoSource: return "no_source";
    case Reason::kTooLarge: return "too_large";
  }
  return "unknown";
}

void Source::Normalize(const RawRecord& record, NormalizeResult& out) {
  DoNormalize(record, out);
  RejectImpossibleTimes(out);
}

void Source::RejectImpossibleTimes(NormalizeResult& out) {
  // 0000-9999 is what RFC 3339 can write; before the Unix epoch is no event of ours.
  constexpr int64_t kMaxMillis = 253402300799999;  // 9999-12-31T23:59:59.999Z
  for (size_t i = 0; i < out.events.size(); ++i) {
    if (out.events.occurred_at_ms(i) < 0 || out.events.occurred_at_ms(i) > kMaxMillis) {
      return out.Reject(Reason::kBadTimestamp, "event time outside 1970-9999");
    }
  }
}

void SourceRegistry::Add(std::unique_ptr<Source> source) { sources_.push_back(std::move(source)); }

Source* SourceRegistry::Find(std::string_view name) const {
  for (const auto& s : sources_) {
    if (s->name() == name) return s.get();
  }
  return nullptr;
}

std::unique_ptr<SourceRegistry> MakeSourceRegistry(const SourceOptions& options) {
  auto registry = std::make_unique<SourceRegistry>();
  registry->Add(std::make_unique<CanonicalSource>(options.accept_directory_events));
  registry->Add(MakeJiraSource(options));
  registry->Add(MakeGithubSource(options));
  registry->Add(MakeLinearSource(options));
  registry->Add(MakeSlackSource(options));
  registry->Add(MakePagerDutySource(options));
  registry->Add(MakeOpsgenieSource(options));
  return registry;
}

namespace {
constexpr std::array<std::string_view, 8> kSourceNames = {
    "jira", "github", "linear", "slack", "pagerduty", "opsgenie", "canonical", "directory"};

constexpr std::array<std::string_view, 33> kEventTypes = {"work_item.created",
                                                          "work_item.status_changed",
                                                          "work_item.assigned",
                                                          "work_item.priority_changed",
                                                          "work_item.commented",
                                                          "work_item.deleted",
                                                          "work_item.worklogged",
                                                          "work_item.updated",
                                                          "pull_request.opened",
                                                          "pull_request.ready_for_review",
                                                          "pull_request.review_requested",
                                                          "pull_request.reviewed",
                                                          "pull_request.merged",
                                                          "pull_request.closed",
                                                          "pull_request.commented",
                                                          "chat.message",
                                                          "chat.reaction",
                                                          "chat.member_joined",
                                                          "incident.triggered",
                                                          "incident.acknowledged",
                                                          "incident.unacknowledged",
                                                          "incident.resolved",
                                                          "incident.reopened",
                                                          "incident.annotated",
                                                          "incident.escalated",
                                                          "incident.reassigned",
                                                          "incident.delegated",
                                                          "incident.priority_changed",
                                                          "oncall.shift",
                                                          "person.time_off",
                                                          "pulse.response",
                                                          "directory.person_upserted",
                                                          "directory.person_erased"};

constexpr std::array<std::string_view, 8> kSubjectKinds = {
    "work_item", "pull_request", "incident", "channel", "schedule", "person", "time_off", "team"};
}  // namespace

bool IsKnownSourceName(std::string_view name) {
  return std::find(kSourceNames.begin(), kSourceNames.end(), name) != kSourceNames.end();
}

bool IsKnownEventType(std::string_view type) {
  return !type.empty() &&
         std::find(kEventTypes.begin(), kEventTypes.end(), type) != kEventTypes.end();
}

bool IsKnownSubjectKind(std::string_view kind) {
  return std::find(kSubjectKinds.begin(), kSubjectKinds.end(), kind) != kSubjectKinds.end();
}

}  // namespace teamhealth::sources
