// `teamhealth report`: the section 7 metrics of one team (or every team) over exactly
// [from, to), computed from the log or from canonical JSON lines with the same projections as
// the live metrics. How the numbers are written is report_format.h's business.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>
#include <unordered_set>

#include "commands.h"
#include "directory.h"
#include "facts.h"
#include "replay.h"
#include "report_format.h"
#include "report_html.h"
#include "teams.h"
#include "teamhealth/config/config.h"
#include "teamhealth/eventlog/event_log.h"
#include "teamhealth/projections/accumulator.h"
#include "teamhealth/projections/pipeline.h"
#include "teamhealth/projections/registry.h"
#include "teamhealth/projections/window.h"
#include "teamhealth/projector/projector.h"
#include "teamhealth/sources/source.h"
#include "teamhealth/storage/store.h"

namespace teamhealth::app {
namespace {

constexpr const char* kReportUsage =
    "usage: teamhealth report (--config FILE --events FILE.jsonl... | --log DIR [--config FILE])\n"
    "         [--team T] --from RFC3339 --to RFC3339 [--format table|json|csv|html]\n"
    "         [--set NAME=VALUE ...] [--verbose]\n"
    "  The metrics of team T over exactly [from, to): counters are the increase inside the\n"
    "  window, histograms give count, sum, mean, p50, p80, p95 (the team pulse also how many\n"
    "  answered each score), gauges are as of `to`. Without\n"
    "  --team: every team of the directory (and `unmapped`), one after the other (JSON: an\n"
    "  array of the one-team objects; CSV: a `team` column). An unknown team is an error that\n"
    "  lists the known ones (exit 2).\n"
    "  --events reads canonical JSON lines (as `normalize` prints them), deduplicated by id;\n"
    "  several files: `--events a b c` or `--events a --events b`. People are matched to the\n"
    "  config's directory (--config is required with --events).\n"
    "  --log reads a daemon's state directory: the directory recorded in the log. Without\n"
    "  --config, the definitions are the defaults of a config that sets none, and no service\n"
    "  or project maps to a team (those maps live only in the config): incidents then count\n"
    "  for their first assignee's team, items and pull requests for their assignee's or\n"
    "  author's.\n"
    "  Formats: table (durations humanised: 7d 22h, 12m 30s), json (raw seconds), csv\n"
    "  (RFC 4180, one column per label), html (needs --team: one self-contained retro page,\n"
    "  inline SVG charts, this window against the previous one of the same length).\n"
    "  What-if (--set, repeatable): sleep=HH:MM-HH:MM, working_hours=HH:MM-HH:MM, and every\n"
    "  [metrics] and [privacy] definition (switch_cost_minutes=N, session_gap_minutes=N, ...),\n"
    "  checked against the same ranges as the config.\n"
    "  A log's report reads the metric facts the daemon (or `import`) built with the same\n"
    "  definitions: its cost grows with the window, not the log. Event files, what-if and a log\n"
    "  whose facts were built with other definitions are replayed from the start instead.\n"
    "  --verbose says on stderr which of the two it did, and why.\n";

struct Options {
  std::string config;  // empty: --log without a config (the log's directory, default definitions)
  std::vector<std::string> events;
  std::string log_dir;
  std::string team;  // empty: every team
  EpochMillis from = 0, to = 0;
  ReportFormat format = ReportFormat::kTable;
  bool html = false;  // the retro page of one team (report_html.h) instead of `format`
  std::vector<std::pair<std::string, std::string>> sets;
  bool include_people = true;  // series with a `person` label (API: admin token only)
};

Result<Options> Parse(const Args& args) {
  Options o;
  o.config = args.Get("config");
  o.events = args.All("events");
  o.log_dir = args.Get("log");
  o.team = args.Get("team");
  if (o.events.empty() == o.log_dir.empty()) {
    return Error(o.log_dir.empty() ? "missing --events FILE or --log DIR"
                                   : "give --events or --log, not both");
  }
  if (!o.events.empty() && o.config.empty()) {
    return Error("missing --config: --events needs the config's directory (only --log can go "
                 "without one)");
  }
  for (const auto& set : args.All("set")) {
    const auto eq = set.find('=');
    if (eq == std::string::npos || eq == 0) return Error("--set " + set + ": expected NAME=VALUE");
    o.sets.emplace_back(set.substr(0, eq), set.substr(eq + 1));
  }
  const std::string from = args.Get("from"), to = args.Get("to");
  const auto f = ParseRfc3339(from), t = ParseRfc3339(to);
  if (!f) return Error("--from " + from + ": not an RFC 3339 time");
  if (!t) return Error("--to " + to + ": not an RFC 3339 time");
  if (*t <= *f) return Error("--to must be after --from");
  o.from = *f;
  o.to = *t;
  const std::string format = args.Get("format", "table");
  if (format == "html") {
    if (o.team.empty()) return Error("--format html: give --team (the page is about one team)");
    o.html = true;
    return o;
  }
  const auto parsed = ParseReportFormat(format);
  if (!parsed) return Error("--format " + format + ": expected table, json, csv or html");
  o.format = *parsed;
  return o;
}

// Applies the what-if overrides: `sleep` / `working_hours` replace everyone's hours in the
// directory; every other name is a definition, validated by the definitions table exactly as
// the config is.
Status ApplySets(const Options& o, projections::Settings& s, projections::DirectoryView& d) {
  std::optional<std::pair<int, int>> sleep, working;
  for (const auto& [name, value] : o.sets) {
    if (name == "sleep" || name == "sleep_hours" || name == "working_hours") {
      int a = 0, b = 0;
      if (!projections::ParseHourRange(value, a, b)) {
        return Error("--set " + name + "=" + value + ": expected HH:MM-HH:MM");
      }
      (name == "working_hours" ? working : sleep) = std::make_pair(a, b);
      continue;
    }
    if (auto st = projections::SetDefinitionFromText(s, name, value); !st) {
      return Error("--set " + st.error().message());
    }
  }
  d.OverrideHours(sleep, working);
  return Status::Ok();
}

}  // namespace

namespace {

// Progress of a long replay, redrawn on one line of stderr.
void ReplayProgress(uint64_t applied, uint64_t total) {
  std::fprintf(stderr, "\rreplaying the log: %llu of %llu events",
               static_cast<unsigned long long>(applied), static_cast<unsigned long long>(total));
}

struct ReportRequest {
  Options options;
  std::map<std::string, std::string> people;  // reference -> handle, beyond the config's
  std::string* how = nullptr;  // receives how the window was read (replay.h ReadWindow)
  bool progress = false;       // a long replay draws its progress on stderr
};

// The report of `request` over the live log, the log directory or event files: a private
// pipeline (never the live projections) fed with the whole directory history first, then the
// events in event-time order up to `to`.
Result<std::string> BuildReport(const ReportRequest& request, const config::Config& config,
                                eventlog::EventLog* live_log) {
  const Options& o = request.options;
  projections::Settings settings = projections::MakeSettings(config);
  projections::DirectoryView directory = projections::MakeDirectoryView(config.directory);
  if (auto s = ApplySets(o, settings, directory); !s) return s.error();
  projections::Pipeline pipeline(std::move(directory), settings);
  projections::WindowSink sink(o.from, o.to);
  std::map<std::string, std::string> handle_of_ref = request.people;  // per-person series
  // Once the directory is preloaded: the teams a report can be about, and whether o.team is one.
  std::set<std::string> known;
  auto check_team = [&]() -> Status {
    known = TeamNames(pipeline.directory(), config.directory);
    known.insert("unmapped");  // what no directory entry or service/project map places
    if (o.team.empty() || known.contains(o.team)) return Status::Ok();
    std::string list;
    for (const auto& t : known) list += (list.empty() ? "" : ", ") + t;
    return Error(ErrorKind::kNotFound, "unknown team " + o.team + " (known teams: " + list + ")");
  };
  const ReplaySource source{.live_log = live_log, .log_dir = o.log_dir, .event_files = o.events};
  const FactWindow window{.from = o.from,
                          .teams = [&] {
                            return o.team.empty() ? known : std::set<std::string>{o.team};
                          },
                          .on_fact = nullptr,
                          .progress = request.progress ? ReplayProgress : nullptr,
                          .gauges = &sink,
                          .totals_only = true};
  std::string how;
  if (auto s = ReadWindow(source, config, pipeline, sink, o.to, nullptr, settings.person_metrics,
                          handle_of_ref, check_team, o.sets.empty(), window, how);
      !s) {
    return s.error();
  }
  if (request.how != nullptr) *request.how = how;
  if (request.progress && how.starts_with("replay")) std::fputs("\r\033[K", stderr);
  if (settings.person_metrics) sink.NamePeople(pipeline.KeyNames(handle_of_ref));
  // Privacy: burnout and direct-interruption metrics of a small team are not shown, nor how
  // often a small sender team pinged anyone.
  const auto sizes = pipeline.TeamSizes(o.to);
  sink.WithholdSmallGroups(sizes, settings.min_group_size);
  ReportView view{.from = o.from,
                  .to = o.to,
                  .every_team = o.team.empty(),
                  .include_people = o.include_people,
                  .counters = &sink.counters(),
                  .gauges = &sink.gauges(),
                  .observations = &sink.observations()};
  for (const auto& team : o.team.empty() ? known : std::set<std::string>{o.team}) {
    ReportTeam shown{.name = team, .hidden = {}};
    const auto size = sizes.find(team);
    if (size == sizes.end() || size->second < settings.min_group_size) {
      for (const auto& spec : projections::AllSpecs()) {
        if (projections::IsSmallTeamSensitive(spec.name)) shown.hidden.emplace(spec.name);
      }
    }
    view.teams.push_back(std::move(shown));
  }
  return FormatReport(view, o.format);
}

// The zone of the page's day and hour charts: the team's configured zone, else the most common
// zone of its members at `at` (ties: the first by name), else the directory's default.
std::pair<std::string, std::string> TeamZone(const projections::DirectoryView& directory,
                                             const config::DirectoryConfig& config,
                                             const std::string& team, EpochMillis at) {
  for (const auto& t : config.teams) {
    if (t.name == team && t.schedule.timezone) return {*t.schedule.timezone, "the team's zone"};
  }
  std::map<std::string, int> zones;
  const auto members = directory.Members(team, at);
  for (const auto& m : members) ++zones[directory.EntryAt(m, at).pattern.timezone];
  std::pair<std::string, int> best{"", 0};
  for (const auto& [zone, n] : zones) {
    if (n > best.second) best = {zone, n};
  }
  if (best.second > 0) {
    return {best.first, "the zone of " + std::to_string(best.second) + " of its " +
                            std::to_string(members.size()) + " members"};
  }
  return {config.defaults.timezone.value_or("UTC"), "the directory's default zone"};
}

// The retro page of o.team: ONE replay from the previous window's start feeds the window's
// sink, the previous window's sink (its gauges exported as of `from`, when the replay reaches
// it) and the team's facts; the headline numbers are the report's numbers.
Result<std::string> BuildRetroPage(const Options& o, const config::Config& config,
                                   eventlog::EventLog* live_log, std::string* how_read) {
  projections::Settings settings = projections::MakeSettings(config);
  projections::DirectoryView directory = projections::MakeDirectoryView(config.directory);
  if (auto s = ApplySets(o, settings, directory); !s) return s.error();
  projections::Pipeline pipeline(directory, settings);
  const EpochMillis prev_from = o.from - (o.to - o.from);
  projections::WindowSink current(o.from, o.to), previous(prev_from, o.from);
  FactRecorder recorder(o.team, o.from, o.to);
  FanOutSink sink({&current, &previous, &recorder});
  auto check_team = [&]() -> Status {
    std::set<std::string> known = TeamNames(pipeline.directory(), config.directory);
    known.insert("unmapped");
    if (known.contains(o.team)) return Status::Ok();
    std::string list;
    for (const auto& t : known) list += (list.empty() ? "" : ", ") + t;
    return Error(ErrorKind::kNotFound, "unknown team " + o.team + " (known teams: " + list + ")");
  };
  std::string how;
  bool previous_gauges = false;
  auto hook = [&](Sequence seq, const schema::EventView& e) {
    // A replay passes `from` on its way: the previous window's gauges are as of then.
    if (how != "facts" && !previous_gauges && e.occurred_at_ms() >= o.from) {
      pipeline.ExportGauges(o.from, previous);
      previous_gauges = true;
    }
    recorder.BeginEvent(seq, e);
  };
  std::map<std::string, std::string> no_names;
  const ReplaySource source{.live_log = live_log, .log_dir = o.log_dir, .event_files = o.events};
  const FactWindow window{.from = prev_from,
                          .teams = [&] { return std::set<std::string>{o.team}; },
                          .on_fact = nullptr,
                          .progress = nullptr,
                          .gauges = &current};
  if (auto s = ReadWindow(source, config, pipeline, sink, o.to, hook, false, no_names,
                          check_team, o.sets.empty(), window, how);
      !s) {
    return s.error();
  }
  if (how == "facts") {
    // The previous window's gauges: a second pipeline as of `from` (a snapshot and a day).
    projections::Pipeline at_from(std::move(directory), settings);
    projections::WindowSink none(o.from, o.from);  // keeps nothing but gauges
    std::string again;
    const FactWindow gauges_only{.from = o.from,
                                 .teams = [&] { return std::set<std::string>{o.team}; },
                                 .on_fact = nullptr,
                                 .progress = nullptr,
                                 .gauges = &previous};
    if (auto s = ReadWindow(source, config, at_from, none, o.from, nullptr, false, no_names,
                            nullptr, true, gauges_only, again);
        !s) {
      return s.error();
    }
    previous_gauges = true;
  }
  if (how_read != nullptr) *how_read = how;
  if (!previous_gauges) pipeline.ExportGauges(o.from, previous);
  const auto sizes = pipeline.TeamSizes(o.to);
  current.WithholdSmallGroups(sizes, settings.min_group_size);
  previous.WithholdSmallGroups(sizes, settings.min_group_size);
  const auto size = sizes.find(o.team);
  RetroPageData data{.team = o.team,
                     .prev_from = prev_from,
                     .from = o.from,
                     .to = o.to,
                     .members = size == sizes.end() ? 0 : size->second,
                     .min_group_size = settings.min_group_size,
                     .current = &current,
                     .previous = &previous,
                     .facts = &recorder.facts()};
  data.small = data.members < settings.min_group_size;
  std::tie(data.zone, data.zone_reason) =
      TeamZone(pipeline.directory(), config.directory, o.team, o.to);
  return RenderRetroPage(data);
}

}  // namespace

Result<std::string> ReportFromQuery(const std::map<std::string, std::string>& query,
                                    const config::Config& config, eventlog::EventLog& log,
                                    bool include_people,
                                    const std::map<std::string, std::string>& people) {
  static const std::set<std::string> kParameters = {"team", "from", "to", "format"};
  for (const auto& [key, value] : query) {
    if (!kParameters.contains(key)) {
      return Error("unknown query parameter " + key + " (expected team, from, to, format)");
    }
  }
  ReportRequest request;
  Options& o = request.options;
  o.include_people = include_people;
  if (include_people) request.people = people;
  auto field = [&](const char* name) {
    auto it = query.find(name);
    return it == query.end() ? std::string() : it->second;
  };
  o.team = field("team");
  const std::string format = field("format").empty() ? "json" : field("format");
  const auto from = ParseRfc3339(field("from")), to = ParseRfc3339(field("to"));
  if (o.team.empty()) return Error("query parameter team is required");
  if (!from) return Error("query parameter from: expected RFC 3339");
  if (!to) return Error("query parameter to: expected RFC 3339");
  if (*from < 0) return Error("query parameter from: before 1970-01-01, where the log starts");
  if (*to <= *from) return Error("query parameter to: must be after from");
  const auto parsed = ParseReportFormat(format);
  if (!parsed) return Error("format: expected json, csv or table");
  o.format = *parsed;
  o.from = *from;
  o.to = *to;
  o.log_dir = "(live)";
  return BuildReport(request, config, &log);
}

Result<std::string> RetroPageFromQuery(const std::string& team,
                                       const std::map<std::string, std::string>& query,
                                       const config::Config& config, eventlog::EventLog& log,
                                       EpochMillis now) {
  Options o;
  o.team = team;
  o.html = true;
  o.log_dir = "(live)";
  for (const auto& [key, value] : query) {
    if (key != "from" && key != "to") {
      return Error("unknown query parameter " + key + " (expected from, to)");
    }
  }
  auto field = [&](const char* name) {
    auto it = query.find(name);
    return it == query.end() ? std::string() : it->second;
  };
  // Default: the 14 whole UTC days before today. Whole days read the gauges the metric facts
  // recorded at midnight, and a retro looks back at finished days.
  constexpr EpochMillis kDay = 86400LL * 1000;
  constexpr EpochMillis kFourteenDays = 14 * kDay;
  std::optional<EpochMillis> to = now - (now % kDay + kDay) % kDay, from;
  if (!field("to").empty()) to = ParseRfc3339(field("to"));
  if (!to) return Error("query parameter to: expected RFC 3339");
  from = field("from").empty() ? std::optional<EpochMillis>(*to - kFourteenDays)
                               : ParseRfc3339(field("from"));
  if (!from) return Error("query parameter from: expected RFC 3339");
  if (*from < 0) return Error("query parameter from: before 1970-01-01, where the log starts");
  if (*to <= *from) return Error("query parameter to: must be after from");
  if (*to - *from > 366LL * 86400 * 1000) return Error("window longer than 366 days");
  o.from = *from;
  o.to = *to;
  return BuildRetroPage(o, config, &log, nullptr);
}

namespace {

int Report(const Args& args) {
  auto options = Parse(args);
  if (!options) return UsageError(args, options.error().message());
  // --log without --config: the log's directory and the default definitions.
  Result<config::Config> config = config::Config{};
  if (!options->config.empty()) config = config::LoadConfigFile(options->config);
  if (!config) {
    std::fprintf(stderr, "%s: %s\n", options->config.c_str(), config.error().message().c_str());
    return 1;
  }
  std::string how;
  auto out = options->html ? BuildRetroPage(*options, *config, nullptr, &how)
                           : BuildReport(ReportRequest{*options, {}, &how,
                                                       isatty(STDERR_FILENO) == 1},
                                         *config, nullptr);
  if (args.Has("verbose") && !how.empty()) {
    std::fprintf(stderr, "teamhealth report: read from %s\n", how.c_str());
  }
  if (!out) {
    std::fprintf(stderr, "teamhealth report: %s\n", out.error().message().c_str());
    // What-if overrides that do not parse and unknown teams are usage errors.
    return out.error().message().starts_with("--set") || out.error().not_found() ? 2 : 1;
  }
  std::fwrite(out->data(), 1, out->size(), stdout);
  return 0;
}

}  // namespace

Command ReportCommand() {
  return {.name = "report",
          .usage = kReportUsage,
          .spec = {.options = {"config", "log", "team", "from", "to", "format"},
                   .repeated = {"set"},
                   .lists = {"events"},
                   .flags = {"verbose"},
                   .required = {"from", "to"}},
          .run = Report};
}

}  // namespace teamhealth::app
