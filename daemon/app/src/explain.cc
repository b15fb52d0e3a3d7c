// `teamhealth explain` and GET /api/v1/explain (docs/design.md section 8): the facts behind one
// number of a report — every counter increment or histogram observation of a metric for a team
// in [from, to) — each with the event that caused it. The facts come from the same replay as
// the report (replay.h), so their total is the report's number.
#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>

#include "commands.h"
#include "facts.h"
#include "replay.h"
#include "teams.h"
#include "teamhealth/base/json_writer.h"
#include "teamhealth/config/config.h"
#include "teamhealth/http/server.h"
#include "teamhealth/projections/accumulator.h"
#include "teamhealth/projections/pipeline.h"
#include "teamhealth/projections/registry.h"
#include "teamhealth/projections/window.h"

namespace teamhealth::app {
namespace {

constexpr const char* kExplainUsage =
    "usage: teamhealth explain --config FILE (--log DIR | --events FILE.jsonl ...) --team T\n"
    "         --from RFC3339 --to RFC3339 [--label NAME=VALUE ...] [--format table|json]\n"
    "         METRIC\n"
    "  The facts behind one number of `teamhealth report`: every increment of the counter (or\n"
    "  observation of the histogram) METRIC for team T in [from, to) whose labels include the\n"
    "  --label ones, each with the event that caused it: its sequence in the log, id, type,\n"
    "  instant, subject and actor (a pseudonym in a log). The total (a histogram's count and\n"
    "  sum) equals the report's number for the same labels. Gauges are computed at `to` from\n"
    "  the projections' state and have no facts.\n";

struct ExplainRequest {
  std::string team, metric, format = "table";
  EpochMillis from = 0, to = 0;
  projections::Labels filter;  // sorted by name
  bool admin = true;           // per-person series named by handle
  std::map<std::string, std::string> people;  // reference -> handle, beyond the config's
};

bool Matches(const projections::Labels& labels, const projections::Labels& filter) {
  for (const auto& want : filter) {
    if (std::find(labels.begin(), labels.end(), want) == labels.end()) return false;
  }
  return true;
}

std::string LabelText(const projections::Labels& labels) {
  std::string s;
  for (const auto& [k, v] : labels) s += (s.empty() ? "" : ",") + k + "=\"" + v + "\"";
  return "{" + s + "}";
}

std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

// The usage errors of a request: metric unknown or a gauge, labels, format.
Result<const projections::MetricSpec*> CheckRequest(const ExplainRequest& r) {
  const projections::MetricSpec* spec = nullptr;
  for (const auto& s : projections::AllSpecs()) {
    if (s.name == r.metric) spec = &s;
  }
  if (spec == nullptr) return Error("metric " + r.metric + ": not a team-health metric");
  if (spec->type == projections::MetricType::kGauge) {
    return Error("metric " + r.metric +
                 ": a gauge, computed at `to` from the projections' state; explain covers "
                 "counters and histograms");
  }
  if (r.metric == "teamhealth_pulse_score") {
    // Each fact would be one person's answer with its instant and id: the pulse is reported
    // only as a team's aggregate (docs/design.md 7.6).
    return Error("metric " + r.metric +
                 ": team pulse answers are anonymous and are never listed one by one");
  }
  if (r.format != "table" && r.format != "json") {
    return Error("format " + r.format + ": expected table or json");
  }
  return spec;
}

// Replays the window and returns its facts, per-person labels named by handle for an admin.
Result<std::vector<Fact>> CollectFacts(const ExplainRequest& r, const ReplaySource& source,
                                       const config::Config& config) {
  const projections::Settings settings = projections::MakeSettings(config);
  projections::Pipeline pipeline(projections::MakeDirectoryView(config.directory), settings);
  FactRecorder recorder(r.team, r.from, r.to, r.metric);
  std::map<std::string, std::string> handle_of_ref = r.people;
  const bool name_people = settings.person_metrics && r.admin;
  auto check_team = [&]() -> Status {
    std::set<std::string> known = TeamNames(pipeline.directory(), config.directory);
    known.insert("unmapped");
    if (known.contains(r.team)) return Status::Ok();
    std::string list;
    for (const auto& t : known) list += (list.empty() ? "" : ", ") + t;
    return Error(ErrorKind::kNotFound, "unknown team " + r.team + " (known teams: " + list + ")");
  };
  const FactWindow window{
      .from = r.from,
      .teams = [&] { return std::set<std::string>{r.team}; },
      .on_fact = [&](const std::string&, const projector::StoredFact& f) {
        recorder.BeginStored(f.sequence, f.caused_at);
      }};
  std::string how;
  if (auto s = ReadWindow(
          source, config, pipeline, recorder, r.to,
          [&](Sequence seq, const schema::EventView& e) { recorder.BeginEvent(seq, e); },
          name_people,
          handle_of_ref, check_team, true, window, how);
      !s) {
    return s.error();
  }
  // Stored facts carry their event's sequence: read those events once each.
  std::map<uint64_t, EventRef> events;
  if (auto s = ForEachLogged(source, config, recorder.Undescribed(),
                             [&](Sequence seq, const schema::EventView& e) {
                               events.emplace(seq.value(), EventRef::Of(seq, e));
                             });
      !s) {
    return s.error();
  }
  recorder.Describe(events);
  std::stable_sort(recorder.facts().begin(), recorder.facts().end(),
                   [](const Fact& a, const Fact& b) {
                     return std::tie(a.at, a.event.sequence) < std::tie(b.at, b.event.sequence);
                   });
  // Privacy as in the report: a small team's sensitive metrics are not shown at all, nor the
  // pings of a small sender team (below).
  const auto sizes = pipeline.TeamSizes(r.to);
  if (projections::IsSmallTeamSensitive(r.metric)) {
    const auto size = sizes.find(r.team);
    const int members = size == sizes.end() ? 0 : size->second;
    if (members < settings.min_group_size) {
      return Error("suppressed: team " + r.team + " has " + std::to_string(members) +
                   " members, fewer than privacy.min_group_size (" +
                   std::to_string(settings.min_group_size) + ")");
    }
  }
  std::vector<Fact> out;
  const auto names = pipeline.KeyNames(handle_of_ref);
  for (auto& f : recorder.facts()) {
    for (auto& [k, v] : f.labels) {
      if (k != "person") continue;
      auto it = names.find(v);
      if (name_people && it != names.end()) v = it->second;
    }
    if (projections::IsSmallSenderTeam(f.labels, sizes, settings.min_group_size)) continue;
    if (Matches(f.labels, r.filter)) out.push_back(std::move(f));
  }
  return out;
}

std::string Format(const ExplainRequest& r, const projections::MetricSpec& spec,
                   const std::vector<Fact>& facts) {
  double total = 0;
  for (const auto& f : facts) total += f.value;
  const bool histogram = spec.type == projections::MetricType::kHistogram;
  std::string out;
  if (r.format == "json") {
    JsonWriter w(out);
    w.BeginObject().Key("team").String(r.team).Key("metric").String(r.metric);
    w.Key("type").String(histogram ? "histogram" : "counter");
    w.Key("from").String(FormatRfc3339(r.from)).Key("to").String(FormatRfc3339(r.to));
    w.Key("labels").BeginObject();
    for (const auto& [k, v] : r.filter) w.Key(k).String(v);
    w.EndObject();
    if (histogram) {
      w.Key("count").Int(static_cast<int64_t>(facts.size())).Key("sum").Double(total);
    } else {
      w.Key("total").Double(total);
    }
    w.Key("facts").BeginArray();
    for (const auto& f : facts) {
      w.BeginObject().Key("at").String(FormatRfc3339(f.at)).Key("value").Double(f.value);
      w.Key("labels").BeginObject();
      for (const auto& [k, v] : f.labels) w.Key(k).String(v);
      w.EndObject();
      w.Key("event").BeginObject();
      if (f.event.sequence > 0) w.Key("sequence").Int(static_cast<int64_t>(f.event.sequence));
      w.Key("id").String(f.event.id).Key("type").String(f.event.type);
      w.Key("occurred_at").String(FormatRfc3339(f.event.occurred_at));
      w.Key("subject").String(f.event.subject).Key("actor").String(f.event.actor);
      w.EndObject().EndObject();
    }
    w.EndArray().EndObject();
    return out + "\n";
  }
  out = "teamhealth explain: team " + r.team + ", " + r.metric + LabelText(r.filter) + ", " +
        FormatRfc3339(r.from) + " to " + FormatRfc3339(r.to) + "\n";
  out += histogram ? "  count " + std::to_string(facts.size()) + ", sum " + Num(total) + "\n"
                   : "  total " + Num(total) + " from " + std::to_string(facts.size()) +
                         " facts\n";
  for (const auto& f : facts) {
    out += "  " + FormatRfc3339(f.at) + "  " + Num(f.value) + "  " + LabelText(f.labels) +
           "  <- " + (f.event.sequence > 0 ? "#" + std::to_string(f.event.sequence) + " " : "") +
           f.event.type + " " + f.event.subject + " at " + FormatRfc3339(f.event.occurred_at) +
           (f.event.actor.empty() ? "" : " by " + f.event.actor) + "\n";
  }
  return out;
}

Result<projections::Labels> ParseLabels(const std::vector<std::pair<std::string, std::string>>&
                                            pairs) {
  projections::Labels out;
  for (const auto& [k, v] : pairs) {
    if (k.empty() || k == "team") return Error("label " + k + ": give a label other than team");
    for (const auto& [have, _] : out) {
      if (have == k) return Error("label " + k + " given more than once");
    }
    out.emplace_back(k, v);
  }
  std::sort(out.begin(), out.end());
  return out;
}

int Explain(const Args& args) {
  ExplainRequest r;
  r.team = args.Get("team");
  r.metric = args.positional[0];
  r.format = args.Get("format", "table");
  const auto from = ParseRfc3339(args.Get("from")), to = ParseRfc3339(args.Get("to"));
  if (!from) return UsageError(args, "--from " + args.Get("from") + ": not an RFC 3339 time");
  if (!to) return UsageError(args, "--to " + args.Get("to") + ": not an RFC 3339 time");
  if (*to <= *from) return UsageError(args, "--to must be after --from");
  r.from = *from;
  r.to = *to;
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& l : args.All("label")) {
    const auto eq = l.find('=');
    if (eq == std::string::npos) return UsageError(args, "--label " + l + ": expected NAME=VALUE");
    pairs.emplace_back(l.substr(0, eq), l.substr(eq + 1));
  }
  auto filter = ParseLabels(pairs);
  if (!filter) return UsageError(args, "--" + filter.error().message());
  r.filter = std::move(*filter);
  auto spec = CheckRequest(r);
  if (!spec) return UsageError(args, spec.error().message());
  const ReplaySource source{.log_dir = args.Get("log"), .event_files = args.All("events")};
  if (source.log_dir.empty() == source.event_files.empty()) {
    return UsageError(args, source.log_dir.empty() ? "missing --events FILE or --log DIR"
                                                   : "give --events or --log, not both");
  }
  auto config = config::LoadConfigFile(args.Get("config"));
  if (!config) {
    std::fprintf(stderr, "%s: %s\n", args.Get("config").c_str(), config.error().message().c_str());
    return 1;
  }
  auto facts = CollectFacts(r, source, *config);
  if (!facts) {
    std::fprintf(stderr, "teamhealth explain: %s\n", facts.error().message().c_str());
    return facts.error().not_found() ? 2 : 1;
  }
  const std::string out = Format(r, **spec, *facts);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}


}  // namespace

