#include "teamhealth/generate/generator.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
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
  --teams T       number of engineering teams, 1-64 (default 4; beyond 8 the names
                  repeat with a number: payments2); team 1 is the overloaded one.
                  Two more teams, support and sales (5 people each), only chat
  --people P      engineers, at least 2 per engineering team (default 24)
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

// Decimal digits only: no sign (so a negative count never wraps), no trailing text, no
// overflow. Ranges are Validate()'s.
template <typename T>
bool ParseNumber(std::string_view text, T& out) {
  if (text.empty() || text.front() < '0' || text.front() > '9') return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

Status Validate(const Options& options) {
  if (options.teams < 1 || options.teams > 64) return Error("--teams must be 1-64");
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

namespace {

// What `teamhealth generate` was asked for.
struct CommandLine {
  Options options;
  std::string out_dir, brokers, prefix;
};

// Every option takes a value (--name VALUE or --name=VALUE) and may be given once; the error
// names the bad argument.
Result<CommandLine> ParseCommandLine(int argc, char** argv) {
  static constexpr std::array<std::string_view, 8> kOptions = {
      "--seed", "--teams", "--people", "--days", "--end", "--out", "--brokers", "--topic-prefix"};
  CommandLine c;
  std::set<std::string> seen;
  for (int i = 2; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (!a.starts_with("--")) return Error("unexpected argument \"" + std::string(a) + "\"");
    std::string name(a);
    std::optional<std::string> value;
    if (const auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    if (std::find(kOptions.begin(), kOptions.end(), name) == kOptions.end()) {
      return Error("unknown option " + name);
    }
    if (!value) {
      if (i + 1 >= argc || std::string_view(argv[i + 1]).starts_with("--")) {
        return Error("option " + name + " needs a value");
      }
      value = argv[++i];
    }
    if (value->empty()) return Error("option " + name + " needs a value, got an empty one");
    if (!seen.insert(name).second) return Error("option " + name + " is given twice");
    const char* expected = nullptr;
    if (name == "--seed") {
      if (!ParseNumber(*value, c.options.seed)) expected = "a whole number";
    } else if (name == "--teams") {
      if (!ParseNumber(*value, c.options.teams)) expected = "a whole number from 1 to 64";
    } else if (name == "--people") {
      if (!ParseNumber(*value, c.options.people)) expected = "a whole number, 2 per team or more";
    } else if (name == "--days") {
      if (!ParseNumber(*value, c.options.days)) expected = "a whole number from 1 to 3650";
    } else if (name == "--end") {
      const auto ms = ParseRfc3339(*value);
      if (ms) c.options.end = *ms;
      if (!ms) expected = "an RFC 3339 time such as 2026-03-02T00:00:00Z";
    } else {
      (name == "--out" ? c.out_dir : name == "--brokers" ? c.brokers : c.prefix) = *value;
    }
    if (expected != nullptr) return Error(name + " " + *value + ": expected " + expected);
  }
  if (c.out_dir.empty() && c.brokers.empty()) {
    return Error("--out DIR or --brokers HOSTS is required");
  }
  if (Status s = Validate(c.options); !s) return s.error();
  return c;
}

}  // namespace

int RunGenerate(int argc, char** argv) {
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::fputs(kUsage, stdout);
      return 0;
    }
  }
  auto command_line = ParseCommandLine(argc, argv);
  if (!command_line) {
    std::fprintf(stderr, "teamhealth generate: %s\n\n%s", command_line.error().message().c_str(),
                 kUsage);
    return 2;
  }
  const Options& options = command_line->options;
  const std::string &out_dir = command_line->out_dir, &brokers = command_line->brokers,
                    &prefix = command_line->prefix;
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
