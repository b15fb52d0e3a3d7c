#include "teamhealth/generate/generator.h"

#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string_view>
#include <system_error>

#include "model.h"
#include "simulation.h"
#include "teamhealth/base/json_writer.h"
#include "teamhealth/ingest/producer.h"

namespace teamhealth::generate {
namespace {

constexpr const char* kUsage = R"(Usage: teamhealth generate [options] --out DIR

Writes a synthetic organisation's event history as vendor webhook payloads, one JSON line
per Kafka record in DIR/<source>.jsonl ({"headers":{...},"body":<payload>}), and its people
directory as DIR/directory.toml. The same options give byte-identical files.

Options:
  --seed N        seed of every random choice (default 1)
  --teams T       number of teams, 1-8 (default 4); team 1 is the overloaded one
  --people P      total people, at least 2 per team (default 24)
  --days D        days of history, 1-3650 (default 28)
  --end TIME      end of the history, RFC 3339 (default 2026-03-02T00:00:00Z)
  --out DIR       output directory (created if missing)
  --brokers HOSTS also (or instead of --out) produce every record, with its headers, to its
                  topic (webhooks.<source>, teamhealth.canonical) on these Kafka brokers
  --topic-prefix P  put P before every topic name (several organisations on one cluster)
)";

// Produces every record to its topic, in time order (one key per source keeps each vendor's
// records in one partition, in order).
Status ProduceAll(const Output& output, const std::string& brokers, const std::string& prefix) {
  auto producer = ingest::RecordProducer::Create(brokers);
  if (!producer) return producer.error();
  for (const Record& r : output.records) {
    if (auto s = (*producer)->Produce(prefix + r.topic, r.source, r.headers, r.body); !s) {
      return s;
    }
  }
  return (*producer)->Flush(60000);
}

template <typename T>
bool ParseNumber(std::string_view text, T& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

Status Validate(const Options& options) {
  if (options.teams < 1 || options.teams > 8) return Error("--teams must be 1-8");
  if (options.people < 2 * options.teams || options.people > 10000) {
    return Error("--people must be at least 2 per team, at most 10000");
  }
  if (options.days < 1 || options.days > 3650) return Error("--days must be 1-3650");
  if (options.end - options.days * internal::kDayMs < 0) {
    return Error("--end minus --days must not be before 1970");
  }
  return Status::Ok();
}

Result<Output> Generate(const Options& options) {
  if (Status s = Validate(options); !s) return s.error();
  const internal::Org org = internal::BuildOrg(options);
  Output out;
  out.records = internal::Simulation(options, org).Run();
  out.directory_toml = internal::DirectoryToml(org, options);
  return out;
}

Status WriteOutput(const Output& output, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error("cannot create " + dir + ": " + ec.message());
  // One file per source; each keeps the records' time order.
  std::map<std::string, std::string> lines;
  for (const Record& r : output.records) {
    std::string& out = lines[r.source];
    out += "{\"headers\":";
    JsonWriter w(out);
    w.BeginObject();
    for (const auto& [name, value] : r.headers) w.Key(name).String(value);
    w.EndObject();
    out += ",\"body\":";
    out += r.body;
    out += "}\n";
  }
  lines.try_emplace("directory.toml", output.directory_toml);
  for (const auto& [name, text] : lines) {
    const std::string path = dir + "/" + (name == "directory.toml" ? name : name + ".jsonl");
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(text.data(), static_cast<std::streamsize>(text.size()));
    f.close();
    if (!f) return Error("cannot write " + path);
  }
  return Status::Ok();
}

int RunGenerate(int argc, char** argv) {
  Options options;
  std::string out_dir, brokers, prefix;
  for (int i = 2; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (!a.starts_with("--") || i + 1 >= argc) {
      std::fprintf(stderr, "teamhealth generate: unexpected argument \"%s\"\n\n%s", argv[i],
                   kUsage);
      return 2;
    }
    const std::string_view v = argv[++i];
    bool ok = true;
    if (a == "--seed") {
      ok = ParseNumber(v, options.seed);
    } else if (a == "--teams") {
      ok = ParseNumber(v, options.teams);
    } else if (a == "--people") {
      ok = ParseNumber(v, options.people);
    } else if (a == "--days") {
      ok = ParseNumber(v, options.days);
    } else if (a == "--end") {
      const auto ms = ParseRfc3339(v);
      ok = ms.has_value();
      if (ok) options.end = *ms;
    } else if (a == "--out") {
      out_dir = std::string(v);
    } else if (a == "--brokers") {
      brokers = std::string(v);
    } else if (a == "--topic-prefix") {
      prefix = std::string(v);
    } else {
      std::fprintf(stderr, "teamhealth generate: unknown option %s\n\n%s", argv[i - 1], kUsage);
      return 2;
    }
    if (!ok) {
      std::fprintf(stderr, "teamhealth generate: bad value for %s: \"%s\"\n", argv[i - 1], argv[i]);
      return 2;
    }
  }
  if (out_dir.empty() && brokers.empty()) {
    std::fprintf(stderr, "teamhealth generate: --out DIR or --brokers HOSTS is required\n\n%s",
                 kUsage);
    return 2;
  }
  auto output = Generate(options);
  if (!output) {
    std::fprintf(stderr, "teamhealth generate: %s\n", output.error().message().c_str());
    return 2;
  }
  if (!out_dir.empty()) {
    if (Status s = WriteOutput(*output, out_dir); !s) {
      std::fprintf(stderr, "teamhealth generate: %s\n", s.error().message().c_str());
      return 2;
    }
  }
  if (!brokers.empty()) {
    if (Status s = ProduceAll(*output, brokers, prefix); !s) {
      std::fprintf(stderr, "teamhealth generate: %s\n", s.error().message().c_str());
      return 1;
    }
  }
  std::map<std::string, int> counts;
  for (const Record& r : output->records) ++counts[r.source];
  std::printf("wrote %zu records to %s:", output->records.size(),
              out_dir.empty() ? brokers.c_str() : out_dir.c_str());
  for (const auto& [source, n] : counts) std::printf(" %s=%d", source.c_str(), n);
  std::printf(out_dir.empty() ? "\n" : " (+ directory.toml)\n");
  return 0;
}

}  // namespace teamhealth::generate
