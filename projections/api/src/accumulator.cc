#include "teamhealth/projections/accumulator.h"

#include <algorithm>

#include "teamhealth/projections/bytes.h"
#include "teamhealth/projections/directory_view.h"
#include "series_key.h"

namespace teamhealth::projections {
namespace {

const std::vector<double> kAckBuckets = {30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400};
const std::vector<double> kResolveBuckets = {300,   900,   1800,  3600,   7200,
                                             14400, 28800, 86400, 259200, 604800};
const std::vector<double> kPulseBuckets = {1, 2, 3, 4, 5};
const std::vector<double> kFlowBuckets = {3600,   14400,  28800,   86400,   172800,
                                          345600, 604800, 1209600, 2592000, 7776000};

void SaveLabels(ByteWriter& w, const Labels& labels) {
  w.U64(labels.size());
  for (const auto& [k, v] : labels) {
    w.Str(k);
    w.Str(v);
  }
}

Labels LoadLabels(ByteReader& r) {
  Labels labels;
  for (uint64_t n = r.U64(); r.ok() && n > 0; --n) {
    std::string k = r.Str();
    labels.emplace_back(std::move(k), r.Str());
  }
  return labels;
}

}  // namespace

const std::vector<MetricSpec>& AllSpecs() {
  static const std::vector<MetricSpec> specs = {
      {"teamhealth_oncall_interruptions_total",
       MetricType::kCounter,
       "Pages to a person, merged when less than 60 s apart, by period of the first page.",
       {},
       {"team", "period"}},
      {"teamhealth_oncall_sleep_disrupted_nights_total",
       MetricType::kCounter,
       "Person-nights with at least one interruption inside the local sleep window.",
       {},
       {"team"}},
      {"teamhealth_oncall_incidents_total",
       MetricType::kCounter,
       "Incidents triggered, by the team of the service (else the first assignee).",
       {},
       {"team", "urgency"}},
      {"teamhealth_oncall_time_to_ack_seconds", MetricType::kHistogram,
       "First acknowledgement by anyone minus trigger time.", kAckBuckets,
       {"team"}},
      {"teamhealth_oncall_time_to_resolve_seconds", MetricType::kHistogram,
       "First resolve minus trigger time.", kResolveBuckets,
       {"team"}},
      {"teamhealth_oncall_unacknowledged_total",
       MetricType::kCounter,
       "Incidents resolved without any acknowledgement.",
       {},
       {"team"}},
      {"teamhealth_oncall_escalations_total", MetricType::kCounter, "Incident escalations.", {},
       {"team"}},
      {"teamhealth_oncall_reassignments_total",
       MetricType::kCounter,
       "Incident reassignments.",
       {},
       {"team"}},
      {"teamhealth_oncall_shift_seconds_total",
       MetricType::kCounter,
       "Seconds of on-call shifts.",
       {},
       {"team"}},
      {"teamhealth_oncall_open_incidents", MetricType::kGauge, "Incidents open now.", {},
       {"team"}},
      {"teamhealth_context_switches_total",
       MetricType::kCounter,
       "Consecutive work activities of a person on different subjects within session_gap.",
       {},
       {"team"}},
      {"teamhealth_active_persondays_total",
       MetricType::kCounter,
       "Distinct person-days with work activity.",
       {},
       {"team"}},
      {"teamhealth_work_items_touched_total",
       MetricType::kCounter,
       "Distinct person-day-subject triples.",
       {},
       {"team"}},
      {"teamhealth_wip_items",
       MetricType::kGauge,
       "In-progress work items assigned to team members.",
       {},
       {"team"}},
      {"teamhealth_direct_interruptions_total",
       MetricType::kCounter,
       "DMs and mentions of a person by someone else (not a bot), by period.",
       {},
       {"team", "period", "kind"}},
      {"teamhealth_oncall_bypass_total",
       MetricType::kCounter,
       "Direct interruptions from outside the team while a teammate was on call.",
       {},
       {"team"}},
      {"teamhealth_direct_interruptions_by_sender_team_total",
       MetricType::kCounter,
       "Direct interruptions of the team's members by the sender's team at that instant "
       "(unmapped: sender not in the directory; other: beyond privacy.max_sender_teams).",
       {},
       {"team", "sender_team"}},
      {"teamhealth_project_switches_total",
       MetricType::kCounter,
       "Context switches whose two subjects belong to different projects.",
       {},
       {"team"}},
      {"teamhealth_focus_lost_seconds_total",
       MetricType::kCounter,
       "Estimate: (switches + business-hours direct interruptions) x switch_cost_minutes.",
       {},
       {"team"}},
      {"teamhealth_cycle_time_seconds", MetricType::kHistogram,
       "Time spent in progress, observed when an item enters done.", kFlowBuckets,
       {"team", "item_type"}},
      {"teamhealth_lead_time_seconds", MetricType::kHistogram, "Created to first done.",
       kFlowBuckets,
       {"team", "item_type"}},
      {"teamhealth_work_items_completed_total", MetricType::kCounter, "Items entering done.", {},
       {"team", "item_type"}},
      {"teamhealth_work_items_reopened_total", MetricType::kCounter, "Items leaving done.", {},
       {"team"}},
      {"teamhealth_reassignments_total",
       MetricType::kCounter,
       "Work item assignee changed from one person to another.",
       {},
       {"team"}},
      {"teamhealth_priority_changes_total",
       MetricType::kCounter,
       "Work item priority changes.",
       {},
       {"team"}},
      {"teamhealth_pr_pickup_seconds", MetricType::kHistogram,
       "Pull request ready (or opened) to first review by someone else.", kFlowBuckets,
       {"team"}},
      {"teamhealth_pr_review_seconds", MetricType::kHistogram,
       "Pull request first review to merge.", kFlowBuckets,
       {"team"}},
      {"teamhealth_time_off_worked_days_total",
       MetricType::kCounter,
       "Person-days inside time off with any work activity or page.",
       {},
       {"team"}},
      {"teamhealth_pulse_score", MetricType::kHistogram,
       "Team pulse responses (score 1 to 5, never linked to a person).", kPulseBuckets,
       {"team"}},
      {"teamhealth_burnout_members_at_risk",
       MetricType::kGauge,
       "Team members over a burnout signal threshold now.",
       {},
       {"team", "signal"}},
      {"teamhealth_team_members", MetricType::kGauge, "Team members now.", {},
       {"team"}},
      {"teamhealth_person_oncall_interruptions_total",
       MetricType::kCounter,
       "Per person (only with privacy.person_metrics): interruptions by period.",
       {},
       {"team", "period", "person"}},
      {"teamhealth_person_direct_interruptions_total",
       MetricType::kCounter,
       "Per person (only with privacy.person_metrics): DMs and mentions by period.",
       {},
       {"team", "period", "kind", "person"}},
      {"teamhealth_person_burnout_at_risk",
       MetricType::kGauge,
       "Per person (only with privacy.person_metrics): 1 when over a burnout signal.",
       {},
       {"team", "signal", "person"}},
      {"teamhealth_privacy_suppressed_series",
       MetricType::kGauge,
       "Series not exported because the team is smaller than privacy.min_group_size.",
       {},
       {}},
  };
  return specs;
}

const MetricSpec* FindSpec(std::string_view name) {
  for (const auto& s : AllSpecs()) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

namespace {

const std::vector<double> kNoBuckets;

const std::vector<double>& BucketsOf(std::string_view name) {
  const MetricSpec* spec = FindSpec(name);
  return spec ? spec->buckets : kNoBuckets;
}

void Record(HistogramData& h, const std::vector<double>& bounds, double value) {
  if (h.bucket_counts.empty()) h.bucket_counts.assign(bounds.size() + 1, 0);
  const size_t i =
      static_cast<size_t>(std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin());
  h.bucket_counts[i] += 1;
  h.sum += value;
  h.count += 1;
}

}  // namespace

double& Accumulator::CounterOf(std::string_view name, const Labels& labels) {
  auto& where = counter_index_.where;
  auto it = where.find(std::string_view(detail::SeriesKey(name, labels, key_)));
  if (it == where.end()) {
    it = where.emplace(key_, &counters_[name_.assign(name)][labels]).first;
  }
  return *static_cast<double*>(it->second);
}

HistogramData& Accumulator::HistogramOf(std::string_view name, const Labels& labels) {
  auto& where = histogram_index_.where;
  auto it = where.find(std::string_view(detail::SeriesKey(name, labels, key_)));
  if (it == where.end()) {
    it = where.emplace(key_, &histograms_[name_.assign(name)][labels]).first;
  }
  return *static_cast<HistogramData*>(it->second);
}

void Accumulator::Add(std::string_view name, const Labels& labels, double delta, EpochMillis) {
  CounterOf(name, labels) += delta;
}

void Accumulator::Observe(std::string_view name, const Labels& labels, double value, EpochMillis) {
  Record(HistogramOf(name, labels), BucketsOf(name), value);
}

void Accumulator::AddSeries(const Series& series, double delta, EpochMillis) {
  double* v = counter_slots_.Find(series);
  if (!v) {
    v = &CounterOf(series.name, series.labels);
    counter_slots_.Remember(series, v);
  }
  *v += delta;
}

void Accumulator::ObserveSeries(const Series& series, double value, EpochMillis) {
  HistogramSlot slot = histogram_slots_.Find(series);
  if (!slot.data) {
    slot = {&HistogramOf(series.name, series.labels), &BucketsOf(series.name)};
    histogram_slots_.Remember(series, slot);
  }
  Record(*slot.data, *slot.bounds, value);
}

void Accumulator::Set(std::string_view name, const Labels& labels, double value) {
  gauges_[name_.assign(name)][labels] = value;
}

void Accumulator::MergeFrom(const Accumulator& other) {
  ForgetSeriesIndex();  // families are replaced whole below
  // A family this accumulator does not have yet (the usual case: each projection has its own
  // families) is copied whole, a tree copy without comparisons of label sets; adding 0.0 keeps
  // what adding to zero gave (-0 becomes 0).
  for (const auto& [name, series] : other.counters_) {
    auto& mine = counters_[name];
    if (mine.empty()) {
      mine = series;
      for (auto& [_, v] : mine) v += 0.0;
      continue;
    }
    for (const auto& [labels, v] : series) mine[labels] += v;
  }
  for (const auto& [name, series] : other.histograms_) {
    auto& mine = histograms_[name];
    if (mine.empty()) {
      mine = series;
      for (auto& [_, h] : mine) h.sum += 0.0;
      continue;
    }
    for (const auto& [labels, h] : series) {
      auto& m = mine[labels];
      if (m.bucket_counts.empty()) m.bucket_counts.assign(h.bucket_counts.size(), 0);
      for (size_t i = 0; i < h.bucket_counts.size() && i < m.bucket_counts.size(); ++i) {
        m.bucket_counts[i] += h.bucket_counts[i];
      }
      m.sum += h.sum;
      m.count += h.count;
    }
  }
  for (const auto& [name, series] : other.gauges_) {
    auto& mine = gauges_[name];
    for (const auto& [labels, v] : series) mine[labels] = v;
  }
}

MetricUnit UnitOf(std::string_view name) {
  return name.ends_with("_seconds") || name.ends_with("_seconds_total") ? MetricUnit::kSeconds
                                                                        : MetricUnit::kNone;
}

bool IsSmallTeamSensitive(std::string_view name) {
  return name.starts_with("teamhealth_burnout_") ||
         name == "teamhealth_direct_interruptions_total" ||
         name == "teamhealth_direct_interruptions_by_sender_team_total" ||
         name == "teamhealth_oncall_bypass_total" || name == "teamhealth_pulse_score" ||
         name == "teamhealth_time_off_worked_days_total";
}

bool IsSmallSenderTeam(const Labels& labels, const std::map<std::string, int>& team_sizes,
                       int min_group_size) {
  for (const auto& [k, v] : labels) {
    if (k != "sender_team") continue;
    const auto it = team_sizes.find(v);
    return it != team_sizes.end() && it->second < min_group_size;
  }
  return false;
}

void Accumulator::SuppressSmallTeams(const std::map<std::string, int>& team_sizes,
                                     int min_group_size) {
  ForgetSeriesIndex();  // series are erased below
  auto small = [&](const Labels& labels) {
    for (const auto& [k, v] : labels) {
      if (k != "team") continue;
      auto it = team_sizes.find(v);
      return it == team_sizes.end() || it->second < min_group_size;
    }
    return false;
  };
  int suppressed = 0;
  auto prune = [&](auto& families) {
    for (auto& [name, series] : families) {
      if (!IsSmallTeamSensitive(name)) continue;
      for (auto it = series.begin(); it != series.end();) {
        if (small(it->first) || IsSmallSenderTeam(it->first, team_sizes, min_group_size)) {
          it = series.erase(it);
          ++suppressed;
        } else {
          ++it;
        }
      }
    }
  };
  prune(counters_);
  prune(gauges_);
  prune(histograms_);
  gauges_["teamhealth_privacy_suppressed_series"][{}] = suppressed;
}

namespace {

// The values a closed label takes (the names the projections give periods and kinds of direct
// interruption); nullptr for a label whose values are open.
const std::vector<std::string_view>* ClosedValues(std::string_view label) {
  static const std::vector<std::string_view> periods = {
      PeriodName(Period::kBusiness), PeriodName(Period::kOffHours), PeriodName(Period::kSleep)};
  static const std::vector<std::string_view> kinds = {
      InterruptionKindName(InterruptionKind::kDm), InterruptionKindName(InterruptionKind::kMention)};
  if (label == "period") return &periods;
  if (label == "kind") return &kinds;
  return nullptr;
}

}  // namespace

void Accumulator::AddZeroTeamSeries(const std::map<std::string, int>& team_sizes,
                                    int min_group_size) {
  ForgetSeriesIndex();  // series are added below
  for (const MetricSpec& spec : AllSpecs()) {
    if (spec.type == MetricType::kGauge || spec.labels.empty() || spec.labels[0] != "team") {
      continue;
    }
    // Every combination of the closed labels' values (none if a label is open); each label
    // set is sorted by name below.
    std::vector<Labels> combinations = {{}};
    for (size_t i = 1; i < spec.labels.size(); ++i) {
      const auto* values = ClosedValues(spec.labels[i]);
      if (values == nullptr) {
        combinations.clear();
        break;
      }
      std::vector<Labels> next;
      for (const Labels& partial : combinations) {
        for (std::string_view v : *values) {
          next.push_back(partial);
          next.back().emplace_back(std::string(spec.labels[i]), std::string(v));
        }
      }
      combinations = std::move(next);
    }
    const bool sensitive = IsSmallTeamSensitive(spec.name);
    for (const auto& [team, size] : team_sizes) {
      if (sensitive && size < min_group_size) continue;
      for (Labels labels : combinations) {
        labels.emplace_back("team", team);
        std::sort(labels.begin(), labels.end());
        if (spec.type == MetricType::kCounter) {
          counters_[std::string(spec.name)].try_emplace(std::move(labels), 0.0);
        } else {
          HistogramData zero;
          zero.bucket_counts.assign(spec.buckets.size() + 1, 0);
          histograms_[std::string(spec.name)].try_emplace(std::move(labels), std::move(zero));
        }
      }
    }
  }
}

void Accumulator::NamePeople(const std::map<std::string, std::string>& names) {
  ForgetSeriesIndex();  // series are renamed below
  NamePersonSeries(counters_, names);
  NamePersonSeries(gauges_, names);
  NamePersonSeries(histograms_, names);
}

std::string Accumulator::Save() const {
  std::string out;
  ByteWriter w(out);
  w.U64(counters_.size());
  for (const auto& [name, series] : counters_) {
    w.Str(name);
    w.U64(series.size());
    for (const auto& [labels, v] : series) {
      SaveLabels(w, labels);
      w.F64(v);
    }
  }
  w.U64(histograms_.size());
  for (const auto& [name, series] : histograms_) {
    w.Str(name);
    w.U64(series.size());
    for (const auto& [labels, h] : series) {
      SaveLabels(w, labels);
      w.U64(h.bucket_counts.size());
      for (auto c : h.bucket_counts) w.U64(c);
      w.F64(h.sum);
      w.U64(h.count);
    }
  }
  return out;
}

bool Accumulator::Load(std::string_view bytes) {
  ByteReader r(bytes);
  decltype(counters_) counters;
  decltype(histograms_) histograms;
  for (uint64_t n = r.U64(); r.ok() && n > 0; --n) {
    auto& series = counters[r.Str()];
    for (uint64_t m = r.U64(); r.ok() && m > 0; --m) {
      Labels labels = LoadLabels(r);
      series[labels] = r.F64();
    }
  }
  for (uint64_t n = r.U64(); r.ok() && n > 0; --n) {
    auto& series = histograms[r.Str()];
    for (uint64_t m = r.U64(); r.ok() && m > 0; --m) {
      Labels labels = LoadLabels(r);
      HistogramData h;
      for (uint64_t k = r.U64(); r.ok() && k > 0; --k) h.bucket_counts.push_back(r.U64());
      h.sum = r.F64();
      h.count = r.U64();
      series[labels] = std::move(h);
    }
  }
  if (!r.ok() || !r.done()) return false;
  ForgetSeriesIndex();
  counters_ = std::move(counters);
  histograms_ = std::move(histograms);
  return true;
}

}  // namespace teamhealth::projections
