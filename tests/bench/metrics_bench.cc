// /metrics benchmark (docs/design.md section 10: a scrape of 10k series under 50 ms). Generates
// an organisation (teamhealth generate's model), applies its events through the projection
// pipeline with privacy.person_metrics on (per-person series, the largest exposition), then
// times what a scrape does: the projections' metrics as of now (gauges computed, privacy
// applied) and the Prometheus text of every family. Prints series, bytes and milliseconds.
//   build/tests/bench/metrics_bench [--people 2000] [--teams 16] [--days 28] [--scrapes 20]
//                                   [--dump FILE]   (the last scrape's text, e.g. for promtool)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "teamhealth/config/config.h"
#include "teamhealth/generate/generator.h"
#include "teamhealth/http/metrics.h"
#include "teamhealth/projections/pipeline.h"
#include "teamhealth/projections/registry.h"
#include "teamhealth/projector/projector.h"
#include "teamhealth/sources/source.h"

namespace {

using namespace teamhealth;
using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// The generated records as the ingester would normalise them, in event-time order.
std::vector<schema::Event> Normalise(const generate::Output& out) {
  auto registry = sources::MakeSourceRegistry();
  std::vector<schema::Event> events;
  sources::NormalizeResult result;
  std::vector<sources::RecordHeader> headers;
  for (const auto& r : out.records) {
    headers.clear();
    for (const auto& [name, value] : r.headers) headers.push_back({name, value});
    const sources::RawRecord raw{
        .topic = r.topic, .timestamp_ms = r.at, .value = r.body, .headers = headers};
    result.Clear();
    registry->Find(r.source)->Normalize(raw, result);
    for (auto& e : result.events) events.push_back(std::move(e));
  }
  std::stable_sort(events.begin(), events.end(), [](const auto& a, const auto& b) {
    return a.occurred_at_ms() < b.occurred_at_ms();
  });
  return events;
}

// Sample lines of a text exposition (not # HELP / # TYPE).
size_t Samples(const std::string& text) {
  size_t n = 0;
  for (size_t at = 0; at < text.size();) {
    const size_t end = text.find('\n', at);
    if (text[at] != '#') ++n;
    at = end == std::string::npos ? text.size() : end + 1;
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  generate::Options options;
  options.teams = 16;
  options.people = 2000;
  options.days = 28;
  int scrapes = 20;
  const char* dump = nullptr;
  for (int i = 1; i + 1 < argc; i += 2) {
    const int v = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--dump") == 0) dump = argv[i + 1];
    else if (std::strcmp(argv[i], "--people") == 0) options.people = v;
    else if (std::strcmp(argv[i], "--teams") == 0) options.teams = v;
    else if (std::strcmp(argv[i], "--days") == 0) options.days = v;
    else if (std::strcmp(argv[i], "--scrapes") == 0) scrapes = std::max(v, 1);
    else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  auto out = generate::Generate(options);
  if (!out) {
    std::fprintf(stderr, "generate: %s\n", out.error().message().c_str());
    return 2;
  }
  auto config = config::ParseConfig(out->directory_toml, "generated directory");
  if (!config) {
    std::fprintf(stderr, "directory: %s\n", config.error().message().c_str());
    return 2;
  }
  const auto events = Normalise(*out);

  projections::Settings settings;
  settings.person_metrics = true;
  projections::Pipeline pipeline(projections::MakeDirectoryView(config->directory), settings);
  for (const auto& e : projections::DirectoryEvents(config->directory)) pipeline.Preload(e);
  projections::Accumulator counters;
  for (const auto& e : events) pipeline.Apply(e, counters);
  // Handles for the person series, as the daemon names them from its directory.
  std::map<std::string, std::string> handle_of_ref;
  for (const auto& p : config->directory.people) {
    for (const auto& id : p.identities) handle_of_ref[id] = p.handle;
  }
  const EpochMillis now = options.end;

  std::vector<std::string> names;
  for (size_t i = 0; i < pipeline.size(); ++i) names.emplace_back(pipeline.projection(i).name());
  http::DaemonMetrics metrics("bench");
  metrics.AttachProjections(
      [&] { return projector::ExportedMetrics(counters, pipeline, now, handle_of_ref); },
      [] { return uint64_t{0}; }, names);

  std::vector<double> ms;
  size_t bytes = 0, samples = 0;
  std::string text;
  for (int i = 0; i < scrapes; ++i) {
    const auto t = Clock::now();
    text = metrics.Serialize();
    ms.push_back(MsSince(t));
    bytes = text.size();
    samples = Samples(text);
  }
  if (dump != nullptr) {
    FILE* f = std::fopen(dump, "wb");
    if (f == nullptr || std::fwrite(text.data(), 1, text.size(), f) != text.size() ||
        std::fclose(f) != 0) {
      std::fprintf(stderr, "cannot write %s\n", dump);
      return 1;
    }
  }
  std::sort(ms.begin(), ms.end());
  std::printf("people %d, teams %d, days %d, events %zu (person_metrics on)\n", options.people,
              options.teams, options.days, events.size());
  std::printf("series %zu, %zu bytes\n", samples, bytes);
  std::printf("scrape ms: min %.1f  p50 %.1f  max %.1f  (%d scrapes)\n", ms.front(),
              ms[ms.size() / 2], ms.back(), scrapes);
  return 0;
}
