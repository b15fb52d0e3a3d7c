#include "teamhealth/app/cli.h"

#include <charconv>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>

#include "commands.h"
#include "teamhealth/base/time.h"
#include "teamhealth/generate/generator.h"
#include "teamhealth/http/gateway_metrics.h"
#include "teamhealth/http/metrics.h"
#include "teamhealth/projections/accumulator.h"

namespace teamhealth::app {
namespace {

constexpr const char* kUsage =
    R"(teamhealth — team-health metrics from tracker, chat and pager events

Usage: teamhealth <command> [options]

Commands:
  serve --config FILE         consume the configured Kafka topics into the event log and
                              serve /metrics, /healthz and /readyz
  check-config FILE           validate a config file; names the first bad key
  inspect WHAT --state-dir DIR
                              print the log's contents as JSON lines; WHAT is one of
                              events, quarantine, offsets, counters
                              (events: --from SEQ, --limit N, --with-origin)
  normalize --source S [--header NAME=VALUE ...] FILE...
                              print the canonical events of vendor payload files
  report (--config FILE --events FILE.jsonl... | --log DIR) [--team T] --from A --to B
                              the metrics of a team (or every team) over exactly [A, B)
                              (--format table|json|csv, --set NAME=VALUE what-if)
  teams --log DIR             the teams of the recorded directory, their members and
                              whether small-group suppression applies (--format table|json)
  import --config FILE --source S FILE...
                              append history files (vendor payloads, generate --out
                              record lines, canonical JSON lines) to the event log
                              through the ingest normalisers and dedup
  backfill --config FILE --log DIR --from A --to B --step S [--out FILE]
                              every team-health series at each step, as OpenMetrics
                              for `promtool tsdb create-blocks-from openmetrics`
  metrics                     list every metric the daemon exports: NAME TYPE
  explain --config FILE (--log DIR | --events FILE.jsonl) --team T --from A --to B METRIC
                              the facts and events behind one number of a report
                              (--label NAME=VALUE, --format table|json)
  erase --config FILE HANDLE  forget a person: their events become anonymous
  generate --out DIR          a synthetic organisation's vendor payloads and directory
                              (--seed N, --teams T, --people P, --days D, --end TIME)
  gateway --config FILE       receive vendor webhooks on /hooks/<source>, check their
                              signatures and produce them to Kafka (acknowledged)
  demo [--for DURATION]       the whole product on an embedded broker with a generated
                              organisation; serves /metrics until interrupted
  version                     print the version

Run `teamhealth <command> --help` for a command's options. A bad argument is named on
stderr and exits with status 2.
)";

constexpr const char* kMetricsUsage =
    "usage: teamhealth metrics\n"
    "  Lists every metric family the daemon exports, one `NAME TYPE` per line: the team-health\n"
    "  metrics of docs/design.md section 7, then the daemon's own, then the gateway's. Takes no\n"
    "  arguments.\n";

constexpr const char* kVersionUsage = "usage: teamhealth version\n  Prints the version.\n";

// `teamhealth metrics`: the catalogue of exported metric families, one `NAME TYPE` per line
// (team-health metrics of section 7, then the daemon's own), for tools that check queries.
int ListMetrics(const Args&) {
  auto print = [](const std::vector<projections::MetricSpec>& specs) {
    for (const auto& spec : specs) {
      const char* type = spec.type == projections::MetricType::kCounter ? "counter"
                         : spec.type == projections::MetricType::kGauge ? "gauge"
                                                                        : "histogram";
      std::printf("%.*s %s\n", static_cast<int>(spec.name.size()), spec.name.data(), type);
    }
  };
  print(projections::AllSpecs());
  print(http::SelfMetricSpecs());
  print(http::GatewayMetricSpecs());
  return 0;
}

int PrintVersion(const Args&) {
  std::printf("teamhealth %s\n", TEAMHEALTH_VERSION);
  return 0;
}

bool Contains(const std::vector<std::string>& names, std::string_view name) {
  for (const auto& n : names) {
    if (n == name) return true;
  }
  return false;
}

// "90s", "5m", "2h", "7d": the largest unit that divides `seconds`.
std::string FormatDuration(int64_t seconds) {
  if (seconds != 0 && seconds % 86400 == 0) return std::to_string(seconds / 86400) + "d";
  if (seconds != 0 && seconds % 3600 == 0) return std::to_string(seconds / 3600) + "h";
  if (seconds != 0 && seconds % 60 == 0) return std::to_string(seconds / 60) + "m";
  return std::to_string(seconds) + "s";
}

}  // namespace

