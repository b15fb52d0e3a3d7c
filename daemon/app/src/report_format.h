#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "teamhealth/base/time.h"
#include "teamhealth/projections/metrics.h"

namespace teamhealth::app {

// How a report is written (docs/design.md section 8).
enum class ReportFormat { kTable, kJson, kCsv };
// "table", "json", "csv"; nullopt for anything else.
std::optional<ReportFormat> ParseReportFormat(std::string_view text);

// Series values by metric name, then labels (with the `team` label), as WindowSink exposes
// them: counters are the increase inside the window, gauges the value at its end,
// observations every histogram value inside it.
using SeriesValues = std::map<std::string, std::map<projections::Labels, double>>;
using SeriesObservations =
    std::map<std::string, std::map<projections::Labels, std::vector<double>>>;

// One team's part of a report: its name and the metrics withheld for it (small-group
// suppression, docs/design.md section 6).
struct ReportTeam {
  std::string name;
  std::set<std::string> hidden;
};

// What a report shows, however its numbers were produced: the formatting side of `report`
// and /api/v1/report. The series maps are borrowed: they must outlive FormatReport.
struct ReportView {
  EpochMillis from = 0, to = 0;
  // The teams reported, in order. `every_team` false: exactly one, written in the single-team
  // shape; true: the every-team shape (see FormatReport), even for one team.
  std::vector<ReportTeam> teams;
  bool every_team = false;
  bool include_people = true;  // series with a `person` label (API: admin token only)
  const SeriesValues* counters = nullptr;
  const SeriesValues* gauges = nullptr;
  const SeriesObservations* observations = nullptr;
};

// Writes `view`:
//  json  single team: {"team","from","to","metrics":{NAME:[{"labels":{..},"value":N} |
//        {"labels":{..},"count","sum","mean","p50","p80","p95"[,"distribution"]}]},
//        "suppressed":[..]}, labels without `team`; every team: a JSON array of those objects,
//        one per team. Raw numbers (durations in seconds). `mean` is sum/count. Score
//        histograms (teamhealth_pulse_score) add "distribution":{"1":n1,..,"5":n5}, the
//        responses of each score in the window.
//  csv   RFC 4180 (CRLF line ends; fields with a comma, quote, CR or LF quoted, inner quotes
//        doubled): header `metric`, one column per label name used by any row (sorted; every
//        team: `team` is one of them), then value,count,sum,mean,p50,p80,p95, then
//        score_1..score_5 when a score histogram has a row; a row leaves the labels it lacks
//        and the numbers its type lacks empty.
//  table a line per series, one section per team; durations (metrics whose unit is seconds:
//        values, histogram sums, means and percentiles) humanised: "7d 22h", "12m 30s", "45s",
//        "0s"; a score histogram's line is followed by "    distribution: 1=n1 .. 5=n5".
std::string FormatReport(const ReportView& view, ReportFormat format);

// A duration in whole seconds (rounded) as its two largest non-zero units of d, h, m, s:
// 684000 -> "7d 22h", 750 -> "12m 30s", 3600 -> "1h", 45 -> "45s", 0 -> "0s"; negative ones
// with a leading "-".
std::string HumanDuration(double seconds);

// `field` as one RFC 4180 field: quoted (inner quotes doubled) when it holds a comma, a quote,
// CR or LF; as it is otherwise.
std::string CsvField(std::string_view field);

}  // namespace teamhealth::app
