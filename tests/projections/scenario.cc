#include "scenario.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "teamhealth/config/config.h"
#include "teamhealth/projections/registry.h"
#include "teamhealth/sources/source.h"

namespace teamhealth::testing {

std::vector<schema::Event> LoadEvents(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  sources::SourceOptions options;
  options.accept_directory_events = true;  // scenarios carry their directory history
  auto registry = sources::MakeSourceRegistry(options);
  auto* canonical = registry->Find("canonical");
  std::vector<schema::Event> out;
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    if (line.empty()) continue;
    sources::RawRecord r;
    r.value = line;
    sources::NormalizeResult result;
    canonical->Normalize(r, result);
    EXPECT_FALSE(result.rejection.has_value())
        << path << ":" << n << ": " << result.rejection->detail;
    for (auto& e : result.events) out.push_back(std::move(e));
  }
  return out;
}

projections::DirectoryView LoadDirectory(const std::string& config_path) {
  auto config = config::LoadConfigFile(config_path);
  EXPECT_TRUE(config.ok()) << (config.ok() ? "" : config.error().message());
  return projections::MakeDirectoryView(config->directory);
}

projections::Settings LoadSettings(const std::string& config_path) {
  auto config = config::LoadConfigFile(config_path);
  EXPECT_TRUE(config.ok()) << (config.ok() ? "" : config.error().message());
  return config.ok() ? config->definitions : projections::Settings{};
}

namespace {

// Lends a projection owned by a test to a pipeline (which owns its projections).
class Borrowed final : public projections::Projection {
 public:
  explicit Borrowed(projections::Projection& p) : p_(p) {}
  std::string_view name() const override { return p_.name(); }
  uint32_t version() const override { return p_.version(); }
  void Apply(const schema::EventView& e, const projections::DirectoryView& d,
             projections::MetricSink& sink) override {
    p_.Apply(e, d, sink);
  }
  void ExportGauges(EpochMillis now, const projections::DirectoryView& d,
                    projections::MetricSink& sink) const override {
    p_.ExportGauges(now, d, sink);
  }
  std::string Save() const override { return p_.Save(); }
  bool Load(std::string_view bytes) override { return p_.Load(bytes); }

 private:
  projections::Projection& p_;
};

std::unique_ptr<projections::Pipeline> PipelineOf(std::unique_ptr<projections::Projection> p,
                                                  const std::string& dir) {
  std::vector<std::unique_ptr<projections::Projection>> list;
  list.push_back(std::move(p));
  return std::make_unique<projections::Pipeline>(LoadDirectory(dir + "config.toml"),
                                                 projections::Settings{}, std::move(list));
}

void PreloadAll(projections::Pipeline& pipeline, const std::vector<schema::Event>& events) {
  for (const auto& e : events) pipeline.Preload(e);
}

}  // namespace

std::unique_ptr<projections::Pipeline> BorrowingPipeline(projections::Projection& projection,
                                                         projections::DirectoryView directory,
                                                         const projections::Settings& settings) {
  std::vector<std::unique_ptr<projections::Projection>> list;
  list.push_back(std::make_unique<Borrowed>(projection));
  return std::make_unique<projections::Pipeline>(std::move(directory), settings,
                                                 std::move(list));
}

projections::Accumulator Drive(projections::Pipeline& pipeline,
                               const std::vector<schema::Event>& events, EpochMillis now) {
  projections::Accumulator acc;
  PreloadAll(pipeline, events);
  for (const auto& e : events) pipeline.Apply(e, acc);
  pipeline.ExportGauges(now, acc);
  return acc;
}

projections::Accumulator Run(projections::Projection& projection,
                             projections::DirectoryView& directory,
                             const std::vector<schema::Event>& events, EpochMillis now) {
  auto pipeline = BorrowingPipeline(projection, directory);
  auto acc = Drive(*pipeline, events, now);
  directory = pipeline->directory();
  return acc;
}

namespace {

std::string Key(const std::string& name, const projections::Labels& labels) {
  std::string k = name + "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) k += ",";
    k += labels[i].first + "=\"" + labels[i].second + "\"";
  }
  return k + "}";
}

