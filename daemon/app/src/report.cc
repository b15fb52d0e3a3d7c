// `teamhealth report`: the section 7 metrics of one team over exactly [from, to), computed
// from the log or from canonical JSON lines with the same projections as the live metrics.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>
#include <unordered_set>

#include "commands.h"
#include "directory.h"
#include "replay.h"
#include "teamhealth/base/json_writer.h"
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
    "usage: teamhealth report --config FILE (--events FILE.jsonl ... | --log DIR)\n"
    "         --team T --from RFC3339 --to RFC3339 [--format table|json|csv]\n"
    "         [--set NAME=VALUE ...]\n"
    "  The metrics of team T over exactly [from, to): counters are the increase inside the\n"
    "  window, histograms give count, sum, p50, p80, p95, gauges are as of `to`.\n"
    "  --events reads canonical JSON lines (as `normalize` prints them), deduplicated by id;\n"
    "  people are matched to the config's directory. --log reads a daemon's state directory.\n"
    "  What-if (--set, repeatable): sleep=HH:MM-HH:MM, working_hours=HH:MM-HH:MM, and every\n"
    "  [metrics] and [privacy] definition (switch_cost_minutes=N, session_gap_minutes=N, ...),\n"
    "  checked against the same ranges as the config.\n";

struct Options {
  std::string config;
  std::vector<std::string> events;
  std::string log_dir;
  std::string team;
  EpochMillis from = 0, to = 0;
  std::string format = "table";
  std::vector<std::pair<std::string, std::string>> sets;
  bool include_people = true;  // series with a `person` label (API: admin token only)
};

Result<Options> Parse(const Args& args) {
  Options o;
  o.config = args.Get("config");
  o.events = args.All("events");
  o.log_dir = args.Get("log");
  o.team = args.Get("team");
  o.format = args.Get("format", "table");
  if (o.events.empty() == o.log_dir.empty()) {
    return Error(o.log_dir.empty() ? "missing --events FILE or --log DIR"
                                   : "give --events or --log, not both");
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
  if (o.format != "table" && o.format != "json" && o.format != "csv") {
    return Error("--format " + o.format + ": expected table, json or csv");
  }
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

bool HasTeam(const projections::Labels& labels, const std::string& team,
             projections::Labels& rest) {
  bool match = false;
  rest.clear();
  for (const auto& [k, v] : labels) {
    if (k == "team") {
      match = v == team;
    } else {
      rest.emplace_back(k, v);
    }
  }
  return match;
}

void WriteLabels(JsonWriter& w, const projections::Labels& labels) {
  w.Key("labels").BeginObject();
  for (const auto& [k, v] : labels) w.Key(k).String(v);
  w.EndObject();
}

std::string LabelText(const projections::Labels& labels) {
  std::string s = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    s += (i ? "," : "") + labels[i].first + "=\"" + labels[i].second + "\"";
  }
  return s + "}";
}

std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

// Writes the report of `team` in the requested format.
std::string Emit(const Options& o, projections::WindowSink& sink,
                 const std::set<std::string>& hidden) {
  std::string out;
  JsonWriter w(out);
  if (o.format == "json") {
    w.BeginObject().Key("team").String(o.team);
    w.Key("from").String(FormatRfc3339(o.from)).Key("to").String(FormatRfc3339(o.to));
    w.Key("metrics").BeginObject();
  } else if (o.format == "csv") {
    out += "metric,labels,value,count,sum,p50,p80,p95\n";
  } else {
    out += "teamhealth report: team " + o.team + ", " + FormatRfc3339(o.from) + " to " +
           FormatRfc3339(o.to) + "\n";
  }
  projections::Labels rest;
  // The team's series, without the per-person ones unless they may be shown.
  auto selected = [&](const projections::Labels& labels) {
    if (!HasTeam(labels, o.team, rest)) return false;
    return o.include_people ||
           std::none_of(rest.begin(), rest.end(), [](const auto& l) { return l.first == "person"; });
  };
  for (const auto& spec : projections::AllSpecs()) {
    const std::string name(spec.name);
    if (name == "teamhealth_privacy_suppressed_series" || hidden.contains(name)) continue;
    if (o.format == "json") w.Key(name).BeginArray();
    auto scalar = [&](const std::map<std::string, std::map<projections::Labels, double>>& m) {
      auto it = m.find(name);
      if (it == m.end()) return;
      for (const auto& [labels, v] : it->second) {
        if (!selected(labels)) continue;
        if (o.format == "json") {
          w.BeginObject();
          WriteLabels(w, rest);
          w.Key("value").Double(v).EndObject();
        } else if (o.format == "csv") {
          out += name + ",\"" + LabelText(rest) + "\"," + Num(v) + ",,,,,\n";
        } else {
          out += "  " + name + LabelText(rest) + " " + Num(v) + "\n";
        }
      }
    };
    if (spec.type == projections::MetricType::kCounter) scalar(sink.counters());
    if (spec.type == projections::MetricType::kGauge) scalar(sink.gauges());
    if (spec.type == projections::MetricType::kHistogram) {
      auto it = sink.observations().find(name);
      if (it != sink.observations().end()) {
        for (const auto& [labels, values] : it->second) {
          if (!selected(labels)) continue;
          std::vector<double> v = values;
          double sum = 0;
          for (double x : v) sum += x;
          const double p50 = projections::Percentile(v, 50), p80 = projections::Percentile(v, 80),
                       p95 = projections::Percentile(v, 95);
          if (o.format == "json") {
            w.BeginObject();
            WriteLabels(w, rest);
            w.Key("count").Int(static_cast<int64_t>(v.size())).Key("sum").Double(sum);
            w.Key("p50").Double(p50).Key("p80").Double(p80).Key("p95").Double(p95).EndObject();
          } else if (o.format == "csv") {
            out += name + ",\"" + LabelText(rest) + "\",," + std::to_string(v.size()) + "," +
                   Num(sum) + "," + Num(p50) + "," + Num(p80) + "," + Num(p95) + "\n";
          } else {
            out += "  " + name + LabelText(rest) + " count=" + std::to_string(v.size()) +
                   " sum=" + Num(sum) + " p50=" + Num(p50) + " p80=" + Num(p80) +
                   " p95=" + Num(p95) + "\n";
          }
        }
      }
    }
    if (o.format == "json") w.EndArray();
  }
  if (o.format == "json") {
    w.EndObject();
    w.Key("suppressed").BeginArray();
    for (const auto& h : hidden) w.String(h);
    w.EndArray().EndObject();
    out += "\n";
  } else if (o.format == "table" && !hidden.empty()) {
    out += "  (suppressed for a team smaller than privacy.min_group_size: " +
           std::to_string(hidden.size()) + " metrics)\n";
  }
  return out;
}

}  // namespace

