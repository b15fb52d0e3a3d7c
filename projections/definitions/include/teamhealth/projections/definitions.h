#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "teamhealth/base/result.h"

namespace teamhealth::projections {

// The values of every definition (docs/design.md section 7 defaults), as the projections read
// them. Each field is described once, in the table of Definitions() below; the defaults here
// are the table's defaults.
struct Settings {
  int64_t session_gap_ms = 2 * 3600 * 1000;
  double switch_cost_minutes = 15;
  int64_t page_merge_ms = 60 * 1000;
  // Burnout thresholds.
  int sleep_interruptions_7d = 2;
  double after_hours_share_14d = 0.25;
  int after_hours_min_activities = 20;
  int weekend_days_28d = 3;
  int no_rest_streak_days = 12;
  double oncall_share_28d = 0.25;
  int wip_limit = 3;
  int always_on_days_28d = 12;
  // Privacy.
  bool person_metrics = false;
  int min_group_size = 5;
  int max_sender_teams = 20;
};

// One setting that config (`[metrics]`, `[privacy]`) and what-if reports (`report --set`) may
// change. The table of them is the single place that says a setting's name, meaning, unit,
// default, allowed range and which projections' state depends on it: config parsing,
// check-config, `report --set` and the projections' rebuild tags all read it.
struct Definition {
  std::string_view section;  // config table: "metrics" or "privacy"
  std::string_view name;     // key in that table, and the name `report --set` takes
  std::string_view help;     // meaning, with its unit
  enum class Kind { kInteger, kNumber, kBoolean } kind;
  double min, max;  // allowed range, inclusive (booleans: 0..1)
  // Projections (by name) whose state depends on the value: a change rebuilds exactly these
  // from the start of the log. Empty for thresholds applied only when gauges are exported.
  std::vector<std::string_view> affects;
  double (*get)(const Settings&);
  void (*set)(Settings&, double);
};

// Every definition, in documentation order.
const std::vector<Definition>& Definitions();
const Definition* FindDefinition(std::string_view name);

// Checks `value` against the definition's kind and range and stores it. The error names the
// setting and its allowed range ("switch_cost_minutes=-5: must be between 0 and 1440").
Status SetDefinition(Settings& settings, const Definition& definition, double value);
// Parses a textual value (`report --set NAME=VALUE`: a number, or true/false) and sets it.
Status SetDefinitionFromText(Settings& settings, std::string_view name, std::string_view text);

// "name=value;" for every definition that affects `projection`, in table order: part of the
// projection's rebuild tag, so a changed value rebuilds it and nothing else.
std::string DefinitionTag(const Settings& settings, std::string_view projection);

// A value as the table prints it (integers without a fraction).
std::string FormatDefinitionValue(const Definition& definition, double value);

}  // namespace teamhealth::projections