// Parses `name{a="x",b="y"}` into a key with labels sorted by name.
std::string NormaliseKey(const std::string& text) {
  const auto brace = text.find('{');
  if (brace == std::string::npos) return text + "{}";
  projections::Labels labels;
  std::string inner = text.substr(brace + 1, text.size() - brace - 2);
  std::stringstream ss(inner);
  for (std::string part; std::getline(ss, part, ',');) {
    const auto eq = part.find('=');
    labels.emplace_back(part.substr(0, eq), part.substr(eq + 2, part.size() - eq - 3));
  }
  std::sort(labels.begin(), labels.end());
  return Key(text.substr(0, brace), labels);
}

// The series name{labels} of `families` (the accumulator's counters, gauges or histograms,
// called `kind`), or nullptr after failing the test with what is there instead.
template <typename V>
const V* FindSeries(const std::map<std::string, std::map<projections::Labels, V>>& families,
                    const std::string& name, const projections::Labels& labels,
                    const char* kind) {
  const auto it = families.find(name);
  if (it == families.end()) {
    std::string names;
    for (const auto& [n, series] : families) names += " " + n;
    ADD_FAILURE() << "missing series " << Key(name, labels) << ": the accumulator has no " << kind
                  << " named " << name << " at all (its " << kind << "s:"
                  << (names.empty() ? " none" : names) << ")";
    return nullptr;
  }
  const auto s = it->second.find(labels);
  if (s == it->second.end()) {
    std::string have;
    for (const auto& [l, v] : it->second) have += " " + Key(name, l);
    ADD_FAILURE() << "missing series " << Key(name, labels) << " (" << name << " has:"
                  << (have.empty() ? " no series" : have) << ")";
    return nullptr;
  }
  return &s->second;
}

}  // namespace

double CounterValue(const projections::Accumulator& acc, const std::string& name,
                    const projections::Labels& labels) {
  const double* v = FindSeries(acc.counters(), name, labels, "counter");
  return v != nullptr ? *v : std::numeric_limits<double>::quiet_NaN();
}

double GaugeValue(const projections::Accumulator& acc, const std::string& name,
                  const projections::Labels& labels) {
  const double* v = FindSeries(acc.gauges(), name, labels, "gauge");
  return v != nullptr ? *v : std::numeric_limits<double>::quiet_NaN();
}

const projections::HistogramData* HistogramSeries(const projections::Accumulator& acc,
                                                  const std::string& name,
                                                  const projections::Labels& labels) {
  return FindSeries(acc.histograms(), name, labels, "histogram");
}

void ExpectNoSeries(const projections::Accumulator& acc, const std::string& name,
                    const projections::Labels& labels) {
  EXPECT_NE(projections::FindSpec(name), nullptr)
      << name << " is not a catalogue metric: absence of " << Key(name, labels)
      << " would prove nothing";
  auto present = [&](const auto& families) {
    const auto it = families.find(name);
    return it != families.end() && it->second.contains(labels);
  };
  if (present(acc.counters())) {
    ADD_FAILURE() << "unexpected counter series " << Key(name, labels) << " = "
                  << acc.counters().at(name).at(labels);
  }
  if (present(acc.gauges())) {
    ADD_FAILURE() << "unexpected gauge series " << Key(name, labels) << " = "
                  << acc.gauges().at(name).at(labels);
  }
  if (present(acc.histograms())) {
    ADD_FAILURE() << "unexpected histogram series " << Key(name, labels) << " (count "
                  << acc.histograms().at(name).at(labels).count << ")";
  }
}

