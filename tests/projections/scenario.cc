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
  auto registry = sources::MakeSourceRegistry();
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

}  // namespace teamhealth::testing
