// `teamhealth backfill`: the history of every docs/design.md section 7 series as OpenMetrics
// with timestamps, so that `promtool tsdb create-blocks-from openmetrics` can load it into
// Prometheus before the first live scrape (section 8, "Backfill").
//
// One replay of the log, in event-time order, through the projection pipeline (the one way
// events reach projections); at each step instant the metrics are exported exactly as /metrics
// exports them (projector::ExportedMetrics: gauges as of the instant, privacy applied).
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>

#include "commands.h"
#include "directory.h"
#include "teamhealth/base/time.h"
#include "teamhealth/config/config.h"
#include "teamhealth/eventlog/event_log.h"
#include "teamhealth/projections/accumulator.h"
#include "teamhealth/projections/pipeline.h"
#include "teamhealth/projections/registry.h"
#include "teamhealth/projector/projector.h"
#include "teamhealth/storage/store.h"

namespace teamhealth::app {
namespace {

constexpr const char* kBackfillUsage =
    "usage: teamhealth backfill --config FILE --log DIR --from A --to B --step S [--out FILE]\n"
    "  Replays the log once and writes every team-health series (docs/design.md section 7) at\n"
    "  A, A+S, A+2S, ... up to B as OpenMetrics with timestamps: counters cumulative from the\n"
    "  start of the log (0 before a series' first increment), histograms as buckets, sum and\n"
    "  count, gauges as of each instant; privacy as on /metrics. A and B are RFC 3339 times;\n"
    "  S is a duration (30s, 5m, 1h, 1d). Load it before Prometheus first scrapes the daemon:\n"
    "    promtool tsdb create-blocks-from openmetrics FILE PROMETHEUS_DATA_DIR\n"
    "  --out FILE (default: standard output). At most 100000 steps.\n";

constexpr int64_t kMaxSteps = 100'000;
constexpr int64_t kMaxStepSeconds = 3650LL * 86400;

struct Options {
  std::string config, log_dir, out;
  EpochMillis from = 0, to = 0, step = 0;
};

// Unknown options, missing values and stray arguments are rejected by ParseArgs (spec below).
Result<Options> Parse(const Args& args) {
  Options o;
  o.config = args.Get("config");
  o.log_dir = args.Get("log");
  o.out = args.Get("out");
  const auto from = ParseRfc3339(args.Get("from")), to = ParseRfc3339(args.Get("to"));
  if (!from) return Error("--from " + args.Get("from") + ": not an RFC 3339 time");
  if (!to) return Error("--to " + args.Get("to") + ": not an RFC 3339 time");
  if (*to <= *from) return Error("--to must be after --from");
  // At most 10 years: a step in milliseconds stays far from overflow.
  const auto step = DurationOption(args, "step", 1, kMaxStepSeconds, 0);
  if (!step) return step.error();
  o.from = *from;
  o.to = *to;
  o.step = *step * 1000;
  if ((o.to - o.from) / o.step + 1 > kMaxSteps) {
    return Error("--from/--to/--step: more than " + std::to_string(kMaxSteps) +
                 " steps; use a longer --step or a shorter range");
  }
  return o;
}

// Values of one series at the step instants (index = step number; NaN = no sample).
using Samples = std::vector<double>;
// A histogram series: one Samples per cumulative bucket, then sum, then count.
struct HistogramSamples {
  std::vector<Samples> buckets;
  Samples sum, count;
};

// Every series of every family over the steps, filled in step by step.
class History {
 public:
  explicit History(size_t steps) : steps_(steps) {}

  void Record(size_t step, const projections::Accumulator& acc) {
    for (const auto& [name, series] : acc.counters()) {
      for (const auto& [labels, v] : series) At(scalars_[name], labels)[step] = v;
    }
    for (const auto& [name, series] : acc.gauges()) {
      for (const auto& [labels, v] : series) At(scalars_[name], labels)[step] = v;
    }
    for (const auto& [name, series] : acc.histograms()) {
      for (const auto& [labels, h] : series) {
        HistogramSamples& s = histograms_[name][labels];
        if (s.buckets.empty()) {
          s.buckets.assign(h.bucket_counts.size(), Samples(steps_, kNone));
          s.sum.assign(steps_, kNone);
          s.count.assign(steps_, kNone);
        }
        double cumulative = 0;
        for (size_t i = 0; i < h.bucket_counts.size() && i < s.buckets.size(); ++i) {
          cumulative += static_cast<double>(h.bucket_counts[i]);
          s.buckets[i][step] = cumulative;
        }
        s.sum[step] = h.sum;
        s.count[step] = static_cast<double>(h.count);
      }
    }
  }

