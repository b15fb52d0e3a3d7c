// The [directory] and [sources] sections of the config.
#include <date/tz.h>

#include <set>

#include "parse_util.h"

namespace teamhealth::config {
namespace {

constexpr std::string_view kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};

bool ValidHourRange(std::string_view s) {
  // HH:MM-HH:MM with 00:00 <= HH:MM <= 24:00.
  if (s.size() != 11 || s[5] != '-') return false;
  auto hm = [](std::string_view t) {
    if (t.size() != 5 || t[2] != ':') return -1;
    for (int i : {0, 1, 3, 4}) {
      if (t[i] < '0' || t[i] > '9') return -1;
    }
    const int h = (t[0] - '0') * 10 + (t[1] - '0');
    const int m = (t[3] - '0') * 10 + (t[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && m != 0)) return -1;
    return h * 60 + m;
  };
  const int a = hm(s.substr(0, 5));
  const int b = hm(s.substr(6, 5));
  return a >= 0 && b >= 0 && a != b;
}

Status ParseSchedule(const toml::table& t, const std::string& path, Schedule& out) {
  std::string tz;
  if (t.contains("timezone")) {
    if (auto s = ReadString(t, path, "timezone", tz); !s) return s;
    try {
      (void)date::locate_zone(tz);
    } catch (const std::exception&) {
      return Error(path + ".timezone: unknown time zone \"" + tz +
                   "\" (use an IANA name such as \"Europe/London\")");
    }
    out.timezone = tz;
  }
  if (const auto* node = t.get("working_days")) {
    const auto* arr = node->as_array();
    if (!arr) return Error(path + ".working_days: must be an array such as [\"Mon\", \"Tue\"]");
    std::vector<std::string> days;
    for (const auto& d : *arr) {
      const auto v = d.value<std::string>();
      bool ok = v.has_value();
      if (ok) ok = std::find(std::begin(kDays), std::end(kDays), *v) != std::end(kDays);
      if (!ok)
        return Error(path + ".working_days: each day must be one of Mon Tue Wed Thu Fri Sat Sun");
      if (std::find(days.begin(), days.end(), *v) != days.end()) {
        return Error(path + ".working_days: " + *v + " is listed twice");
      }
      days.push_back(*v);
    }
    out.working_days = days;
  }
  for (const char* key : {"working_hours", "sleep_hours"}) {
    if (!t.contains(key)) continue;
    std::string v;
    if (auto s = ReadString(t, path, key, v); !s) return s;
    if (!ValidHourRange(v)) {
      return Error(path + "." + key + ": must be \"HH:MM-HH:MM\", got \"" + v + "\"");
    }
    (std::string_view(key) == "working_hours" ? out.working_hours : out.sleep_hours) = v;
  }
  return Status::Ok();
}

bool KnownIdentitySource(std::string_view s) {
  static const std::set<std::string_view> kSources = {"jira",  "github",    "linear",
                                                      "slack", "pagerduty", "opsgenie"};
  return kSources.contains(s);
}

Status ParseTeamMap(const toml::table& t, const std::string& path,
                    const std::set<std::string>& teams, std::map<std::string, std::string>& out) {
  for (const auto& [key, value] : t) {
    const std::string k(key.str());
    const auto colon = k.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == k.size() ||
        !KnownIdentitySource(k.substr(0, colon))) {
      return Error(path + ".\"" + k + "\": keys are \"<source>:<id>\", e.g. \"pagerduty:PLVTM9H\"");
    }
    const auto team = value.value<std::string>();
    if (!team) return Error(path + ".\"" + k + "\": must be a team name");
    if (!teams.contains(*team)) {
      return Error(path + ".\"" + k + "\": unknown team \"" + *team + "\"");
    }
    out[k] = *team;
  }
  return Status::Ok();
}

}  // namespace

Schedule DirectoryConfig::EffectiveSchedule(const PersonConfig& person) const {
  Schedule s = person.schedule;
  const TeamConfig* team = nullptr;
  for (const auto& t : teams) {
    if (!person.teams.empty() && t.name == person.teams.front()) team = &t;
  }
  auto fill = [](auto& field, const auto& from) {
    if (!field && from) field = from;
  };
  if (team) {
    fill(s.timezone, team->schedule.timezone);
    fill(s.working_days, team->schedule.working_days);
    fill(s.working_hours, team->schedule.working_hours);
    fill(s.sleep_hours, team->schedule.sleep_hours);
  }
  fill(s.timezone, defaults.timezone);
  fill(s.working_days, defaults.working_days);
  fill(s.working_hours, defaults.working_hours);
  fill(s.sleep_hours, defaults.sleep_hours);
  return s;
}

