// The /metrics text of the team-health metrics (ExpositionWriter) against prometheus-cpp's
// TextSerializer, which wrote it before, on edge cases and on a generated organisation; and
// parsed back by the text format's rules into the metrics it was written from.
#include "teamhealth/http/exposition.h"

#include <gtest/gtest.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <sstream>

#include "generated_record.h"
#include "teamhealth/config/config.h"
#include "teamhealth/generate/generator.h"
#include "teamhealth/http/metrics.h"
#include "teamhealth/projections/pipeline.h"
#include "teamhealth/projections/registry.h"
#include "teamhealth/projector/projector.h"
#include "teamhealth/sources/source.h"

namespace teamhealth::http {
namespace {

using projections::Accumulator;
using projections::HistogramData;
using projections::Labels;

constexpr double kInf = std::numeric_limits<double>::infinity();

// What /metrics wrote before ExpositionWriter: the accumulator as prometheus-cpp families (the
// former ProjectionCollectable), serialized by prometheus-cpp.
std::string Reference(const Accumulator& acc) {
  std::vector<prometheus::MetricFamily> out;
  auto metric = [](const Labels& labels) {
    prometheus::ClientMetric m;
    for (const auto& [k, v] : labels) m.label.push_back({k, v});
    return m;
  };
  for (const auto& spec : projections::AllSpecs()) {
    prometheus::MetricFamily family;
    family.name = std::string(spec.name);
    family.help = std::string(spec.help);
    switch (spec.type) {
      case projections::MetricType::kCounter:
        family.type = prometheus::MetricType::Counter;
        if (auto it = acc.counters().find(family.name); it != acc.counters().end()) {
          for (const auto& [labels, v] : it->second) {
            family.metric.push_back(metric(labels));
            family.metric.back().counter.value = v;
          }
        }
        break;
      case projections::MetricType::kGauge:
        family.type = prometheus::MetricType::Gauge;
        if (auto it = acc.gauges().find(family.name); it != acc.gauges().end()) {
          for (const auto& [labels, v] : it->second) {
            family.metric.push_back(metric(labels));
            family.metric.back().gauge.value = v;
          }
        }
        break;
      case projections::MetricType::kHistogram:
        family.type = prometheus::MetricType::Histogram;
        if (auto it = acc.histograms().find(family.name); it != acc.histograms().end()) {
          for (const auto& [labels, h] : it->second) {
            auto& m = family.metric.emplace_back(metric(labels));
            m.histogram.sample_count = h.count;
            m.histogram.sample_sum = h.sum;
            uint64_t cumulative = 0;
            for (size_t i = 0; i < h.bucket_counts.size(); ++i) {
              cumulative += h.bucket_counts[i];
              prometheus::ClientMetric::Bucket b;
              b.cumulative_count = cumulative;
              b.upper_bound = i < spec.buckets.size() ? spec.buckets[i] : kInf;
              m.histogram.bucket.push_back(b);
            }
          }
        }
        break;
    }
    out.push_back(std::move(family));
  }
  return prometheus::TextSerializer().Serialize(out);
}

std::string Written(const Accumulator& acc) {
  std::string out;
  ExpositionWriter(out).Families(acc);
  return out;
}

// Values that %.16g writes exactly (they read back as themselves) and the edge cases of the
// format: signed zero, whole numbers on both sides of 1e16, fractions, extremes.
const std::vector<double> kExactValues = {
    0,      -0.0,     1,       -1,     7,        1e6,    3600,   123456789012345.0,
    9.5e15, 1e16,     1e17,    1e21,   1.5,      0.1,    0.25,   -2.5,
    1e-7,   1.25e-300, 1.0 / 3, 2.0 / 3, 1764512345.125, 4.9e-324, 1.7976931348623157e308};

Accumulator EdgeCases() {
  Accumulator acc;
  const EpochMillis at = 0;
  // Label values with everything the format escapes, UTF-8 and the empty string.
  acc.Add("teamhealth_oncall_incidents_total", {{"team", "a\"b"}}, 1, at);
  acc.Add("teamhealth_oncall_incidents_total", {{"team", "back\\slash"}}, 2, at);
  acc.Add("teamhealth_oncall_incidents_total", {{"team", "line\nfeed"}}, 3, at);
  acc.Add("teamhealth_oncall_incidents_total", {{"team", "\xc3\xa9quipe \xe2\x9c\x93"}}, 4, at);
  acc.Add("teamhealth_oncall_incidents_total", {{"team", ""}}, 5, at);
  acc.Add("teamhealth_oncall_incidents_total", {}, 6, at);
  for (size_t i = 0; i < kExactValues.size(); ++i) {
    acc.Set("teamhealth_wip_items", {{"item", std::to_string(i)}, {"team", "t"}}, kExactValues[i]);
  }
  acc.Set("teamhealth_team_members", {{"team", "nan"}}, std::nan(""));
  acc.Set("teamhealth_team_members", {{"team", "inf"}}, kInf);
  acc.Set("teamhealth_team_members", {{"team", "-inf"}}, -kInf);
  // 2256613.8079999997 needs 17 digits: written as %.16g, like prometheus-cpp.
  acc.Set("teamhealth_team_members", {{"team", "17digits"}}, 2256613.8079999997);
  for (double v : {1.0, 45.5, 600.0, 1e9, 0.001}) {
    acc.Observe("teamhealth_oncall_time_to_ack_seconds", {{"team", "t"}}, v, at);
  }
  acc.Observe("teamhealth_cycle_time_seconds", {}, 7200, at);
  return acc;
}

TEST(ExpositionTest, MatchesPrometheusCppOnEdgeCases) {
  const Accumulator acc = EdgeCases();
  EXPECT_EQ(Written(acc), Reference(acc));
}

// One histogram family as prometheus-cpp writes it.
std::string ReferenceHistogram(const std::string& name, const Labels& labels,
                               const std::vector<double>& bounds, const HistogramData& h) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = "h";
  family.type = prometheus::MetricType::Histogram;
  auto& m = family.metric.emplace_back();
  for (const auto& [k, v] : labels) m.label.push_back({k, v});
  m.histogram.sample_count = h.count;
  m.histogram.sample_sum = h.sum;
  uint64_t cumulative = 0;
  for (size_t i = 0; i < h.bucket_counts.size(); ++i) {
    cumulative += h.bucket_counts[i];
    m.histogram.bucket.push_back({cumulative, i < bounds.size() ? bounds[i] : kInf});
  }
  return prometheus::TextSerializer().Serialize({family});
}

TEST(ExpositionTest, MatchesPrometheusCppOnOddHistograms) {
  // Bucket counts that do not match the bounds (none, fewer, more): written as prometheus-cpp
  // writes them, with a +Inf bucket added when the last one was not +Inf.
  const std::vector<std::pair<std::vector<uint64_t>, std::vector<double>>> cases = {
      {{1, 2}, {10, 20, 30}}, {{}, {10}}, {{1, 1, 1}, {10}}, {{1, 2}, {10}}, {{3}, {}}};
  std::string all;
  for (const auto& [counts, bounds] : cases) {
    const HistogramData h{counts, 3.5, 3};
    for (const Labels& labels : {Labels{}, Labels{{"team", "t"}, {"x", "\\\"\n"}}}) {
      std::string out;
      ExpositionWriter w(out);
      w.Header("x", "h", projections::MetricType::kHistogram);
      w.Histogram("x", labels, bounds, h);
      EXPECT_EQ(out, ReferenceHistogram("x", labels, bounds, h));
      all += out;
    }
  }
  EXPECT_NE(all.find("x_count{team=\"t\",x=\"\\\\\\\"\\n\"} 3\n"), std::string::npos) << all;
  EXPECT_NE(all.find("x_bucket{team=\"t\",x=\"\\\\\\\"\\n\",le=\"20\"} 3\n"), std::string::npos);
  EXPECT_NE(all.find("x_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
}

TEST(ExpositionTest, SampleValuesAreWrittenAsPrintfWrites) {
  auto text = [](double v) {
    std::string s;
    AppendSampleValue(s, v);
    return s;
  };
  EXPECT_EQ(text(0), "0");
  EXPECT_EQ(text(-0.0), "-0");
  EXPECT_EQ(text(1e6), "1000000");
  EXPECT_EQ(text(9999999999999998.0), "9999999999999998");
  EXPECT_EQ(text(1e16), "1e+16");
  EXPECT_EQ(text(0.1), "0.1");
  EXPECT_EQ(text(1e-5), "1e-05");
  EXPECT_EQ(text(std::nan("")), "Nan");
  EXPECT_EQ(text(kInf), "+Inf");
  EXPECT_EQ(text(-kInf), "-Inf");
  EXPECT_EQ(text(2256613.8079999997), "2256613.808");
  // A fixed sweep (no randomness) over magnitudes, signs and fractions.
  char buf[64];
  for (int e = -320; e <= 308; e += 7) {
    for (double m : {1.0, -1.0, 1.2345678901234567, 3.0 / 7, -9.999999999999999, 0.5}) {
      const double v = m * std::pow(10.0, e);
      std::snprintf(buf, sizeof buf, "%.16g", v);
      EXPECT_EQ(text(v), buf) << "e=" << e << " m=" << m;
    }
  }
  for (int64_t i = -100000; i <= 100000; i += 997) {
    const double v = static_cast<double>(i) * 1000003.0;
    std::snprintf(buf, sizeof buf, "%.16g", v);
    EXPECT_EQ(text(v), buf) << v;
  }
}

// A parser of the text format's rules (0.0.4), as strict as the test needs: every line is a
// comment (# HELP name text, # TYPE name type) or a sample `name{l="v",...} value`; a family's
// TYPE comes before its samples; label names are [a-zA-Z_][a-zA-Z0-9_]*; values are floats,
// Nan or +-Inf.
struct Parsed {
  std::map<std::string, std::string> type_of;
  std::map<std::string, std::string> help_of;
  // sample name -> labels (in the order written) -> value
  std::map<std::string, std::vector<std::pair<Labels, double>>> samples;
};

bool IsNameChar(char c, bool first) {
  return c == '_' || c == ':' || std::isalpha(static_cast<unsigned char>(c)) ||
         (!first && std::isdigit(static_cast<unsigned char>(c)));
}

double ParseValue(const std::string& s) {
  if (s == "Nan" || s == "NaN") return std::nan("");
  if (s == "+Inf") return kInf;
  if (s == "-Inf") return -kInf;
  // strtod, not stod: a subnormal value is a value, not an error.
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  EXPECT_EQ(end, s.c_str() + s.size()) << s;
  return v;
}

Parsed Parse(const std::string& text) {
  Parsed p;
  std::istringstream in(text);
  std::string line;
  std::string family;  // of the last TYPE line
  EXPECT_TRUE(text.empty() || text.back() == '\n');
  while (std::getline(in, line)) {
    if (line.starts_with("# HELP ")) {
      const size_t sp = line.find(' ', 7);
      p.help_of[line.substr(7, sp - 7)] = line.substr(sp + 1);
      continue;
    }
    if (line.starts_with("# TYPE ")) {
      const size_t sp = line.find(' ', 7);
      family = line.substr(7, sp - 7);
      EXPECT_EQ(p.type_of.count(family), 0u) << "second TYPE line: " << line;
      p.type_of[family] = line.substr(sp + 1);
      continue;
    }
    size_t at = 0;
    while (at < line.size() && IsNameChar(line[at], at == 0)) ++at;
    const std::string name = line.substr(0, at);
    EXPECT_FALSE(name.empty()) << line;
    EXPECT_TRUE(name.starts_with(family)) << "sample outside its family: " << line;
    Labels labels;
    if (at < line.size() && line[at] == '{') {
      ++at;
      while (at < line.size() && line[at] != '}') {
        const size_t start = at;
        while (at < line.size() && IsNameChar(line[at], at == start) && line[at] != ':') ++at;
        std::string key = line.substr(start, at - start);
        EXPECT_FALSE(key.empty()) << line;
        EXPECT_EQ(line.substr(at, 2), "=\"") << line;
        at += 2;
        std::string value;
        while (at < line.size() && line[at] != '"') {
          if (line[at] == '\\') {
            ++at;
            EXPECT_TRUE(line[at] == 'n' || line[at] == '\\' || line[at] == '"') << line;
            value.push_back(line[at] == 'n' ? '\n' : line[at]);
          } else {
            value.push_back(line[at]);
          }
          ++at;
        }
        ++at;  // the closing quote
        labels.emplace_back(std::move(key), std::move(value));
        if (at < line.size() && line[at] == ',') ++at;
      }
      EXPECT_LT(at, line.size()) << "unclosed labels: " << line;
      ++at;
    }
    EXPECT_EQ(line.substr(at, 1), " ") << line;
    p.samples[name].emplace_back(std::move(labels), ParseValue(line.substr(at + 1)));
  }
  return p;
}

// The value the exposition promises: %.16g read back.
double Printed(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.16g", v);
  return std::isnan(v) ? v : std::strtod(buf, nullptr);
}

void ExpectSame(double got, double want, const std::string& what) {
  if (std::isnan(want)) {
    EXPECT_TRUE(std::isnan(got)) << what;
  } else {
    EXPECT_EQ(got, Printed(want)) << what;
    EXPECT_EQ(std::signbit(got), std::signbit(want)) << what;
  }
}

// Parses the writer's text back and checks it holds exactly the accumulator's series.
void ExpectRoundTrip(const Accumulator& acc) {
  const Parsed p = Parse(Written(acc));
  for (const auto& spec : projections::AllSpecs()) {
    const std::string name(spec.name);
    ASSERT_EQ(p.help_of.count(name), 1u) << name;
    EXPECT_EQ(p.help_of.at(name), spec.help);
    const auto samples = [&](const std::string& n) {
      auto it = p.samples.find(n);
      return it == p.samples.end() ? std::vector<std::pair<Labels, double>>{} : it->second;
    };
    if (spec.type != projections::MetricType::kHistogram) {
      const bool counter = spec.type == projections::MetricType::kCounter;
      EXPECT_EQ(p.type_of.at(name), counter ? "counter" : "gauge");
      const auto& families = counter ? acc.counters() : acc.gauges();
      std::map<Labels, double> want;
      if (auto it = families.find(name); it != families.end()) want = it->second;
      const auto got = samples(name);
      ASSERT_EQ(got.size(), want.size()) << name;
      size_t i = 0;
      for (const auto& [labels, v] : want) {
        EXPECT_EQ(got[i].first, labels) << name;
        ExpectSame(got[i].second, v, name);
        ++i;
      }
      continue;
    }
    EXPECT_EQ(p.type_of.at(name), "histogram");
    std::map<Labels, HistogramData> want;
    if (auto it = acc.histograms().find(name); it != acc.histograms().end()) want = it->second;
    const auto counts = samples(name + "_count");
    const auto sums = samples(name + "_sum");
    const auto buckets = samples(name + "_bucket");
    ASSERT_EQ(counts.size(), want.size()) << name;
    ASSERT_EQ(sums.size(), want.size()) << name;
    size_t i = 0, b = 0;
    for (const auto& [labels, h] : want) {
      EXPECT_EQ(counts[i].first, labels);
      EXPECT_EQ(counts[i].second, static_cast<double>(h.count));
      EXPECT_EQ(sums[i].first, labels);
      ExpectSame(sums[i].second, h.sum, name + "_sum");
      ++i;
      // One bucket per count, cumulative, the le label last; the last one +Inf.
      ASSERT_EQ(h.bucket_counts.size(), spec.buckets.size() + 1) << name;
      uint64_t cumulative = 0;
      for (size_t k = 0; k < h.bucket_counts.size(); ++k, ++b) {
        ASSERT_LT(b, buckets.size()) << name;
        cumulative += h.bucket_counts[k];
        Labels with_le = labels;
        with_le.emplace_back("le", "");
        ASSERT_EQ(buckets[b].first.size(), with_le.size());
        const auto& [le_key, le] = buckets[b].first.back();
        EXPECT_EQ(le_key, "le");
        EXPECT_EQ(ParseValue(le), k < spec.buckets.size() ? spec.buckets[k] : kInf);
        EXPECT_EQ(buckets[b].second, static_cast<double>(cumulative)) << name;
      }
    }
    EXPECT_EQ(b, buckets.size()) << name;
  }
  // Nothing but the AllSpecs() families.
  EXPECT_EQ(p.type_of.size(), projections::AllSpecs().size());
}

TEST(ExpositionTest, ParsesBackIntoTheSameSeries) { ExpectRoundTrip(EdgeCases()); }

// The metrics of a generated organisation with per-person series, as metrics_bench scrapes.
Accumulator GeneratedExport() {
  generate::Options options;
  options.seed = 13;
  options.teams = 4;
  options.people = 40;
  options.days = 21;
  auto out = generate::Generate(options);
  EXPECT_TRUE(out.ok());
  auto config = config::ParseConfig(out->directory_toml, "generated directory").value();
  auto registry = sources::MakeSourceRegistry();
  sources::NormalizeResult result;
  std::vector<schema::Event> events;
  for (const auto& r : out->records) {
    testing::NormalizeRecord(*registry, r, result);
    for (auto& e : result.events) events.push_back(std::move(e));
  }
  std::stable_sort(events.begin(), events.end(), [](const auto& a, const auto& b) {
    return a.occurred_at_ms() < b.occurred_at_ms();
  });
  projections::Settings settings;
  settings.person_metrics = true;
  projections::Pipeline pipeline(projections::MakeDirectoryView(config.directory), settings);
  for (const auto& e : projections::DirectoryEvents(config.directory)) pipeline.Preload(e);
  Accumulator counters;
  for (const auto& e : events) pipeline.Apply(e, counters);
  std::map<std::string, std::string> handle_of_ref;
  for (const auto& p : config.directory.people) {
    for (const auto& id : p.identities) handle_of_ref[id] = p.handle;
  }
  return projector::ExportedMetrics(counters, pipeline, options.end, handle_of_ref);
}

TEST(ExpositionTest, MatchesPrometheusCppOnAGeneratedOrganisation) {
  const Accumulator acc = GeneratedExport();
  ASSERT_FALSE(acc.histograms().empty());
  ASSERT_TRUE(acc.gauges().count("teamhealth_person_burnout_at_risk"));
  EXPECT_EQ(Written(acc), Reference(acc));
  ExpectRoundTrip(acc);
}

TEST(ExpositionTest, DaemonMetricsEndWithTheProjectionsAndTheirLag) {
  const Accumulator acc = EdgeCases();
  DaemonMetrics metrics("test");
  metrics.AttachProjections([&] { return acc; }, [] { return uint64_t{42}; },
                            {"oncall_load", "burnout"});
  const std::string text = metrics.Serialize();
  const std::string tail =
      Reference(acc) +
      "# HELP teamhealth_projection_lag_events Events appended to the log that the projection "
      "has not applied yet.\n"
      "# TYPE teamhealth_projection_lag_events gauge\n"
      "teamhealth_projection_lag_events{projection=\"oncall_load\"} 42\n"
      "teamhealth_projection_lag_events{projection=\"burnout\"} 42\n";
  EXPECT_TRUE(text.ends_with(tail)) << text;
  EXPECT_NE(text.find("\nteamhealth_build_info{version=\"test\"} 1\n"), std::string::npos) << text;
  EXPECT_EQ(metrics.Serialize().size(), text.size());  // a second scrape, with its size hint
}

}  // namespace
}  // namespace teamhealth::http
