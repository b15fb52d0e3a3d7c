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
svg{display:block;max-width:100%;height:auto}
.note{color:#50575e;font-size:13px}
.withheld{background:#f6f7f7;border-left:4px solid #8c8f94;padding:6px 10px}
.legend span{display:inline-block;margin-right:14px;font-size:13px}
.legend i{display:inline-block;width:11px;height:11px;margin-right:4px;vertical-align:-1px}
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
  counter("pings", "Direct interruptions (DMs, mentions)", "teamhealth_direct_interruptions_total");
  counter("focus_lost", "Focus lost (estimate)", "teamhealth_focus_lost_seconds_total");
  counter("completed", "Work items completed", "teamhealth_work_items_completed_total");
  median("cycle_p50", "Cycle time, median", "teamhealth_cycle_time_seconds");
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
         "), so burnout and direct-interruption numbers are not shown (as in reports and "
         "/metrics).</p>";
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
  std::vector<Series> series = {{"context switches", "#3b6fb6", {}}};
  if (!d.small) series.push_back({"direct interruptions", "#d05c2c", {}});
  for (auto& x : series) x.values.assign(axis.labels.size(), 0);
  bool any = false;
  for (const auto& f : *d.facts) {
    const size_t k = f.metric == "teamhealth_context_switches_total"       ? 0
                     : f.metric == "teamhealth_direct_interruptions_total" ? 1
                                                                           : 9;
    if (k >= series.size()) continue;
    series[k].values[axis.Slot(projections::ToLocal(d.zone, f.at).day)] += f.value;
    any = true;
  }
  std::string s = d.small ? Withheld(d) : "";
  if (!any) return s + NoData("context switches or direct interruptions");
  return s + Legend(series) + BarChart("switches", axis.labels, series, false);
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
  return s + "</tbody></table>";
}

std::string Definitions() {
  const std::vector<std::string> shown = {
      "teamhealth_oncall_interruptions_total", "teamhealth_oncall_sleep_disrupted_nights_total",
      "teamhealth_oncall_incidents_total",     "teamhealth_oncall_unacknowledged_total",
      "teamhealth_oncall_time_to_ack_seconds", "teamhealth_context_switches_total",
      "teamhealth_direct_interruptions_total", "teamhealth_focus_lost_seconds_total",
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
  b += "<section><h2>Cycle time</h2>" +
       Histogram(d, "cycle", "teamhealth_cycle_time_seconds", "finished work items") +
       "</section>";
  b += "<section><h2>Burnout signals</h2>" + Burnout(d) + "</section>";
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
