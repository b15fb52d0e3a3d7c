#include "teamhealth/projections/definitions.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace teamhealth::projections {
namespace {

using Kind = Definition::Kind;

std::vector<Definition> MakeTable() {
  // Ranges: wide enough for any real organisation, narrow enough that a typo (a negative cost,
  // a share above 1) is an error rather than a silently absurd number.
  return {
      {"metrics", "session_gap_minutes",
       "two activities of one person on different subjects closer than this are a context "
       "switch (minutes)",
       Kind::kInteger, 1, 10080, {"context_switching"},
       [](const Settings& s) { return static_cast<double>(s.session_gap_ms) / 60'000; },
       [](Settings& s, double v) { s.session_gap_ms = static_cast<int64_t>(v) * 60'000; }},
      {"metrics", "switch_cost_minutes",
       "estimated focus lost per context switch or business-hours direct interruption "
       "(minutes; an estimate)",
       Kind::kNumber, 0, 1440, {"context_switching"},
       [](const Settings& s) { return s.switch_cost_minutes; },
       [](Settings& s, double v) { s.switch_cost_minutes = v; }},
      {"metrics", "page_merge_seconds",
       "pages to one person closer than this merge into one interruption (seconds)",
       Kind::kInteger, 0, 3600, {"oncall_load", "burnout"},
       [](const Settings& s) { return static_cast<double>(s.page_merge_ms) / 1000; },
       [](Settings& s, double v) { s.page_merge_ms = static_cast<int64_t>(v) * 1000; }},
      {"metrics", "sleep_interruptions_7d",
       "burnout: at risk with this many interruptions in the sleep window over 7 days",
       Kind::kInteger, 1, 1000, {},
       [](const Settings& s) { return static_cast<double>(s.sleep_interruptions_7d); },
       [](Settings& s, double v) { s.sleep_interruptions_7d = static_cast<int>(v); }},
      {"metrics", "after_hours_share_14d",
       "burnout: at risk when this share of own activities over 14 days is off hours or sleep",
       Kind::kNumber, 0, 1, {},
       [](const Settings& s) { return s.after_hours_share_14d; },
       [](Settings& s, double v) { s.after_hours_share_14d = v; }},
      {"metrics", "after_hours_min_activities",
       "burnout: after_hours_share_14d needs at least this many own activities in 14 days",
       Kind::kInteger, 0, 100000, {},
       [](const Settings& s) { return static_cast<double>(s.after_hours_min_activities); },
       [](Settings& s, double v) { s.after_hours_min_activities = static_cast<int>(v); }},
      {"metrics", "weekend_days_28d",
       "burnout: at risk with activity on this many non-working days of the last 28",
       Kind::kInteger, 1, 28, {},
       [](const Settings& s) { return static_cast<double>(s.weekend_days_28d); },
       [](Settings& s, double v) { s.weekend_days_28d = static_cast<int>(v); }},
      {"metrics", "no_rest_streak_days",
       "burnout: at risk after this many consecutive days with activity (also how many days "
       "of activity the projection keeps)",
       Kind::kInteger, 1, 365, {"burnout"},
       [](const Settings& s) { return static_cast<double>(s.no_rest_streak_days); },
       [](Settings& s, double v) { s.no_rest_streak_days = static_cast<int>(v); }},
      {"metrics", "oncall_share_28d",
       "burnout: at risk above this share of the last 28 days on call (strictly above)",
       Kind::kNumber, 0, 1, {},
       [](const Settings& s) { return s.oncall_share_28d; },
       [](Settings& s, double v) { s.oncall_share_28d = v; }},
      {"metrics", "wip_limit",
       "burnout: at risk with more than this many in-progress items assigned",
       Kind::kInteger, 0, 1000, {},
       [](const Settings& s) { return static_cast<double>(s.wip_limit); },
       [](Settings& s, double v) { s.wip_limit = static_cast<int>(v); }},
      {"metrics", "always_on_days_28d",
       "burnout: at risk with own activity in off hours or sleep on this many distinct local "
       "days of the last 28",
       Kind::kInteger, 1, 28, {},
       [](const Settings& s) { return static_cast<double>(s.always_on_days_28d); },
       [](Settings& s, double v) { s.always_on_days_28d = static_cast<int>(v); }},
      {"privacy", "person_metrics",
       "also export per-person series (teamhealth_person_*), named by directory handle",
       Kind::kBoolean, 0, 1, {"oncall_load", "context_switching"},
       [](const Settings& s) { return s.person_metrics ? 1.0 : 0.0; },
       [](Settings& s, double v) { s.person_metrics = v != 0; }},
      {"privacy", "min_group_size",
       "burnout, direct-interruption and pulse series need a team of at least this many members",
       Kind::kInteger, 1, 1000, {},
       [](const Settings& s) { return static_cast<double>(s.min_group_size); },
       [](Settings& s, double v) { s.min_group_size = static_cast<int>(v); }},
      {"privacy", "max_sender_teams",
       "teamhealth_direct_interruptions_by_sender_team_total keeps at most this many sender "
       "teams per team; later ones count as sender_team=\"other\"",
       Kind::kInteger, 1, 1000, {"context_switching"},
       [](const Settings& s) { return static_cast<double>(s.max_sender_teams); },
       [](Settings& s, double v) { s.max_sender_teams = static_cast<int>(v); }},
  };
}

}  // namespace

const std::vector<Definition>& Definitions() {
  static const std::vector<Definition> table = MakeTable();
  return table;
}

const Definition* FindDefinition(std::string_view name) {
  for (const auto& d : Definitions()) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

std::string FormatDefinitionValue(const Definition& d, double value) {
  if (d.kind == Definition::Kind::kBoolean) return value != 0 ? "true" : "false";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", value);
  return buf;
}

Status SetDefinition(Settings& settings, const Definition& d, double value) {
  const std::string name(d.name);
  if (!std::isfinite(value) || value < d.min || value > d.max) {
    if (d.kind == Definition::Kind::kBoolean) return Error(name + ": must be true or false");
    return Error(name + "=" + FormatDefinitionValue(d, value) + ": must be between " +
                 FormatDefinitionValue(d, d.min) + " and " + FormatDefinitionValue(d, d.max));
  }
  if (d.kind == Definition::Kind::kInteger && value != std::floor(value)) {
    return Error(name + "=" + FormatDefinitionValue(d, value) + ": must be a whole number");
  }
  d.set(settings, value);
  return Status::Ok();
}

Status SetDefinitionFromText(Settings& settings, std::string_view name, std::string_view text) {
  const Definition* d = FindDefinition(name);
  if (d == nullptr) {
    std::string known;
    for (const auto& def : Definitions()) known += (known.empty() ? "" : ", ") + std::string(def.name);
    return Error(std::string(name) + ": unknown definition (known: " + known + ")");
  }
  if (d->kind == Definition::Kind::kBoolean) {
    if (text != "true" && text != "false") {
      return Error(std::string(name) + "=" + std::string(text) + ": must be true or false");
    }
    return SetDefinition(settings, *d, text == "true" ? 1 : 0);
  }
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return Error(std::string(name) + "=" + std::string(text) + ": not a number");
  }
  return SetDefinition(settings, *d, value);
}

std::string DefinitionTag(const Settings& settings, std::string_view projection) {
  std::string tag;
  for (const auto& d : Definitions()) {
    for (auto p : d.affects) {
      if (p != projection) continue;
      tag += std::string(d.name) + "=" + FormatDefinitionValue(d, d.get(settings)) + ";";
    }
  }
  return tag;
}

}  // namespace teamhealth::projections
