// The HTML retro page (docs/design.md section 8): plain string building of HTML, CSS and inline
// SVG. No scripts and no external references, so the page can be mailed, archived and printed
// as it is. Charts are SVGs scaled through their viewBox (width 100%), so nothing overflows a
// narrow window or an A4 page.
#include "report_html.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>

#include "report_format.h"
#include "teamhealth/base/url.h"
#include "teamhealth/projections/accumulator.h"
#include "teamhealth/projections/directory_view.h"

namespace teamhealth::app {
namespace {

constexpr double kChartWidth = 720;
constexpr const char* kPulse = "teamhealth_pulse_score";
constexpr const char* kBySender = "teamhealth_direct_interruptions_by_sender_team_total";
constexpr const char* kWeekdays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};

constexpr const char* kStyle = R"(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2327;
background:#fff;margin:0;padding:16px}
main{max-width:960px;margin:0 auto}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:24px 0 6px}
p.sub{color:#50575e;margin:0 0 12px}
section{break-inside:avoid;page-break-inside:avoid;margin-bottom:8px}
table{border-collapse:collapse;width:100%;max-width:100%}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #dcdcde;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
svg{display:block;max-width:100%;height:auto}svg.small{max-width:480px}
.note{color:#50575e;font-size:13px}
.withheld{background:#f6f7f7;border-left:4px solid #8c8f94;padding:6px 10px}
.legend span{display:inline-block;margin-right:14px;font-size:13px}
.legend i{display:inline-block;width:11px;height:11px;margin-right:4px;vertical-align:-1px}
.pair{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:8px 24px}
.pair>div{min-width:0}
dl{margin:0}dt{font-weight:600;margin-top:6px;overflow-wrap:anywhere}dd{margin:0 0 0 12px}
@media print{body{padding:0;font-size:11pt}main{max-width:none}h2{margin-top:14px}
@page{size:A4;margin:14mm}}
)";

// ---- numbers --------------------------------------------------------------------------------

bool HasTeam(const projections::Labels& labels, const std::string& team) {
  for (const auto& [k, v] : labels) {
    if (k == "team") return v == team;
  }
  return false;
}

bool HasLabel(const projections::Labels& labels, std::string_view key, std::string_view value) {
  for (const auto& [k, v] : labels) {
    if (k == key) return v == value;
  }
  return false;
}

// The sum over the team's series of a counter (or gauge), those with `key`=`value` if given.
double Sum(const std::map<std::string, std::map<projections::Labels, double>>& families,
           const std::string& metric, const std::string& team, std::string_view key = {},
           std::string_view value = {}) {
  double total = 0;
  auto it = families.find(metric);
  if (it == families.end()) return 0;
  for (const auto& [labels, v] : it->second) {
    if (HasTeam(labels, team) && (key.empty() || HasLabel(labels, key, value))) total += v;
  }
  return total;
}

std::vector<double> Observations(const projections::WindowSink& sink, const std::string& metric,
                                 const std::string& team) {
  std::vector<double> out;
  auto it = sink.observations().find(metric);
  if (it == sink.observations().end()) return out;
  for (const auto& [labels, values] : it->second) {
    if (HasTeam(labels, team)) out.insert(out.end(), values.begin(), values.end());
  }
  return out;
}

// The mean of `values`; nullopt for none.
std::optional<double> Mean(const std::vector<double>& values) {
  if (values.empty()) return std::nullopt;
  double sum = 0;
  for (double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", std::round(v * 100) / 100);
  return buf;
}

std::string Attr(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string Day(int64_t local_day) { return FormatRfc3339(local_day * 86400000).substr(0, 10); }

// ---- headline -------------------------------------------------------------------------------

struct Headline {
  std::string key, label;
  std::optional<double> now, prev;  // nullopt: no value (no observations)
  bool seconds = false;
  bool withheld = false;
};

std::string ShowValue(const std::optional<double>& v, bool seconds) {
  if (!v) return "&#8212;";
  return seconds ? HtmlEscape(HumanDuration(*v)) : Num(*v);
}

std::string Change(const Headline& h) {
  if (!h.now || !h.prev) return "&#8212;";
  const double d = *h.now - *h.prev;
  if (d == 0) return "same";
  const std::string size = h.seconds ? HumanDuration(std::abs(d)) : Num(std::abs(d));
  return (d > 0 ? "+" : "&#8722;") + HtmlEscape(size);
}

std::vector<Headline> Headlines(const RetroPageData& d) {
  const auto& c = *d.current;
  const auto& p = *d.previous;
  std::vector<Headline> out;
  auto counter = [&](std::string key, std::string label, const std::string& metric,
                     std::string_view lk = {}, std::string_view lv = {}) {
    Headline h{.key = std::move(key), .label = std::move(label)};
    h.now = Sum(c.counters(), metric, d.team, lk, lv);
    h.prev = Sum(p.counters(), metric, d.team, lk, lv);
    h.seconds = projections::UnitOf(metric) == projections::MetricUnit::kSeconds;
    h.withheld = d.small && projections::IsSmallTeamSensitive(metric);
    out.push_back(std::move(h));
  };
  auto median = [&](std::string key, std::string label, const std::string& metric) {
    Headline h{.key = std::move(key), .label = std::move(label), .seconds = true};
    auto now = Observations(c, metric, d.team), prev = Observations(p, metric, d.team);
    if (!now.empty()) h.now = projections::Percentile(now, 50);
    if (!prev.empty()) h.prev = projections::Percentile(prev, 50);
    out.push_back(std::move(h));
  };
  counter("pages", "On-call interruptions (pages)", "teamhealth_oncall_interruptions_total");
  counter("sleep_pages", "… of them in sleep hours", "teamhealth_oncall_interruptions_total",
          "period", "sleep");
  counter("nights", "Nights with sleep disrupted", "teamhealth_oncall_sleep_disrupted_nights_total");
  counter("incidents", "Incidents", "teamhealth_oncall_incidents_total");
  counter("unacked", "Incidents resolved without ack", "teamhealth_oncall_unacknowledged_total");
  median("ack_p50", "Time to ack, median", "teamhealth_oncall_time_to_ack_seconds");
  counter("switches", "Context switches", "teamhealth_context_switches_total");
  counter("project_switches", "… of them across projects", "teamhealth_project_switches_total");
  counter("pings", "Direct interruptions (DMs, mentions)", "teamhealth_direct_interruptions_total");
  counter("focus_lost", "Focus lost (estimate)", "teamhealth_focus_lost_seconds_total");
  counter("completed", "Work items completed", "teamhealth_work_items_completed_total");
  median("cycle_p50", "Cycle time, median", "teamhealth_cycle_time_seconds");
  counter("time_off_worked", "Days worked during time off (person-days)",
          "teamhealth_time_off_worked_days_total");
  Headline pulse{.key = "pulse_mean", .label = "Team pulse, mean score (1 to 5)"};
  pulse.now = Mean(Observations(c, kPulse, d.team));
  pulse.prev = Mean(Observations(p, kPulse, d.team));
  pulse.withheld = d.small && projections::IsSmallTeamSensitive(kPulse);
  out.push_back(std::move(pulse));
  Headline risk{.key = "at_risk", .label = "Members at risk (any burnout signal, at the end)"};
  risk.now = Sum(c.gauges(), "teamhealth_burnout_members_at_risk", d.team, "signal", "any");
  risk.prev = Sum(p.gauges(), "teamhealth_burnout_members_at_risk", d.team, "signal", "any");
  risk.withheld = d.small;
  out.push_back(std::move(risk));
  return out;
}

std::string HeadlineTable(const RetroPageData& d) {
  std::string s = "<table class=\"headline\"><thead><tr><th>Measure</th><th>This window</th>"
                  "<th>Previous window</th><th>Change</th></tr></thead><tbody>";
  for (const auto& h : Headlines(d)) {
    s += "<tr data-metric=\"" + h.key + "\"><td>" + HtmlEscape(h.label) + "</td>";
    if (h.withheld) {
      s += "<td class=\"n now\">withheld</td><td class=\"n prev\">withheld</td><td></td></tr>";
      continue;
    }
    s += "<td class=\"n now\">" + ShowValue(h.now, h.seconds) + "</td><td class=\"n prev\">" +
         ShowValue(h.prev, h.seconds) + "</td><td class=\"n\">" + Change(h) + "</td></tr>";
  }
  return s + "</tbody></table>";
}

// ---- charts ---------------------------------------------------------------------------------

struct Series {
  std::string name, colour;
  std::vector<double> values;  // one per bar slot
};

std::string Legend(const std::vector<Series>& series) {
  std::string s = "<p class=\"legend\">";
  for (const auto& x : series) {
    s += "<span><i style=\"background:" + x.colour + "\"></i>" + HtmlEscape(x.name) + "</span>";
  }
  return s + "</p>";
}

// Bars per slot: stacked (`stacked`) or side by side; `labels` under some slots.
std::string BarChart(const std::string& id, const std::vector<std::string>& labels,
                     const std::vector<Series>& series, bool stacked) {
  const double h = 200, top = 12, bottom = 30, left = 34, right = 8;
  const double plot_w = kChartWidth - left - right, plot_h = h - top - bottom;
  const size_t n = labels.size();
  double max = 0;
  for (size_t i = 0; i < n; ++i) {
    double total = 0;
    for (const auto& x : series) {
      total = stacked ? total + x.values[i] : std::max(total, x.values[i]);
    }
    max = std::max(max, total);
  }
  if (max <= 0) max = 1;
  const double max_axis = std::ceil(max);
  std::string s = "<svg data-chart=\"" + id + "\" width=\"100%\" viewBox=\"0 0 " +
                  Attr(kChartWidth) + " " + Attr(h) + "\" role=\"img\">";
  // Axis: 0 and max.
  s += "<line x1=\"" + Attr(left) + "\" y1=\"" + Attr(top + plot_h) + "\" x2=\"" +
       Attr(kChartWidth - right) + "\" y2=\"" + Attr(top + plot_h) + "\" stroke=\"#8c8f94\"/>";
  s += "<text x=\"" + Attr(left - 4) + "\" y=\"" + Attr(top + 8) +
       "\" font-size=\"11\" text-anchor=\"end\">" + Num(max_axis) + "</text>";
  s += "<text x=\"" + Attr(left - 4) + "\" y=\"" + Attr(top + plot_h) +
       "\" font-size=\"11\" text-anchor=\"end\">0</text>";
  const double slot = plot_w / static_cast<double>(std::max<size_t>(n, 1));
  const double gap = std::min(4.0, slot * 0.2);
  const size_t every = std::max<size_t>(1, (n + 13) / 14);  // at most ~14 labels
  for (size_t i = 0; i < n; ++i) {
    const double x0 = left + slot * static_cast<double>(i) + gap / 2;
    const double w = slot - gap;
    double y = top + plot_h;
    for (size_t k = 0; k < series.size(); ++k) {
      const double v = series[k].values[i];
      if (v <= 0) continue;
      const double bh = plot_h * v / max_axis;
      const double bw = stacked ? w : w / static_cast<double>(series.size());
      const double bx = stacked ? x0 : x0 + bw * static_cast<double>(k);
      const double by = stacked ? y - bh : top + plot_h - bh;
      if (stacked) y -= bh;
      s += "<rect class=\"mark\" x=\"" + Attr(bx) + "\" y=\"" + Attr(by) + "\" width=\"" +
           Attr(bw) + "\" height=\"" + Attr(bh) + "\" fill=\"" + series[k].colour + "\"><title>" +
           HtmlEscape(labels[i] + " " + series[k].name + ": " + Num(v)) + "</title></rect>";
    }
    if (i % every == 0) {
      s += "<text x=\"" + Attr(x0 + w / 2) + "\" y=\"" + Attr(h - 12) +
           "\" font-size=\"11\" text-anchor=\"middle\">" + HtmlEscape(labels[i]) + "</text>";
    }
  }
  return s + "</svg>";
}

// Local days of the team's zone covering [from, to), as labels "MM-DD", and a day's slot.
struct DayAxis {
  int64_t first = 0;
  std::vector<std::string> labels;
  size_t Slot(int64_t day) const { return static_cast<size_t>(day - first); }
};

DayAxis Days(const RetroPageData& d) {
  DayAxis axis;
  axis.first = projections::ToLocal(d.zone, d.from).day;
  const int64_t last = projections::ToLocal(d.zone, d.to - 1).day;
  for (int64_t day = axis.first; day <= last; ++day) axis.labels.push_back(Day(day).substr(5));
  return axis;
}

std::string NoData(const std::string& what) {
  return "<p class=\"note\" data-empty=\"1\">No " + what + " in this window.</p>";
}

std::string Withheld(const RetroPageData& d) {
  return "<p class=\"withheld\">Withheld: " + HtmlEscape(d.team) + " has " +
         std::to_string(d.members) + " members, fewer than privacy.min_group_size (" +
         std::to_string(d.min_group_size) +
         "), so burnout, direct-interruption and pulse numbers are not shown (as in reports "
         "and /metrics).</p>";
}

std::string InterruptionsPerDay(const RetroPageData& d, const DayAxis& axis) {
  std::vector<Series> series = {{"business hours", "#7aa6d8", {}},
                                {"off hours", "#e3a03b", {}},
                                {"sleep", "#5b3f99", {}}};
  const std::vector<std::string> periods = {"business", "off_hours", "sleep"};
  for (auto& x : series) x.values.assign(axis.labels.size(), 0);
  bool any = false;
  for (const auto& f : *d.facts) {
    if (f.metric != "teamhealth_oncall_interruptions_total") continue;
    for (size_t k = 0; k < periods.size(); ++k) {
      if (!HasLabel(f.labels, "period", periods[k])) continue;
      series[k].values[axis.Slot(projections::ToLocal(d.zone, f.at).day)] += f.value;
      any = true;
    }
  }
  if (!any) return NoData("on-call interruptions");
  return Legend(series) + BarChart("interruptions", axis.labels, series, true);
}

std::string HeatMap(const RetroPageData& d) {
  double cells[7][24] = {};
  double max = 0;
  for (const auto& f : *d.facts) {
    if (f.metric != "teamhealth_oncall_interruptions_total") continue;
    const auto local = projections::ToLocal(d.zone, f.at);
    double& c = cells[local.weekday][local.minute / 60];
    c += f.value;
    max = std::max(max, c);
  }
  if (max <= 0) return NoData("pages");
  const double left = 40, top = 18, cw = (kChartWidth - left - 4) / 24, ch = 22;
  const double h = top + 7 * ch + 4;
  std::string s = "<svg data-chart=\"heatmap\" width=\"100%\" viewBox=\"0 0 " +
                  Attr(kChartWidth) + " " + Attr(h) + "\" role=\"img\">";
  for (int hour = 0; hour < 24; hour += 3) {
    s += "<text x=\"" + Attr(left + cw * hour + 2) + "\" y=\"12\" font-size=\"11\">" +
         (hour < 10 ? "0" : "") + std::to_string(hour) + ":00</text>";
  }
  for (int wd = 0; wd < 7; ++wd) {
    s += "<text x=\"0\" y=\"" + Attr(top + ch * wd + 15) + "\" font-size=\"11\">" + kWeekdays[wd] +
         "</text>";
    for (int hour = 0; hour < 24; ++hour) {
      const double c = cells[wd][hour];
      const std::string pos = "x=\"" + Attr(left + cw * hour) + "\" y=\"" + Attr(top + ch * wd) +
                              "\" width=\"" + Attr(cw - 2) + "\" height=\"" + Attr(ch - 2) + "\"";
      if (c <= 0) {
        s += "<rect " + pos + " fill=\"#f3f4f5\"/>";
        continue;
      }
      s += "<rect class=\"mark\" " + pos + " fill=\"#b3261e\" fill-opacity=\"" +
           Attr(0.25 + 0.75 * c / max) + "\"><title>" + kWeekdays[wd] + " " +
           std::to_string(hour) + ":00&#8211;" + std::to_string(hour + 1) + ":00: " + Num(c) +
           " pages</title></rect>";
      s += "<text x=\"" + Attr(left + cw * hour + cw / 2 - 1) + "\" y=\"" +
           Attr(top + ch * wd + 14) + "\" font-size=\"10\" text-anchor=\"middle\" fill=\"#fff\">" +
           Num(c) + "</text>";
    }
  }
  return s + "</svg>";
}

// The observations of a histogram in its Prometheus buckets (upper bounds inclusive) and +Inf.
std::string Histogram(const RetroPageData& d, const std::string& id, const std::string& metric,
                      const std::string& what) {
  const auto* spec = projections::FindSpec(metric);
  auto values = Observations(*d.current, metric, d.team);
  if (values.empty() || spec == nullptr) return NoData(what);
  const auto& bounds = spec->buckets;
  Series counts{what, "#2f7d6d", std::vector<double>(bounds.size() + 1, 0)};
  for (double v : values) {
    const size_t b = static_cast<size_t>(std::lower_bound(bounds.begin(), bounds.end(), v) -
                                         bounds.begin());
    counts.values[b] += 1;
  }
  std::vector<std::string> labels;
  for (double b : bounds) labels.push_back("≤" + HumanDuration(b));
  labels.push_back(">" + HumanDuration(bounds.empty() ? 0 : bounds.back()));
  const std::string svg = BarChart(id, labels, {counts}, true);
  return "<p class=\"note\">" + std::to_string(values.size()) +
         " observations in Prometheus buckets (upper bound inclusive).</p>" + svg;
}

std::string SwitchesAndPings(const RetroPageData& d, const DayAxis& axis) {
  const std::vector<std::string> metrics = {"teamhealth_context_switches_total",
                                            "teamhealth_project_switches_total",
                                            "teamhealth_direct_interruptions_total"};
  std::vector<Series> series = {{"context switches", "#3b6fb6", {}},
                                {"… across projects", "#8fb3e3", {}}};
  if (!d.small) series.push_back({"direct interruptions", "#d05c2c", {}});
  for (auto& x : series) x.values.assign(axis.labels.size(), 0);
  bool any = false;
  for (const auto& f : *d.facts) {
    const size_t k = static_cast<size_t>(std::find(metrics.begin(), metrics.end(), f.metric) -
                                         metrics.begin());
    if (k >= series.size()) continue;
    series[k].values[axis.Slot(projections::ToLocal(d.zone, f.at).day)] += f.value;
    any = true;
  }
  std::string s = d.small ? Withheld(d) : "";
  if (!any) return s + NoData("context switches or direct interruptions");
  return s + Legend(series) + BarChart("switches", axis.labels, series, false);
}

// One row of a horizontal bar chart.
struct Bar {
  std::string label;
  double value = 0;
};

// `text` cut to at most `max` bytes plus an ellipsis, never inside a UTF-8 sequence.
std::string Shorten(const std::string& text, size_t max) {
  if (text.size() <= max) return text;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end) + "…";
}

// One horizontal bar per row, in the order given, the value written after each bar. Long
// labels are cut (the full text is in the bar's title) so the chart keeps its width.
std::string HorizontalBars(const std::string& id, const std::string& what,
                           const std::vector<Bar>& bars, const std::string& colour) {
  const double row = 24, label_w = 170, value_w = 60, top = 4;
  const double plot_w = kChartWidth - label_w - value_w;
  const double h = top * 2 + row * static_cast<double>(bars.size());
  double max = 0;
  for (const auto& b : bars) max = std::max(max, b.value);
  if (max <= 0) max = 1;
  std::string s = "<svg data-chart=\"" + id + "\" width=\"100%\" viewBox=\"0 0 " +
                  Attr(kChartWidth) + " " + Attr(h) + "\" role=\"img\" aria-label=\"" +
                  HtmlEscape(what) + "\">";
  for (size_t i = 0; i < bars.size(); ++i) {
    const Bar& b = bars[i];
    const double y = top + row * static_cast<double>(i);
    const std::string label = Shorten(b.label, 21);
    const double w = std::max(1.0, plot_w * b.value / max);
    s += "<text x=\"" + Attr(label_w - 6) + "\" y=\"" + Attr(y + 16) +
         "\" font-size=\"12\" text-anchor=\"end\">" + HtmlEscape(label) + "</text>";
    s += "<rect class=\"mark\" x=\"" + Attr(label_w) + "\" y=\"" + Attr(y + 3) +
         "\" width=\"" + Attr(w) + "\" height=\"" + Attr(row - 6) + "\" fill=\"" + colour +
         "\"><title>" + HtmlEscape(b.label + ": " + Num(b.value) + " " + what) + "</title></rect>";
    s += "<text x=\"" + Attr(label_w + w + 6) + "\" y=\"" + Attr(y + 16) +
         "\" font-size=\"12\">" + Num(b.value) + "</text>";
  }
  return s + "</svg>";
}

// Sender teams by their direct interruptions in the window, largest first; `other` (beyond
// privacy.max_sender_teams) and `unmapped` (senders outside the directory) last, since they
// are not teams one can talk to.
std::vector<Bar> SenderTeams(const RetroPageData& d) {
  std::vector<Bar> named, rest;
  std::map<std::string, double> by_sender;
  auto it = d.current->counters().find(kBySender);
  if (it != d.current->counters().end()) {
    for (const auto& [labels, v] : it->second) {
      if (!HasTeam(labels, d.team)) continue;
      for (const auto& [k, sender] : labels) {
        if (k == "sender_team") by_sender[sender] += v;
      }
    }
  }
  for (const auto& [sender, v] : by_sender) {
    if (v <= 0) continue;
    (sender == "other" || sender == "unmapped" ? rest : named).push_back({sender, v});
  }
  auto larger = [](const Bar& a, const Bar& b) {
    return a.value != b.value ? a.value > b.value : a.label < b.label;
  };
  std::sort(named.begin(), named.end(), larger);
  std::sort(rest.begin(), rest.end(), [](const Bar& a, const Bar& b) {
    return a.label < b.label;  // "other" before "unmapped"
  });
  named.insert(named.end(), rest.begin(), rest.end());
  return named;
}

std::string WhoPingsUs(const RetroPageData& d) {
  if (d.small) return Withheld(d);
  const auto& c = d.current->counters();
  const double pings = Sum(c, "teamhealth_direct_interruptions_total", d.team);
  const double bypass = Sum(c, "teamhealth_oncall_bypass_total", d.team);
  std::string s;
  if (pings > 0) {
    s += "<p class=\"bypass\">" + Num(bypass) + " of the window's " + Num(pings) +
         " direct interruptions (" + Num(100 * bypass / pings) +
         " %) came from outside the team while a teammate was on call: they bypassed the "
         "on-call engineer.</p>";
  }
  const std::vector<Bar> bars = SenderTeams(d);
  if (bars.empty()) return s + NoData("direct interruptions by sender team");
  return s + HorizontalBars("senders", "direct interruptions", bars, "#d05c2c") +
         "<p class=\"note\">By the sender's team when they wrote. <em>unmapped</em>: senders "
         "not in the directory (list support, sales or SOC people as teams to see them by "
         "name); <em>other</em>: teams beyond privacy.max_sender_teams.</p>";
}

std::string Burnout(const RetroPageData& d) {
  if (d.small) return Withheld(d);
  auto it = d.current->gauges().find("teamhealth_burnout_members_at_risk");
  std::vector<std::string> labels;
  Series at_risk{"members at risk", "#b3261e", {}};
  if (it != d.current->gauges().end()) {
    for (const auto& [l, v] : it->second) {
      if (!HasTeam(l, d.team)) continue;
      for (const auto& [k, signal] : l) {
        if (k == "signal") labels.push_back(signal), at_risk.values.push_back(v);
      }
    }
  }
  if (labels.empty()) return NoData("burnout signals");
  std::string s = "<table class=\"burnout\"><thead><tr><th>Signal</th><th>Members at risk at "
                  "the end of the window</th></tr></thead><tbody>";
  for (size_t i = 0; i < labels.size(); ++i) {
    s += "<tr><td>" + HtmlEscape(labels[i]) + "</td><td class=\"n\">" + Num(at_risk.values[i]) +
         " of " + std::to_string(d.members) + "</td></tr>";
  }
  // The counter behind time_off_worked_28d, over this window rather than the last 28 days.
  const double worked = Sum(d.current->counters(), "teamhealth_time_off_worked_days_total", d.team);
  return s + "</tbody></table><p class=\"note\" data-metric=\"time_off_worked\">" + Num(worked) +
         " person-days worked during time off in this window (work activity or a page inside "
         "a person's time off).</p>";
}

// The team pulse: how many answered, the mean score and a bar of the share of each score.
// Withheld for a small team, where a handful of answers could be told apart.
std::string Pulse(const RetroPageData& d) {
  if (d.small && projections::IsSmallTeamSensitive(kPulse)) return Withheld(d);
  const std::vector<double> scores = Observations(*d.current, kPulse, d.team);
  if (scores.empty()) {
    // A window with fewer answers than min_group_size has none here (WithholdSmallGroups).
    return NoData("pulse responses (or fewer than " + std::to_string(d.min_group_size) +
                  ", which are not shown)");
  }
  double count[5] = {};
  for (double v : scores) {
    const int score = static_cast<int>(std::lround(v));
    if (score >= 1 && score <= 5) count[score - 1] += 1;
  }
  const auto prev = Mean(Observations(*d.previous, kPulse, d.team));
  std::string s = "<p class=\"pulse\"><strong>" + Num(*Mean(scores)) + "</strong> mean of " +
                  std::to_string(scores.size()) + " responses" +
                  (prev ? " (previous window " + Num(*prev) + ")" : std::string()) + ".</p>";
  // One bar, a segment per score from 1 (red) to 5 (green), each as wide as its share.
  static constexpr const char* kColours[] = {"#b3261e", "#e3a03b", "#a7aaad", "#7aa6d8",
                                             "#2f7d6d"};
  const double w = 360, h = 34, total = static_cast<double>(scores.size());
  s += "<svg data-chart=\"pulse\" class=\"small\" width=\"100%\" viewBox=\"0 0 " + Attr(w) + " " +
       Attr(h) + "\" role=\"img\" aria-label=\"pulse responses by score\">";
  double x = 0;
  std::vector<Series> legend;
  for (int k = 0; k < 5; ++k) {
    legend.push_back({"score " + std::to_string(k + 1) + ": " + Num(count[k]), kColours[k], {}});
    if (count[k] <= 0) continue;
    const double sw = w * count[k] / total;
    s += "<rect class=\"mark\" x=\"" + Attr(x) + "\" y=\"2\" width=\"" + Attr(sw) +
         "\" height=\"" + Attr(h - 4) + "\" fill=\"" + kColours[k] + "\"><title>score " +
         std::to_string(k + 1) + ": " + Num(count[k]) + " responses</title></rect>";
    if (sw >= 18) {
      s += "<text x=\"" + Attr(x + sw / 2) + "\" y=\"" + Attr(h / 2 + 5) +
           "\" font-size=\"13\" text-anchor=\"middle\" fill=\"#fff\">" +
           std::to_string(k + 1) + "</text>";
    }
    x += sw;
  }
  return s + "</svg>" + Legend(legend);
}

std::string Definitions() {
  const std::vector<std::string> shown = {
      "teamhealth_oncall_interruptions_total", "teamhealth_oncall_sleep_disrupted_nights_total",
      "teamhealth_oncall_incidents_total",     "teamhealth_oncall_unacknowledged_total",
      "teamhealth_oncall_time_to_ack_seconds", "teamhealth_context_switches_total",
      "teamhealth_direct_interruptions_total", "teamhealth_oncall_bypass_total",
      kBySender,                               "teamhealth_project_switches_total",
      "teamhealth_focus_lost_seconds_total",   "teamhealth_time_off_worked_days_total",
      kPulse,
      "teamhealth_work_items_completed_total", "teamhealth_cycle_time_seconds",
      "teamhealth_burnout_members_at_risk"};
  std::string s = "<dl>";
  for (const auto& name : shown) {
    const auto* spec = projections::FindSpec(name);
    if (spec == nullptr) continue;
    s += "<dt>" + HtmlEscape(name) + "</dt><dd>" + HtmlEscape(spec->help) + "</dd>";
  }
  return s + "</dl>";
}

std::string Page(std::string_view title, const std::string& body) {
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>" +
         HtmlEscape(title) + "</title><style>" + kStyle + "</style></head><body><main>" + body +
         "</main></body></html>\n";
}

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string RenderRetroPage(const RetroPageData& d) {
  const DayAxis axis = Days(d);
  const std::string team = HtmlEscape(d.team);
  std::string b = "<h1>Team health retro: " + team + "</h1><p class=\"sub\">" +
                  HtmlEscape(FormatRfc3339(d.from)) + " to " + HtmlEscape(FormatRfc3339(d.to)) +
                  " (previous window: " + HtmlEscape(FormatRfc3339(d.prev_from)) + " to " +
                  HtmlEscape(FormatRfc3339(d.from)) + "). " + std::to_string(d.members) +
                  " members at the end. Days and hours in " + HtmlEscape(d.zone) + " (" +
                  HtmlEscape(d.zone_reason) + ").</p>";
  b += "<section><h2>Headline</h2>" + HeadlineTable(d) +
       "<p class=\"note\">Counters are the increase inside each window; medians are nearest-rank "
       "over the window's observations; members at risk is as of the window's end. The same "
       "numbers as <code>teamhealth report</code>.</p></section>";
  b += "<section><h2>On-call interruptions per day, by period</h2>" + InterruptionsPerDay(d, axis) +
       "</section>";
  b += "<section><h2>Pages by local hour and weekday</h2>" + HeatMap(d) + "</section>";
  b += "<section><h2>Time to acknowledge</h2>" +
       Histogram(d, "ack", "teamhealth_oncall_time_to_ack_seconds", "acknowledged incidents") +
       "</section>";
  b += "<section><h2>Context switches and direct interruptions per day</h2>" +
       SwitchesAndPings(d, axis) + "</section>";
  b += "<section><h2>Who pings us</h2>" + WhoPingsUs(d) + "</section>";
  b += "<section><h2>Cycle time</h2>" +
       Histogram(d, "cycle", "teamhealth_cycle_time_seconds", "finished work items") +
       "</section>";
  b += "<section class=\"pair\"><div><h2>Burnout signals</h2>" + Burnout(d) +
       "</div><div><h2>Team pulse</h2>" + Pulse(d) + "</div></section>";
  b += "<section><h2>Definitions</h2>" + Definitions() +
       "<p class=\"note\">Full definitions: docs/design.md section 7.</p></section>";
  return Page("Team health retro: " + d.team, b);
}

std::string RenderTeamList(const std::vector<TeamInfo>& teams, EpochMillis at) {
  std::string b = "<h1>Teams</h1><p class=\"sub\">As of " + HtmlEscape(FormatRfc3339(at)) +
                  ". Each page covers the 14 whole days (UTC) before today; add "
                  "<code>?from=&amp;to=</code> (RFC 3339) for another window.</p><table><thead><tr><th>Team</th><th>Members</th>"
                  "</tr></thead><tbody>";
  for (const auto& t : teams) {
    b += "<tr><td><a href=\"/teams/" + HtmlEscape(PercentEncode(t.name)) + "\">" +
         HtmlEscape(t.name) + "</a></td><td class=\"n\">" + std::to_string(t.members) +
         "</td></tr>";
  }
  return Page("Teams", b + "</tbody></table>");
}

std::string RenderErrorPage(int status, std::string_view message) {
  return Page(std::to_string(status), "<h1>" + std::to_string(status) + "</h1><p>" +
                                          HtmlEscape(message) + "</p><p><a href=\"/\">All "
                                                                "teams</a></p>");
}

}  // namespace teamhealth::app