namespace {

struct ReportRequest {
  Options options;
  std::map<std::string, std::string> people;  // reference -> handle, beyond the config's
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
  const ReplaySource source{.live_log = live_log, .log_dir = o.log_dir, .event_files = o.events};
  if (auto s = ReplayUntil(source, config, pipeline, sink, o.to, nullptr, settings.person_metrics,
                           handle_of_ref);
      !s) {
    return s.error();
  }
  pipeline.ExportGauges(o.to, sink);
  if (settings.person_metrics) sink.NamePeople(pipeline.KeyNames(handle_of_ref));
  // Privacy: burnout and direct-interruption metrics of a small team are not shown.
  std::set<std::string> hidden;
  const auto sizes = pipeline.TeamSizes(o.to);
  const auto size = sizes.find(o.team);
  if (size == sizes.end() || size->second < settings.min_group_size) {
    for (const auto& spec : projections::AllSpecs()) {
      if (projections::IsSmallTeamSensitive(spec.name)) hidden.emplace(spec.name);
    }
  }
  return Emit(o, sink, hidden);
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
  o.format = field("format").empty() ? "json" : field("format");
  const auto from = ParseRfc3339(field("from")), to = ParseRfc3339(field("to"));
  if (o.team.empty()) return Error("query parameter team is required");
  if (!from) return Error("query parameter from: expected RFC 3339");
  if (!to) return Error("query parameter to: expected RFC 3339");
  if (*from < 0) return Error("query parameter from: before 1970-01-01, where the log starts");
  if (*to <= *from) return Error("query parameter to: must be after from");
  if (o.format != "json" && o.format != "csv" && o.format != "table") {
    return Error("format: expected json, csv or table");
  }
  o.from = *from;
  o.to = *to;
  o.log_dir = "(live)";
  return BuildReport(request, config, &log);
}

namespace {

int Report(const Args& args) {
  auto options = Parse(args);
  if (!options) return UsageError(args, options.error().message());
  auto config = config::LoadConfigFile(options->config);
  if (!config) {
    std::fprintf(stderr, "%s: %s\n", options->config.c_str(), config.error().message().c_str());
    return 1;
  }
  auto out = BuildReport(ReportRequest{*options}, *config, nullptr);
  if (!out) {
    std::fprintf(stderr, "teamhealth report: %s\n", out.error().message().c_str());
    // What-if overrides that do not parse are usage errors.
    return out.error().message().starts_with("--set") ? 2 : 1;
  }
  std::fwrite(out->data(), 1, out->size(), stdout);
  return 0;
}

}  // namespace

Command ReportCommand() {
  return {.name = "report",
          .usage = kReportUsage,
          .spec = {.options = {"config", "log", "team", "from", "to", "format"},
                   .repeated = {"events", "set"},
                   .required = {"config", "team", "from", "to"}},
          .run = Report};
}

}  // namespace teamhealth::app
