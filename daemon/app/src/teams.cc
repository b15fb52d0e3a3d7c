// `teamhealth teams` and /api/v1/teams: the teams of the directory recorded in the log, their
// member counts, and whether small-group suppression hides some of their series.
#include "teams.h"

#include <algorithm>
#include <cstdio>

#include "commands.h"
#include "directory.h"
#include "report_format.h"
#include "teamhealth/base/json_writer.h"
#include "teamhealth/projections/pipeline.h"
#include "teamhealth/projections/registry.h"
#include "teamhealth/projector/projector.h"
#include "teamhealth/storage/store.h"

namespace teamhealth::app {
namespace {

constexpr const char* kTeamsUsage =
    "usage: teamhealth teams --log DIR [--config FILE] [--format table|json]\n"
    "  The teams of the directory recorded in the log (and, with --config, those it declares\n"
    "  or maps services and projects to), each with its members now and whether its burnout\n"
    "  and direct-interruption series are suppressed (fewer members than privacy.min_group_size:\n"
    "  the config's, or the default 5 without --config). Reads the state directory read-only\n"
    "  (safe while the daemon runs). The same list is GET /api/v1/teams.\n";

int Teams(const Args& args) {
  const std::string format = args.Get("format", "table");
  if (format != "table" && format != "json") {
    return UsageError(args, "--format " + format + ": expected table or json");
  }
  Result<config::Config> config = config::Config{};
  if (args.Has("config")) config = config::LoadConfigFile(args.Get("config"));
  if (!config) {
    std::fprintf(stderr, "%s: %s\n", args.Get("config").c_str(), config.error().message().c_str());
    return 1;
  }
  const std::string dir = args.Get("log");
  auto store = storage::Store::Open({dir, true, false});
  if (!store) {
    std::fprintf(stderr, "teamhealth teams: %s\n", store.error().message().c_str());
    return 1;
  }
  auto log = eventlog::EventLog::Open(**store, {.read_only = true});
  if (!log) {
    std::fprintf(stderr, "teamhealth teams: %s\n", log.error().message().c_str());
    return 1;
  }
  const EpochMillis now = NowMillis();
  auto teams = ListTeams(**log, *config, now);
  if (!teams) {
    std::fprintf(stderr, "teamhealth teams: %s\n", teams.error().message().c_str());
    return 1;
  }
  std::string out;
  if (format == "json") {
    out = TeamsJson(*teams, *config, now);
  } else {
    size_t width = 4;  // "TEAM"
    for (const auto& t : *teams) width = std::max(width, t.name.size());
    auto pad = [&](const std::string& s) { return s + std::string(width + 2 - s.size(), ' '); };
    out = pad("TEAM") + "MEMBERS  SUPPRESSED\n";
    for (const auto& t : *teams) {
      const std::string members = std::to_string(t.members);
      out += pad(t.name) + members + std::string(members.size() < 9 ? 9 - members.size() : 1, ' ') +
             (t.suppressed ? "yes" : "no") + "\n";
    }
    if (teams->empty()) out += "(no teams: the log records no directory)\n";
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace

std::set<std::string> TeamNames(const projections::DirectoryView& directory,
                                const config::DirectoryConfig& config) {
  std::set<std::string> names;
  for (auto& team : directory.Teams()) names.insert(std::move(team));
  for (const auto& team : config.teams) names.insert(team.name);
  for (const auto& [key, team] : config.services) names.insert(team);
  for (const auto& [key, team] : config.projects) names.insert(team);
  return names;
}

Result<std::vector<TeamInfo>> ListTeams(eventlog::EventLog& log, const config::Config& config,
                                        EpochMillis at) {
  const projections::Settings settings = projections::MakeSettings(config);
  // The pipeline's directory view is the one reports use: the same teams, the same sizes.
  projections::Pipeline pipeline(projections::MakeDirectoryView(config.directory), settings);
  if (auto s = projector::PreloadDirectory(log, pipeline); !s) return s.error();
  const auto sizes = pipeline.TeamSizes(at);
  std::vector<TeamInfo> out;
  for (const auto& name : TeamNames(pipeline.directory(), config.directory)) {
    const auto it = sizes.find(name);
    const int members = it == sizes.end() ? 0 : it->second;
    out.push_back({name, members, members < settings.min_group_size});
  }
  return out;
}

std::string TeamsJson(const std::vector<TeamInfo>& teams, const config::Config& config,
                      EpochMillis at) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Key("as_of").String(FormatRfc3339(at));
  w.Key("min_group_size").Int(projections::MakeSettings(config).min_group_size);
  w.Key("teams").BeginArray();
  for (const auto& t : teams) {
    w.BeginObject().Key("team").String(t.name).Key("members").Int(t.members);
    w.Key("suppressed").Bool(t.suppressed).EndObject();
  }
  w.EndArray().EndObject();
  return out + "\n";
}

Command TeamsCommand() {
  return {.name = "teams",
          .usage = kTeamsUsage,
          .spec = {.options = {"log", "config", "format"}, .required = {"log"}},
          .run = Teams};
}

}  // namespace teamhealth::app
