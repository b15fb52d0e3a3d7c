#include "scenario.h"

#include <gtest/gtest.h>

#include <fstream>
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

projections::Accumulator Run(projections::Projection& projection,
                             projections::DirectoryView& directory,
                             const std::vector<schema::Event>& events, EpochMillis now) {
  projections::Accumulator acc;
  for (const auto& e : events) {
    directory.Apply(e);
    projection.Apply(e, directory, acc);
  }
  projection.ExportGauges(now, directory, acc);
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

}  // namespace

void ExpectMetrics(const projections::Accumulator& acc, const std::string& expected_path) {
  std::map<std::string, double> actual;
  for (const auto& [name, series] : acc.counters()) {
    for (const auto& [labels, v] : series) actual[Key(name, labels)] = v;
  }
  for (const auto& [name, series] : acc.gauges()) {
    for (const auto& [labels, v] : series) actual[Key(name, labels)] = v;
  }
  for (const auto& [name, series] : acc.histograms()) {
    for (const auto& [labels, h] : series) {
      actual[Key(name + "_count", labels)] = static_cast<double>(h.count);
      actual[Key(name + "_sum", labels)] = h.sum;
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
  for (const auto& [key, v] : actual) {
    if (!listed.contains(key) && v != 0) {
      ADD_FAILURE() << "unexpected series " << key << " = " << v;
    }
  }
}

void ExpectResumingAnywhereMatchesOnePass(const ProjectionFactory& make, const std::string& dir,
                                          EpochMillis now) {
  const auto events = LoadEvents(dir + "events.jsonl");
  auto reference_dir = LoadDirectory(dir + "config.toml");
  auto reference = make();
  const auto want = Run(*reference, reference_dir, events, now);
  for (size_t cut = 0; cut <= events.size(); ++cut) {
    auto directory = LoadDirectory(dir + "config.toml");
    auto first = make();
    projections::Accumulator acc;
    for (size_t i = 0; i < cut; ++i) {
      directory.Apply(events[i]);
      first->Apply(events[i], directory, acc);
    }
    auto resumed = make();
    ASSERT_TRUE(resumed->Load(first->Save())) << "cut after " << cut;
    EXPECT_EQ(resumed->Save(), first->Save()) << "cut after " << cut;
    auto directory2 = LoadDirectory(dir + "config.toml");
    ASSERT_TRUE(directory2.Load(directory.Save()));
    projections::Accumulator acc2;
    ASSERT_TRUE(acc2.Load(acc.Save()));
    for (size_t i = cut; i < events.size(); ++i) {
      directory2.Apply(events[i]);
      resumed->Apply(events[i], directory2, acc2);
    }
    resumed->ExportGauges(now, directory2, acc2);
    EXPECT_EQ(acc2.counters(), want.counters()) << "cut after " << cut;
    EXPECT_EQ(acc2.gauges(), want.gauges()) << "cut after " << cut;
    EXPECT_EQ(acc2.Save(), want.Save()) << "cut after " << cut;
    EXPECT_EQ(resumed->Save(), reference->Save()) << "cut after " << cut;
  }
}

void ExpectReplayIsDeterministic(const ProjectionFactory& make, const std::string& dir,
                                 EpochMillis now) {
  const auto events = LoadEvents(dir + "events.jsonl");
  auto dir1 = LoadDirectory(dir + "config.toml");
  auto dir2 = LoadDirectory(dir + "config.toml");
  auto p1 = make();
  auto p2 = make();
  const auto acc1 = Run(*p1, dir1, events, now);
  const auto acc2 = Run(*p2, dir2, events, now);
  EXPECT_EQ(p1->Save(), p2->Save());
  EXPECT_EQ(acc1.Save(), acc2.Save());
  EXPECT_EQ(acc1.gauges(), acc2.gauges());
}

}  // namespace teamhealth::testing