Result<Args> ParseArgs(const Command& command, int argc, char** argv, int first) {
  Args args;
  args.command = command.name;
  args.usage = command.usage;
  const ArgSpec& spec = command.spec;
  for (int i = first; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      args.help = true;
      return args;
    }
  }
  bool only_positional = false;  // after "--"
  for (int i = first; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (only_positional || a == "-" || !a.starts_with("-")) {
      args.positional.emplace_back(a);
      continue;
    }
    if (a == "--") {
      only_positional = true;
      continue;
    }
    if (!a.starts_with("--")) return Error("unknown option " + std::string(a));
    std::string name(a.substr(2));
    std::optional<std::string> value;
    if (const auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    const bool flag = Contains(spec.flags, name);
    const bool list = Contains(spec.lists, name);
    const bool repeated = list || Contains(spec.repeated, name);
    if (!flag && !repeated && !Contains(spec.options, name)) {
      return Error("unknown option --" + name);
    }
    if (flag) {
      if (value) return Error("option --" + name + " takes no value");
      args.options[name] = {"true"};
      continue;
    }
    const bool inline_value = value.has_value();
    if (!value) {
      // A following option is not a value: `--state-dir --limit 5` misses the directory.
      const bool next_is_option = i + 1 < argc && std::string_view(argv[i + 1]).starts_with("--");
      if (i + 1 >= argc || next_is_option) return Error("option --" + name + " needs a value");
      value = argv[++i];
    }
    if (value->empty()) return Error("option --" + name + " needs a value, got an empty one");
    auto& values = args.options[name];
    if (!repeated && !values.empty()) return Error("option --" + name + " is given twice");
    values.push_back(std::move(*value));
    // A list takes the following arguments too, up to the next option (or "--").
    while (list && !inline_value && !only_positional && i + 1 < argc &&
           !std::string_view(argv[i + 1]).starts_with("-")) {
      if (*argv[i + 1] == '\0') {
        return Error("option --" + name + " needs a value, got an empty one");
      }
      values.emplace_back(argv[++i]);
    }
  }
  if (args.positional.size() > spec.max_positional) {
    return Error("unexpected argument \"" + args.positional[spec.max_positional] + "\"");
  }
  if (args.positional.size() < spec.min_positional) return Error("missing " + spec.positional);
  for (const auto& name : spec.required) {
    if (!args.Has(name)) return Error("missing --" + name);
  }
  return args;
}

int UsageError(const Args& args, std::string_view message) {
  std::fprintf(stderr, "teamhealth %s: %.*s\n%s", args.command.c_str(),
               static_cast<int>(message.size()), message.data(), args.usage);
  return 2;
}

Result<uint64_t> ParseWholeNumber(std::string_view text, uint64_t min, uint64_t max) {
  uint64_t v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end || v < min || v > max) {
    if (max == std::numeric_limits<uint64_t>::max()) {
      return Error("expected a whole number" +
                   (min > 0 ? " of at least " + std::to_string(min) : std::string()));
    }
    return Error("expected a whole number from " + std::to_string(min) + " to " +
                 std::to_string(max));
  }
  return v;
}

Result<uint64_t> NumberOption(const Args& args, const std::string& name, uint64_t min, uint64_t max,
                              uint64_t fallback) {
  if (!args.Has(name)) return fallback;
  const std::string text = args.Get(name);
  auto v = ParseWholeNumber(text, min, max);
  if (!v) return Error("--" + name + " " + text + ": " + v.error().message());
  return v;
}

Result<int64_t> DurationOption(const Args& args, const std::string& name, int64_t min_seconds,
                               int64_t max_seconds, int64_t fallback) {
  if (!args.Has(name)) return fallback;
  const std::string text = args.Get(name);
  const auto v = ParseDurationSeconds(text);
  if (!v || *v < min_seconds || *v > max_seconds) {
    return Error("--" + name + " " + text + ": expected a duration from " +
                 FormatDuration(min_seconds) + " to " + FormatDuration(max_seconds) +
                 " (e.g. 30s, 5m, 1h, 1d)");
  }
  return *v;
}

int RunCli(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0 ||
      std::strcmp(argv[1], "help") == 0) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string_view name = argv[1];
  if (name == "--version") return PrintVersion(Args{});
  // Parses its own arguments: the generator is a module of its own.
  if (name == "generate") return generate::RunGenerate(argc, argv);
  // Every other subcommand: one explicit list.
  const std::vector<Command> commands = {
      ServeCommand(),
      CheckConfigCommand(),
      InspectCommand(),
      NormalizeCommand(),
      ReportCommand(),
      ExplainCommand(),
      TeamsCommand(),
      ImportCommand(),
      BackfillCommand(),
      Command{.name = "metrics", .usage = kMetricsUsage, .spec = {}, .run = ListMetrics},
      EraseCommand(),
      DemoCommand(),
      GatewayCommand(),
      Command{.name = "version", .usage = kVersionUsage, .spec = {}, .run = PrintVersion},
  };
  for (const Command& command : commands) {
    if (name != command.name) continue;
    auto args = ParseArgs(command, argc, argv, 2);
    if (!args) {
      Args named;
      named.command = command.name;
      named.usage = command.usage;
      return UsageError(named, args.error().message());
    }
    if (args->help) {
      std::fputs(command.usage, stdout);
      return 0;
    }
    return command.run(*args);
  }
  std::fprintf(stderr, "teamhealth: unknown command \"%s\"\n\n%s", argv[1], kUsage);
  return 2;
}

}  // namespace teamhealth::app
