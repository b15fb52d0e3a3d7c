#include "event_view.h"

#include <algorithm>
#include <array>
#include <utility>

#include "person_fields.h"

namespace teamhealth::schema {

EventType TypeOf(std::string_view type) {
  static constexpr std::array<std::pair<std::string_view, EventType>, 17> kTypes = {{
      {"chat.message", EventType::kChatMessage},
      {"work_item.created", EventType::kWorkItemCreated},
      {"work_item.status_changed", EventType::kWorkItemStatusChanged},
      {"work_item.assigned", EventType::kWorkItemAssigned},
      {"work_item.commented", EventType::kWorkItemCommented},
      {"pull_request.opened", EventType::kPullRequestOpened},
      {"pull_request.merged", EventType::kPullRequestMerged},
      {"pull_request.closed", EventType::kPullRequestClosed},
      {"pull_request.review_requested", EventType::kPullRequestReviewRequested},
      {"incident.triggered", EventType::kIncidentTriggered},
      {"incident.acknowledged", EventType::kIncidentAcknowledged},
      {"incident.resolved", EventType::kIncidentResolved},
      {"incident.escalated", EventType::kIncidentEscalated},
      {"incident.reassigned", EventType::kIncidentReassigned},
      {"oncall.shift", EventType::kOncallShift},
      {"person.time_off", EventType::kPersonTimeOff},
      {"pulse.response", EventType::kPulseResponse},
  }};
  for (const auto& [name, code] : kTypes) {
    if (name == type) return code;
  }
  return type.starts_with("directory.") ? EventType::kDirectory : EventType::kOther;
}

TypeFamily FamilyOf(std::string_view type) {
  if (type.starts_with("work_item.")) return TypeFamily::kWorkItem;
  if (type.starts_with("pull_request.")) return TypeFamily::kPullRequest;
  if (type.starts_with("incident.")) return TypeFamily::kIncident;
  if (type.starts_with("directory.")) return TypeFamily::kDirectory;
  return TypeFamily::kOther;
}

SubjectKind SubjectKindOf(std::string_view kind) {
  if (kind == "work_item") return SubjectKind::kWorkItem;
  if (kind == "pull_request") return SubjectKind::kPullRequest;
  if (kind == "incident") return SubjectKind::kIncident;
  return SubjectKind::kOther;
}

const EventView::Value* EventView::FindAttr(std::string_view name) const {
  for (const auto& a : attrs_) {
    if (a.name_ == name) return &a.value_;
  }
  return nullptr;
}


EventView::EventView(const Event& e) { ViewOf(e, *this); }

EventView& EventView::operator=(const EventView& other) {
  if (this == &other) return *this;
  schema_version_ = other.schema_version_;
  id_ = other.id_;
  source_ = other.source_;
  type_ = other.type_;
  actor_ = other.actor_;
  actor_id_ = other.actor_id_;
  type_code_ = other.type_code_;
  type_family_ = other.type_family_;
  subject_kind_ = other.subject_kind_;
  occurred_at_ms_ = other.occurred_at_ms_;
  subject_ = other.subject_;
  subject_key_ = other.subject_key_;
  attrs_ = other.attrs_;  // vectors keep their capacity: no allocation once warm
  items_ = other.items_;
  slots_ = other.slots_;  // the same attributes in the same order
  slots_ready_ = other.slots_ready_;
  FixLists();
  return *this;
}

void EventView::SortAttrsByName() {
  slots_ready_ = false;
  auto by_name = [](const Attr& a, const Attr& b) { return a.name_ < b.name_; };
  if (attrs_.size() > 32) {
    std::stable_sort(attrs_.begin(), attrs_.end(), by_name);
    return;
  }
  // An insertion sort: an event has a handful, and it allocates nothing.
  for (size_t i = 1; i < attrs_.size(); ++i) {
    for (size_t j = i; j > 0 && by_name(attrs_[j], attrs_[j - 1]); --j) {
      std::swap(attrs_[j], attrs_[j - 1]);
    }
  }
}

void EventView::Finish() {
  type_code_ = TypeOf(type_);
  type_family_ = FamilyOf(type_);
  subject_kind_ = SubjectKindOf(subject_.kind_);
  slots_ready_ = false;  // found by name
  FixLists();
}

void EventView::FixLists() {
  for (auto& a : attrs_) {
    Value& v = a.value_;
    if (v.kind_ == Value::Kind::kList) {
      v.list_.values_ = std::span<const std::string_view>(items_).subspan(v.first_item_,
                                                                          v.item_count_);
    }
  }
}

void ViewOf(const Event& e, EventView& out) {
  out.Reset();
  out.set_schema_version(e.schema_version());
  out.set_id(e.id());
  out.set_source(e.source());
  out.set_type(e.type());
  out.set_occurred_at_ms(e.occurred_at_ms());
  out.set_actor(e.actor());
  if (e.has_subject()) {
    const Subject& s = e.subject();
    out.mutable_subject() = {s.kind(), s.id(), s.key(), s.project(), s.service(), s.title()};
  }
  for (const auto& a : e.attrs()) {
    out.AddAttr(a.name());
    const Value& v = a.value();
    switch (v.kind_case()) {
      case Value::kNullValue: out.SetNull(); break;
      case Value::kStringValue: out.SetString(v.string_value()); break;
      case Value::kIntValue: out.SetInt(v.int_value()); break;
      case Value::kDoubleValue: out.SetDouble(v.double_value()); break;
      case Value::kBoolValue: out.SetBool(v.bool_value()); break;
      case Value::kListValue:
        out.SetList();
        for (const auto& item : v.list_value().values()) out.AddListItem(item);
        break;
      case Value::KIND_NOT_SET: break;
    }
  }
  out.Finish();
}

Event ToMessage(const EventView& v) {
  Event e;
  e.set_schema_version(v.schema_version());
  e.set_id(std::string(v.id()));
  e.set_source(std::string(v.source()));
  e.set_type(std::string(v.type()));
  e.set_occurred_at_ms(v.occurred_at_ms());
  e.set_actor(std::string(v.actor()));
  const auto& s = v.subject();
  if (!(s.kind().empty() && s.id().empty() && s.key().empty() && s.project().empty() &&
        s.service().empty() && s.title().empty())) {
    auto* subject = e.mutable_subject();
    subject->set_kind(std::string(s.kind()));
    subject->set_id(std::string(s.id()));
    subject->set_key(std::string(s.key()));
    subject->set_project(std::string(s.project()));
    subject->set_service(std::string(s.service()));
    subject->set_title(std::string(s.title()));
  }
  for (const auto& a : v.attrs()) {
    auto* attr = e.add_attrs();
    attr->set_name(std::string(a.name()));
    const auto& value = a.value();
    auto* out = attr->mutable_value();
    switch (value.kind()) {
      case EventView::Value::Kind::kNull: out->set_null_value(true); break;
      case EventView::Value::Kind::kString:
        out->set_string_value(std::string(value.string_value()));
        break;
      case EventView::Value::Kind::kInt: out->set_int_value(value.int_value()); break;
      case EventView::Value::Kind::kDouble: out->set_double_value(value.double_value()); break;
      case EventView::Value::Kind::kBool: out->set_bool_value(value.bool_value()); break;
      case EventView::Value::Kind::kList: {
        auto* list = out->mutable_list_value();
        for (std::string_view item : value.list_value().values()) list->add_values(std::string(item));
        break;
      }
      case EventView::Value::Kind::kNotSet: break;
    }
  }
  return e;
}

}  // namespace teamhealth::schema