  // A counter or histogram is 0 before its first increment: without those zeros Prometheus
  // could not see the first increase of a series that starts inside a queried range.
  void ZeroFillBeforeFirstSample(const std::set<std::string>& cumulative) {
    auto fill = [](Samples& s) {
      for (double& v : s) {
        if (!std::isnan(v)) break;
        v = 0;
      }
    };
    for (auto& [name, series] : scalars_) {
      if (!cumulative.contains(name)) continue;
      for (auto& [_, s] : series) fill(s);
    }
    for (auto& [_, series] : histograms_) {
      for (auto& [__, h] : series) {
        for (auto& b : h.buckets) fill(b);
        fill(h.sum);
        fill(h.count);
      }
    }
  }

  const std::map<projections::Labels, Samples>* Scalars(const std::string& name) const {
    auto it = scalars_.find(name);
    return it == scalars_.end() ? nullptr : &it->second;
  }
  const std::map<projections::Labels, HistogramSamples>* Histograms(const std::string& name) const {
    auto it = histograms_.find(name);
    return it == histograms_.end() ? nullptr : &it->second;
  }

  static constexpr double kNone = std::numeric_limits<double>::quiet_NaN();

 private:
  Samples& At(std::map<projections::Labels, Samples>& series, const projections::Labels& labels) {
    auto [it, fresh] = series.try_emplace(labels);
    if (fresh) it->second.assign(steps_, kNone);
    return it->second;
  }