Status ParseDirectory(const toml::table& t, DirectoryConfig& d) {
  if (auto s = OnlyKeys(t, "directory", {"defaults", "teams", "people", "services", "projects"});
      !s) {
    return s;
  }
  d.defaults = Schedule{"UTC", std::vector<std::string>{"Mon", "Tue", "Wed", "Thu", "Fri"},
                        "08:00-18:00", "22:00-08:00"};
  if (const auto* node = t.get("defaults")) {
    const auto* dt = node->as_table();
    if (!dt) return Error("directory.defaults: must be a table");
    if (auto s = OnlyKeys(*dt, "directory.defaults",
                          {"timezone", "working_days", "working_hours", "sleep_hours"});
        !s) {
      return s;
    }
    if (auto s = ParseSchedule(*dt, "directory.defaults", d.defaults); !s) return s;
  }
  std::set<std::string> team_names;
  if (const auto* node = t.get("teams")) {
    const auto* arr = node->as_array();
    if (!arr) return Error("directory.teams: must be an array of tables ([[directory.teams]])");
    for (size_t i = 0; i < arr->size(); ++i) {
      const std::string path = "directory.teams[" + std::to_string(i) + "]";
      const auto* tt = (*arr)[i].as_table();
      if (!tt) return Error(path + ": must be a table");
      if (auto s = OnlyKeys(*tt, path,
                            {"name", "timezone", "working_days", "working_hours", "sleep_hours"});
          !s) {
        return s;
      }
      TeamConfig team;
      if (auto s = ReadString(*tt, path, "name", team.name); !s) return s;
      if (team.name.empty()) return Error(path + ".name: missing");
      // `unmapped` labels people outside the directory; `other` the sender teams beyond
      // privacy.max_sender_teams (docs/design.md 7.6). A team of either name would be mixed up
      // with them.
      if (team.name == "unmapped" || team.name == "other") {
        return Error(path + ".name: \"" + team.name + "\" is reserved");
      }
      if (!team_names.insert(team.name).second) {
        return Error(path + ".name: team \"" + team.name + "\" is declared twice");
      }
      if (auto s = ParseSchedule(*tt, path, team.schedule); !s) return s;
      d.teams.push_back(std::move(team));
    }
  }
  std::set<std::string> handles, identities;
  if (const auto* node = t.get("people")) {
    const auto* arr = node->as_array();
    if (!arr) return Error("directory.people: must be an array of tables ([[directory.people]])");
    for (size_t i = 0; i < arr->size(); ++i) {
      const std::string path = "directory.people[" + std::to_string(i) + "]";
      const auto* pt = (*arr)[i].as_table();
      if (!pt) return Error(path + ": must be a table");
      if (auto s = OnlyKeys(*pt, path,
                            {"handle", "team", "teams", "timezone", "working_days", "working_hours",
                             "sleep_hours", "identities"});
          !s) {
        return s;
      }
      PersonConfig person;
      if (auto s = ReadString(*pt, path, "handle", person.handle); !s) return s;
      if (person.handle.empty()) return Error(path + ".handle: missing");
      if (!handles.insert(person.handle).second) {
        return Error(path + ".handle: \"" + person.handle + "\" is listed twice");
      }
      if (pt->contains("team") && pt->contains("teams")) {
        return Error(path + ": give either team or teams, not both");
      }
      if (pt->contains("team")) {
        std::string team;
        if (auto s = ReadString(*pt, path, "team", team); !s) return s;
        person.teams.push_back(team);
      } else if (auto s = ReadStringArray(*pt, path, "teams", person.teams); !s) {
        return s;
      }
      for (const auto& team : person.teams) {
        if (!team_names.contains(team)) {
          return Error(path + ".team: unknown team \"" + team +
                       "\" (declare it with [[directory.teams]])");
        }
      }
      if (auto s = ParseSchedule(*pt, path, person.schedule); !s) return s;
      if (auto s = ReadStringArray(*pt, path, "identities", person.identities); !s) return s;
      for (const auto& id : person.identities) {
        const auto colon = id.find(':');
        if (colon == std::string::npos || colon + 1 == id.size() ||
            !KnownIdentitySource(id.substr(0, colon))) {
          return Error(path + ".identities: \"" + id +
                       "\" is not \"<source>:<id>\" with source jira, github, linear, slack, "
                       "pagerduty or opsgenie");
        }
        if (!identities.insert(id).second) {
          return Error(path + ".identities: \"" + id + "\" belongs to two people");
        }
      }
      d.people.push_back(std::move(person));
    }
  }
  for (const char* key : {"services", "projects"}) {
    if (const auto* node = t.get(key)) {
      const auto* mt = node->as_table();
      if (!mt) return Error(std::string("directory.") + key + ": must be a table");
      if (auto s = ParseTeamMap(*mt, std::string("directory.") + key, team_names,
                                std::string_view(key) == "services" ? d.services : d.projects);
          !s) {
        return s;
      }
    }
  }
  return Status::Ok();
}

Status ParseSources(const toml::table& t, SourcesConfig& c) {
  if (auto s = OnlyKeys(t, "sources", {"status_categories"}); !s) return s;
  if (const auto* node = t.get("status_categories")) {
    const auto* mt = node->as_table();
    if (!mt) return Error("sources.status_categories: must be a table");
    for (const auto& [key, value] : *mt) {
      const std::string k(key.str());
      const auto v = value.value<std::string>();
      if (!v || (*v != "todo" && *v != "in_progress" && *v != "done")) {
        return Error("sources.status_categories.\"" + k +
                     "\": must be \"todo\", \"in_progress\" or \"done\"");
      }
      if (k.find(':') == std::string::npos) {
        return Error("sources.status_categories.\"" + k +
                     "\": keys are \"<source>:<status id or name>\", e.g. \"jira:10001\"");
      }
      c.status_categories[k] = *v;
    }
  }
  return Status::Ok();
}

}  // namespace teamhealth::config
