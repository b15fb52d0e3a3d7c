// The formatting side of `report` and /api/v1/report: the series of a ReportView as JSON,
// CSV or a table. Knows nothing of how the numbers were produced.
#include "report_format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "teamhealth/base/json_writer.h"
#include "teamhealth/projections/accumulator.h"
#include "teamhealth/projections/window.h"

namespace teamhealth::app {
namespace {

std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

// One series of one team, as every format shows it.
struct Row {
  projections::Labels labels;  // without `team`
  bool histogram = false;
  double value = 0;  // counters and gauges
  size_t count = 0;  // histograms
  double sum = 0, mean = 0, p50 = 0, p80 = 0, p95 = 0;
  // Score histograms only (IsScoreHistogram): responses per score, in bucket order.
  std::vector<std::pair<std::string, size_t>> distribution;
};

// A team's rows, grouped by metric in AllSpecs() order; hidden metrics are absent.
struct TeamRows {
  const ReportTeam* team;
  std::vector<std::pair<std::string, std::vector<Row>>> metrics;
};

// The labels of a series without `team`, if the series is `team`'s.
std::optional<projections::Labels> TeamLabels(const projections::Labels& labels,
                                              const std::string& team) {
  bool match = false;
  projections::Labels rest;
  for (const auto& [k, v] : labels) {
    if (k == "team") {
      match = v == team;
    } else {
      rest.emplace_back(k, v);
    }
  }
  if (!match) return std::nullopt;
  return rest;
}

// A histogram of whole scores (the team pulse, 1..5), whose readers want how many answered each
// score rather than percentiles alone: every bucket holds exactly one score.
bool IsScoreHistogram(std::string_view name) { return name == "teamhealth_pulse_score"; }

// The observations per bucket of `bounds` (upper bounds inclusive, as Prometheus' `le`): for a
// score histogram the number of responses of each score, what the differences of the
// cumulative buckets give. Values above the last bound are not a score and are left out.
std::vector<std::pair<std::string, size_t>> Distribution(const std::vector<double>& values,
                                                         const std::vector<double>& bounds) {
  std::vector<std::pair<std::string, size_t>> out;
  for (double b : bounds) out.emplace_back(Num(b), 0);
  for (double v : values) {
    const auto it = std::lower_bound(bounds.begin(), bounds.end(), v);
    if (it != bounds.end()) ++out[static_cast<size_t>(it - bounds.begin())].second;
  }
  return out;
}

// The row of one histogram series from its observations in the window.
Row HistogramRow(const projections::MetricSpec& spec, projections::Labels labels,
                 std::vector<double> values) {
  Row row{.labels = std::move(labels), .histogram = true, .count = values.size()};
  for (double x : values) row.sum += x;
  if (row.count > 0) row.mean = row.sum / static_cast<double>(row.count);
  row.p50 = projections::Percentile(values, 50);
  row.p80 = projections::Percentile(values, 80);
  row.p95 = projections::Percentile(values, 95);
  if (IsScoreHistogram(spec.name)) row.distribution = Distribution(values, spec.buckets);
  return row;
}

bool HasPerson(const projections::Labels& labels) {
  return std::any_of(labels.begin(), labels.end(),
                     [](const auto& l) { return l.first == "person"; });
}

TeamRows CollectRows(const ReportView& view, const ReportTeam& team) {
  TeamRows out{&team, {}};
  // The team's series, without the per-person ones unless they may be shown.
  auto selected = [&](const projections::Labels& labels) -> std::optional<projections::Labels> {
    auto rest = TeamLabels(labels, team.name);
    if (!rest || (!view.include_people && HasPerson(*rest))) return std::nullopt;
    return rest;
  };
  for (const auto& spec : projections::AllSpecs()) {
    const std::string name(spec.name);
    if (name == "teamhealth_privacy_suppressed_series" || team.hidden.contains(name)) continue;
    std::vector<Row> rows;
    auto scalar = [&](const SeriesValues* m) {
      if (m == nullptr) return;
      auto it = m->find(name);
      if (it == m->end()) return;
      for (const auto& [labels, v] : it->second) {
        if (auto rest = selected(labels)) rows.push_back(Row{.labels = *rest, .value = v});
      }
    };
    if (spec.type == projections::MetricType::kCounter) scalar(view.counters);
    if (spec.type == projections::MetricType::kGauge) scalar(view.gauges);
    if (spec.type == projections::MetricType::kHistogram && view.observations != nullptr) {
      auto it = view.observations->find(name);
      if (it != view.observations->end()) {
        for (const auto& [labels, values] : it->second) {
          if (auto rest = selected(labels)) rows.push_back(HistogramRow(spec, *rest, values));
        }
      }
    }
    out.metrics.emplace_back(name, std::move(rows));
  }
  return out;
}

void WriteJsonTeam(JsonWriter& w, const ReportView& view, const TeamRows& rows) {
  w.BeginObject().Key("team").String(rows.team->name);
  w.Key("from").String(FormatRfc3339(view.from)).Key("to").String(FormatRfc3339(view.to));
  w.Key("metrics").BeginObject();
  for (const auto& [name, series] : rows.metrics) {
    w.Key(name).BeginArray();
    for (const Row& r : series) {
      w.BeginObject().Key("labels").BeginObject();
      for (const auto& [k, v] : r.labels) w.Key(k).String(v);
      w.EndObject();
      if (r.histogram) {
        w.Key("count").Int(static_cast<int64_t>(r.count)).Key("sum").Double(r.sum);
        w.Key("mean").Double(r.mean);
        w.Key("p50").Double(r.p50).Key("p80").Double(r.p80).Key("p95").Double(r.p95);
        if (!r.distribution.empty()) {
          w.Key("distribution").BeginObject();
          for (const auto& [score, n] : r.distribution) {
            w.Key(score).Int(static_cast<int64_t>(n));
          }
          w.EndObject();
        }
      } else {
        w.Key("value").Double(r.value);
      }
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject().Key("suppressed").BeginArray();
  for (const auto& h : rows.team->hidden) w.String(h);
  w.EndArray().EndObject();
}

std::string Json(const ReportView& view, const std::vector<TeamRows>& teams) {
  std::string out;
  JsonWriter w(out);
  if (view.every_team) w.BeginArray();
  for (const auto& rows : teams) WriteJsonTeam(w, view, rows);
  if (view.every_team) w.EndArray();
  return out + "\n";
}

std::string Csv(const ReportView& view, const std::vector<TeamRows>& teams) {
  // Every team: `team` is a label column like the others.
  auto labels_of = [&](const TeamRows& t, const Row& r) {
    projections::Labels l = r.labels;
    if (view.every_team) l.emplace_back("team", t.team->name);
    return l;
  };
  // Label columns and, when a score histogram has rows, one `score_<s>` column per score (in
  // bucket order, not sorted as text).
  std::set<std::string> columns;
  std::vector<std::string> scores;
  for (const auto& t : teams) {
    for (const auto& [name, series] : t.metrics) {
      for (const Row& r : series) {
        for (const auto& [k, v] : labels_of(t, r)) columns.insert(k);
        for (const auto& [score, n] : r.distribution) {
          if (std::find(scores.begin(), scores.end(), score) == scores.end()) {
            scores.push_back(score);
          }
        }
      }
    }
  }
  std::string out = "metric";
  for (const auto& c : columns) out += "," + CsvField(c);
  out += ",value,count,sum,mean,p50,p80,p95";
  for (const auto& score : scores) out += ",score_" + CsvField(score);
  out += "\r\n";
  for (const auto& t : teams) {
    for (const auto& [name, series] : t.metrics) {
      for (const Row& r : series) {
        const projections::Labels labels = labels_of(t, r);
        out += CsvField(name);
        for (const auto& c : columns) {
          out += ",";
          for (const auto& [k, v] : labels) {
            if (k == c) out += CsvField(v);
          }
        }
        if (r.histogram) {
          out += ",," + std::to_string(r.count) + "," + Num(r.sum) + "," + Num(r.mean) + "," +
                 Num(r.p50) + "," + Num(r.p80) + "," + Num(r.p95);
        } else {
          out += "," + Num(r.value) + ",,,,,,";
        }
        for (const auto& score : scores) {
          out += ",";
          for (const auto& [s, n] : r.distribution) {
            if (s == score) out += std::to_string(n);
          }
        }
        out += "\r\n";
      }
    }
  }
  return out;
}

std::string LabelText(const projections::Labels& labels) {
  std::string s = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    s += (i ? "," : "") + labels[i].first + "=\"" + labels[i].second + "\"";
  }
  return s + "}";
}

std::string Table(const ReportView& view, const std::vector<TeamRows>& teams) {
  std::string out;
  for (const auto& t : teams) {
    if (!out.empty()) out += "\n";
    out += "teamhealth report: team " + t.team->name + ", " + FormatRfc3339(view.from) + " to " +
           FormatRfc3339(view.to) + "\n";
    for (const auto& [name, series] : t.metrics) {
      const bool seconds = projections::UnitOf(name) == projections::MetricUnit::kSeconds;
      auto show = [&](double v) { return seconds ? HumanDuration(v) : Num(v); };
      for (const Row& r : series) {
        out += "  " + name + LabelText(r.labels);
        if (r.histogram) {
          out += " count=" + std::to_string(r.count) + " sum=" + show(r.sum) +
                 " mean=" + show(r.mean) + " p50=" + show(r.p50) + " p80=" + show(r.p80) +
                 " p95=" + show(r.p95) + "\n";
          if (!r.distribution.empty()) {
            out += "    distribution:";
            for (const auto& [score, n] : r.distribution) {
              out += " " + score + "=" + std::to_string(n);
            }
            out += "\n";
          }
        } else {
          out += " " + show(r.value) + "\n";
        }
      }
    }
    if (!t.team->hidden.empty()) {
      out += "  (suppressed for a team smaller than privacy.min_group_size: " +
             std::to_string(t.team->hidden.size()) + " metrics)\n";
    }
  }
  return out;
}

}  // namespace

std::optional<ReportFormat> ParseReportFormat(std::string_view text) {
  if (text == "table") return ReportFormat::kTable;
  if (text == "json") return ReportFormat::kJson;
  if (text == "csv") return ReportFormat::kCsv;
  return std::nullopt;
}

std::string HumanDuration(double seconds) {
  const long long total = std::llround(seconds);
  if (total == 0) return "0s";
  unsigned long long rest = static_cast<unsigned long long>(std::llabs(total));
  static constexpr std::pair<unsigned long long, const char*> kUnits[] = {
      {86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}};
  std::string out = total < 0 ? "-" : "";
  for (size_t i = 0; i < std::size(kUnits); ++i) {
    const auto [size, unit] = kUnits[i];
    if (rest < size) continue;
    out += std::to_string(rest / size) + unit;
    // The next smaller unit, unless it is 0; anything smaller is dropped.
    if (i + 1 < std::size(kUnits)) {
      const auto [next_size, next_unit] = kUnits[i + 1];
      const unsigned long long next = rest % size / next_size;
      if (next > 0) out += " " + std::to_string(next) + next_unit;
    }
    break;
  }
  return out;
}

std::string CsvField(std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(field);
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string FormatReport(const ReportView& view, ReportFormat format) {
  std::vector<TeamRows> teams;
  for (const auto& team : view.teams) teams.push_back(CollectRows(view, team));
  switch (format) {
    case ReportFormat::kJson:
      return Json(view, teams);
    case ReportFormat::kCsv:
      return Csv(view, teams);
    case ReportFormat::kTable:
      return Table(view, teams);
  }
  return Table(view, teams);
}

}  // namespace teamhealth::app