void ExpectMetrics(const projections::Accumulator& acc, const std::string& expected_path) {
  std::map<std::string, double> actual;
  for (const auto& [name, series] : acc.counters()) {
    for (const auto& [labels, v] : series) actual[Key(name, labels)] = v;
  }
  for (const auto& [name, series] : acc.gauges()) {
    for (const auto& [labels, v] : series) actual[Key(name, labels)] = v;
  }
  for (const auto& [name, series] : acc.histograms()) {
    const auto* spec = projections::FindSpec(name);
    EXPECT_NE(spec, nullptr) << name;
    for (const auto& [labels, h] : series) {
      actual[Key(name + "_count", labels)] = static_cast<double>(h.count);
      actual[Key(name + "_sum", labels)] = h.sum;
      for (size_t i = 0; i < h.bucket_counts.size(); ++i) {
        projections::Labels with_le = labels;
        char le[32] = "+Inf";
        if (spec != nullptr && i < spec->buckets.size()) {
          std::snprintf(le, sizeof le, "%g", spec->buckets[i]);
        }
        with_le.emplace_back("le", le);
        std::sort(with_le.begin(), with_le.end());
        actual[Key(name + "_bucket", with_le)] = static_cast<double>(h.bucket_counts[i]);
      }
    }
  }
  std::ifstream in(expected_path);
  ASSERT_TRUE(in.good()) << expected_path;
  std::set<std::string> listed;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.rfind(' ');
    const std::string key = NormaliseKey(line.substr(0, space));
    const double want = std::stod(line.substr(space + 1));
    listed.insert(key);
    auto it = actual.find(key);
    if (it == actual.end()) {
      ADD_FAILURE() << "missing series " << key << " (expected " << want << ")";
    } else {
      EXPECT_NEAR(it->second, want, 1e-6) << key;
    }
  }
  EXPECT_FALSE(listed.empty()) << expected_path << " lists no series";
  for (const auto& [key, v] : actual) {
    if (!listed.contains(key) && v != 0) {
      ADD_FAILURE() << "unexpected series " << key << " = " << v;
    }
  }
}

void ExpectResumingAnywhereMatchesOnePass(const ProjectionFactory& make, const std::string& dir,
                                          EpochMillis now) {
  const auto events = LoadEvents(dir + "events.jsonl");
  auto reference = PipelineOf(make(), dir);
  const auto want = Drive(*reference, events, now);
  for (size_t cut = 0; cut <= events.size(); ++cut) {
    auto first = PipelineOf(make(), dir);
    PreloadAll(*first, events);
    projections::Accumulator acc;
    for (size_t i = 0; i < cut; ++i) first->Apply(events[i], acc);
    // A restart: a new pipeline preloads the directory again and loads the saved state.
    auto resumed = PipelineOf(make(), dir);
    ASSERT_TRUE(resumed->LoadProjection(0, first->SaveProjection(0))) << "cut after " << cut;
    EXPECT_EQ(resumed->SaveProjection(0), first->SaveProjection(0)) << "cut after " << cut;
    PreloadAll(*resumed, events);
    projections::Accumulator acc2;
    ASSERT_TRUE(acc2.Load(acc.Save()));
    for (size_t i = cut; i < events.size(); ++i) resumed->Apply(events[i], acc2);
    resumed->ExportGauges(now, acc2);
    EXPECT_EQ(acc2.counters(), want.counters()) << "cut after " << cut;
    EXPECT_EQ(acc2.gauges(), want.gauges()) << "cut after " << cut;
    EXPECT_EQ(acc2.Save(), want.Save()) << "cut after " << cut;
    EXPECT_EQ(resumed->SaveProjection(0), reference->SaveProjection(0)) << "cut after " << cut;
  }
}

void ExpectReplayIsDeterministic(const ProjectionFactory& make, const std::string& dir,
                                 EpochMillis now) {
  const auto events = LoadEvents(dir + "events.jsonl");
  auto p1 = PipelineOf(make(), dir);
  auto p2 = PipelineOf(make(), dir);
  const auto acc1 = Drive(*p1, events, now);
  const auto acc2 = Drive(*p2, events, now);
  EXPECT_EQ(p1->SaveProjection(0), p2->SaveProjection(0));
  EXPECT_EQ(acc1.Save(), acc2.Save());
  EXPECT_EQ(acc1.gauges(), acc2.gauges());
}

}  // namespace teamhealth::testing
