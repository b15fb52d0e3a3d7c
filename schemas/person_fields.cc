#include "person_fields.h"

namespace teamhealth::schema {

bool IsPersonAttr(std::string_view type, std::string_view name) {
  if (name == "assignees") return type.starts_with("incident.");
  if (name == "mentions" || name == "recipients") return type == "chat.message";
  if (name == "assignee") return type == "work_item.created";
  if (name == "from" || name == "to") return type == "work_item.assigned";
  if (name == "reviewer") return type == "pull_request.review_requested";
  if (name == "person") return type == "oncall.shift" || type == "person.time_off";
  return false;
}

}  // namespace teamhealth::schema
