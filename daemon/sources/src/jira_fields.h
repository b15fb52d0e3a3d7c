#pragma once

// Jira changelog items and their field names: which fields have an event type of their own,
// and the stable name of every other one. Private to jira.cc.

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common.h"  // EqualsIgnoreCase

namespace teamhealth::sources::jira {

// One changelog item. Values are views into the parser's string buffer (valid for this
// record only); fromString/toString are read only for fields whose names we emit.
struct Item {
  std::string_view field, field_id;
  std::optional<std::string_view> from, from_string, to, to_string, tmp_from, tmp_to;
};

enum class FieldKind { kStatus, kAssignee, kPriority, kOther };

// Display names of Server payloads (no fieldId) -> the stable field id Cloud sends.
inline constexpr std::array<std::pair<std::string_view, std::string_view>, 16> kFieldAliases = {{
    {"fix version", "fixVersions"},
    {"fix version/s", "fixVersions"},
    {"version", "versions"},
    {"affects version/s", "versions"},
    {"component", "components"},
    {"component/s", "components"},
    {"issue type", "issuetype"},
    {"due date", "duedate"},
    {"link", "issuelinks"},
    {"attachment", "attachment"},
    {"worklogid", "WorklogId"},
    {"time spent", "timespent"},
    {"remaining estimate", "timeestimate"},
    {"original estimate", "timeoriginalestimate"},
    {"parent", "parent"},
    {"security", "security"},
}};

// The stable name of a changelog item's field: its fieldId where present (Cloud), else the
// display name (Server) through the alias table, lower-cased for Jira's system fields.
// Sprint is a custom field whose id differs per instance (customfield_10020, ...), so it is
// named `sprint` whatever its id, as docs/design.md's example `fields` list does.
inline std::string FieldName(const Item& item) {
  if (EqualsIgnoreCase(item.field, "sprint") || EqualsIgnoreCase(item.field_id, "sprint")) {
    return "sprint";
  }
  if (!item.field_id.empty()) return std::string(item.field_id);
  for (const auto& [alias, id] : kFieldAliases) {
    if (EqualsIgnoreCase(item.field, alias)) return std::string(id);
  }
  for (std::string_view system :
       {"status", "assignee", "priority", "resolution", "labels", "summary", "description",
        "reporter", "issuetype", "duedate", "environment", "timespent", "timeestimate", "project",
        "key", "rank", "workflow", "comment"}) {
    if (EqualsIgnoreCase(item.field, system)) return std::string(system);
  }
  return std::string(item.field);  // a Server custom field: its display name is all we have
}

inline FieldKind KindOf(std::string_view field, std::string_view field_id) {
  const std::string_view name = field_id.empty() ? field : field_id;
  if (EqualsIgnoreCase(name, "status")) return FieldKind::kStatus;
  if (EqualsIgnoreCase(name, "assignee")) return FieldKind::kAssignee;
  if (EqualsIgnoreCase(name, "priority")) return FieldKind::kPriority;
  return FieldKind::kOther;
}

}  // namespace teamhealth::sources::jira