http::ApiResponse ExplainFromQuery(const std::map<std::string, std::string>& query,
                                   const config::Config& config, eventlog::EventLog& log,
                                   bool admin, const std::map<std::string, std::string>& people) {
  ExplainRequest r;
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& [key, value] : query) {
    if (key.starts_with("label.")) {
      pairs.emplace_back(key.substr(6), value);
    } else if (key != "team" && key != "from" && key != "to" && key != "metric" &&
               key != "format") {
      return http::JsonError(400, "unknown query parameter " + key +
                                " (expected team, from, to, metric, format, label.NAME)");
    }
  }
  auto field = [&](const char* name) {
    auto it = query.find(name);
    return it == query.end() ? std::string() : it->second;
  };
  r.team = field("team");
  r.metric = field("metric");
  r.format = field("format").empty() ? "json" : field("format");
  r.admin = admin;
  if (admin) r.people = people;
  if (r.team.empty()) return http::JsonError(400, "query parameter team is required");
  if (r.metric.empty()) return http::JsonError(400, "query parameter metric is required");
  const auto from = ParseRfc3339(field("from")), to = ParseRfc3339(field("to"));
  if (!from) return http::JsonError(400, "query parameter from: expected RFC 3339");
  if (!to) return http::JsonError(400, "query parameter to: expected RFC 3339");
  if (*from < 0) return http::JsonError(400, "query parameter from: before 1970-01-01");
  if (*to <= *from) return http::JsonError(400, "query parameter to: must be after from");
  r.from = *from;
  r.to = *to;
  auto filter = ParseLabels(pairs);
  if (!filter) return http::JsonError(400, filter.error().message());
  r.filter = std::move(*filter);
  auto spec = CheckRequest(r);
  if (!spec) return http::JsonError(400, spec.error().message());
  if (r.metric.starts_with("teamhealth_person_") && !admin) {
    return http::JsonError(403, "per-person metrics need the admin token");
  }
  auto facts = CollectFacts(r, ReplaySource{.live_log = &log}, config);
  if (!facts) {
    const bool suppressed = facts.error().message().starts_with("suppressed");
    return http::JsonError(facts.error().not_found() ? 404 : suppressed ? 403 : 400,
                           facts.error().message());
  }
  return {200, r.format == "json" ? "application/json" : "text/plain", Format(r, **spec, *facts)};
}

Command ExplainCommand() {
  return {.name = "explain",
          .usage = kExplainUsage,
          .spec = {.options = {"config", "log", "team", "from", "to", "format"},
                   .repeated = {"events", "label"},
                   .required = {"config", "team", "from", "to"},
                   .positional = "METRIC",
                   .min_positional = 1,
                   .max_positional = 1},
          .run = Explain};
}

}  // namespace teamhealth::app
