#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace teamhealth::schema {

// The attribute names projections look up and normalisers write, as codes (issue 13): a view
// finds an attribute by code in one indexed load (EventView::FindAttr), where a search by name
// compared the name with each attribute's, ~190 instructions per replayed event. Any other name
// is kUnknown and still found by name. The compact column stores these codes: appending a name
// is fine, but renumbering or renaming one changes eventlog's kCompactFormat (compact.cc pins the
// count).
enum class AttrName : uint8_t {
  kUnknown,
  kAliases,
  kAssignee,
  kAssignees,
  kBot,
  kCancelled,
  kChannelType,
  kEdited,
  kEnd,
  kFields,
  kFrom,
  kFromCategory,
  kItemType,
  kLevel,
  kMentions,
  kPerson,
  kPriority,
  kRecipients,
  kReviewer,
  kScore,
  kSeconds,
  kSleepHours,
  kStart,
  kState,
  kStatus,
  kStatusCategory,
  kTeams,
  kThread,
  kTimezone,
  kTo,
  kToCategory,
  kUrgency,
  kWorkingDays,
  kWorkingHours,
};
inline constexpr size_t kAttrNameCount = static_cast<size_t>(AttrName::kWorkingHours) + 1;

// The name of each code, in code order ("" for kUnknown).
inline constexpr std::array<std::string_view, kAttrNameCount> kAttrNames = {
    "",           "aliases",         "assignee",  "assignees",    "bot",
    "cancelled",  "channel_type",    "edited",    "end",          "fields",
    "from",       "from_category",   "item_type", "level",        "mentions",
    "person",     "priority",        "recipients", "reviewer",    "score",
    "seconds",    "sleep_hours",     "start",     "state",        "status",
    "status_category", "teams",      "thread",    "timezone",     "to",
    "to_category", "urgency",        "working_days", "working_hours",
};

constexpr std::string_view NameOf(AttrName name) { return kAttrNames[static_cast<size_t>(name)]; }

// The code of `name`, or kUnknown.
AttrName AttrNameOf(std::string_view name);

}  // namespace teamhealth::schema