  size_t steps_;
  std::map<std::string, std::map<projections::Labels, Samples>> scalars_;
  std::map<std::string, std::map<projections::Labels, HistogramSamples>> histograms_;
};

// OpenMetrics number: shortest round-trip form ("30", "0.25", "7776000"), as the live
// exposition writes bucket bounds, so `le` values match between backfill and scrape.
std::string Number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : "NaN";
}

void AppendEscaped(std::string& out, std::string_view s) {
  for (char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
}

std::string LabelText(const projections::Labels& labels, std::string_view le = {}) {
  if (labels.empty() && le.empty()) return "";
  std::string out = "{";
  for (const auto& [k, v] : labels) {
    if (out.size() > 1) out += ',';
    out += k + "=\"";
    AppendEscaped(out, v);
    out += '"';
  }
  if (!le.empty()) {
    if (out.size() > 1) out += ',';
    out += "le=\"" + std::string(le) + "\"";
  }
  return out + "}";
}

// Timestamps in seconds, with milliseconds only when needed.
std::string Timestamp(EpochMillis ms) {
  if (ms % 1000 == 0) return std::to_string(ms / 1000);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld.%03lld", static_cast<long long>(ms / 1000),
                static_cast<long long>(ms % 1000));
  return buf;
}

// Writes the families in catalogue order, each family's series together, each series' samples
// in time order: the order promtool's OpenMetrics reader needs.
void Write(const History& history, const std::vector<EpochMillis>& instants, std::FILE* out) {
  std::string text;
  auto flush = [&] {
    std::fwrite(text.data(), 1, text.size(), out);
    text.clear();
  };
  auto samples = [&](const std::string& name, const std::string& labels, const Samples& s) {
    for (size_t i = 0; i < s.size(); ++i) {
      if (std::isnan(s[i])) continue;
      text += name + labels + ' ' + Number(s[i]) + ' ' + Timestamp(instants[i]) + '\n';
    }
    if (text.size() > (1 << 20)) flush();
  };
  for (const auto& spec : projections::AllSpecs()) {
    const std::string name(spec.name);
    std::string family = name;
    const char* type = "gauge";
    if (spec.type == projections::MetricType::kCounter) {
      type = "counter";
      if (family.ends_with("_total")) family.resize(family.size() - 6);
    } else if (spec.type == projections::MetricType::kHistogram) {
      type = "histogram";
    }
    text += "# TYPE " + family + " " + type + "\n# HELP " + family + " ";
    AppendEscaped(text, spec.help);
    text += '\n';
    if (spec.type == projections::MetricType::kHistogram) {
      if (const auto* series = history.Histograms(name)) {
        for (const auto& [labels, h] : *series) {
          for (size_t i = 0; i < h.buckets.size(); ++i) {
            const double bound = i < spec.buckets.size() ? spec.buckets[i]
                                                         : std::numeric_limits<double>::infinity();
            samples(name + "_bucket", LabelText(labels, Number(bound)), h.buckets[i]);
          }
          samples(name + "_count", LabelText(labels), h.count);
          samples(name + "_sum", LabelText(labels), h.sum);
        }
      }
    } else if (const auto* series = history.Scalars(name)) {
      for (const auto& [labels, s] : *series) samples(name, LabelText(labels), s);
    }
  }
  text += "# EOF\n";
  flush();
}

Status Run(const Options& o) {
  auto config = config::LoadConfigFile(o.config);
  if (!config) return Error(o.config + ": " + config.error().message());
  auto store = storage::Store::Open({o.log_dir, true, false});
  if (!store) return store.error();
  const projections::Settings settings = projections::MakeSettings(*config);
  eventlog::OpenOptions open{.read_only = true};
  if (settings.person_metrics) {  // naming people reads the keyed identities column
    auto key = eventlog::LoadIdentityKey(config->storage.identity_key_file, o.log_dir);
    if (!key) return key.error();
    open.identity_key = std::move(*key);
  }
  auto log = eventlog::EventLog::Open(**store, std::move(open));
  if (!log) return log.error();

  projections::Pipeline pipeline(projections::MakeDirectoryView(config->directory), settings);
  if (auto s = projector::PreloadDirectory(**log, pipeline); !s) return s;
  std::map<std::string, std::string> handle_of_ref;
  if (settings.person_metrics) {
    auto names = (*log)->NamesOf(DirectoryPeople(config->directory));
    if (!names) return names.error();
    handle_of_ref = std::move(*names);
  }

  std::vector<EpochMillis> instants;
  for (EpochMillis t = o.from; t <= o.to; t += o.step) instants.push_back(t);
  History history(instants.size());
  projections::Accumulator acc;
  size_t next = 0;  // the next step to record
  auto record_until = [&](EpochMillis before) {
    // Every step instant <= `before` sees exactly the events that occurred before it.
    for (; next < instants.size() && instants[next] <= before; ++next) {
      history.Record(next, projector::ExportedMetrics(acc, pipeline, instants[next],
                                                      handle_of_ref));
    }
  };
  uint64_t applied = 0;
  auto s = (*log)->ForEachViewByTime(o.to, [&](Sequence, schema::EventView& e) {
    record_until(e.occurred_at_ms());
    pipeline.Apply(e, acc);
    if (++applied % 1'000'000 == 0) {
      std::fprintf(stderr, "teamhealth backfill: %llu events replayed\n",
                   static_cast<unsigned long long>(applied));
    }
    return true;
  });
  if (!s) return s;
  record_until(o.to);

  std::set<std::string> cumulative;
  for (const auto& spec : projections::AllSpecs()) {
    if (spec.type != projections::MetricType::kGauge) cumulative.emplace(spec.name);
  }
  history.ZeroFillBeforeFirstSample(cumulative);

  std::FILE* out = stdout;
  if (!o.out.empty()) {
    out = std::fopen(o.out.c_str(), "w");
    if (out == nullptr) return Error("cannot write " + o.out);
  }
  Write(history, instants, out);
  const bool ok = std::fflush(out) == 0 && (out == stdout || std::fclose(out) == 0);
  if (!ok) return Error("cannot write " + (o.out.empty() ? std::string("stdout") : o.out));
  std::fprintf(stderr, "teamhealth backfill: %llu events, %zu steps from %s to %s\n",
               static_cast<unsigned long long>(applied), instants.size(),
               FormatRfc3339(o.from).c_str(), FormatRfc3339(instants.back()).c_str());
  return Status::Ok();
}

}  // namespace

int Backfill(const Args& args) {
  auto options = Parse(args);
  if (!options) return UsageError(args, options.error().message());
  if (auto s = Run(*options); !s) {
    std::fprintf(stderr, "teamhealth backfill: %s\n", s.error().message().c_str());
    return 1;
  }
  return 0;
}

Command BackfillCommand() {
  return {.name = "backfill",
          .usage = kBackfillUsage,
          .spec = {.options = {"config", "log", "from", "to", "step", "out"},
                   .required = {"config", "log", "from", "to", "step"}},
          .run = Backfill};
}

}  // namespace teamhealth::app
