#include "teamhealth/app/cli.h"

#include <cstdio>
#include <cstring>
#include <string_view>

#include "commands.h"
#include "teamhealth/generate/generator.h"
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
  report --config FILE (--events FILE.jsonl | --log DIR) --team T --from A --to B
                              the metrics of a team over exactly [A, B)
                              (--format table|json|csv, --set NAME=VALUE what-if)
  import                      append historical exports (not built yet)
  backfill --config FILE --log DIR --from A --to B --step S [--out FILE]
                              every team-health series at each step, as OpenMetrics
                              for `promtool tsdb create-blocks-from openmetrics`
  metrics                     list every metric the daemon exports: NAME TYPE
  explain                     the events behind a number (not built yet)
  erase --config FILE HANDLE  forget a person: their events become anonymous
  generate --out DIR          a synthetic organisation's vendor payloads and directory
                              (--seed N, --teams T, --people P, --days D, --end TIME)
  demo [--for DURATION]       the whole product on an embedded broker with a generated
                              organisation; serves /metrics until interrupted
  version                     print the version

Run `teamhealth <command> --help` for a command's options.
)";

// `teamhealth metrics`: the catalogue of exported metric families, one `NAME TYPE` per line
// (team-health metrics of section 7, then the daemon's own), for tools that check queries.
int ListMetrics(const Args& args) {
  if (!args.options.empty() || !args.positional.empty()) {
    std::fputs("usage: teamhealth metrics\n  takes no options\n", args.Has("help") ? stdout : stderr);
    return args.Has("help") ? 0 : 2;
  }
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
  return 0;
}

}  // namespace

Result<Args> ParseArgs(int argc, char** argv, int first, const std::vector<std::string>& flags) {
  Args args;
  for (int i = first; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a.starts_with("--")) {
      std::string name(a.substr(2));
      const auto eq = name.find('=');
      if (eq != std::string::npos) {
        args.options[name.substr(0, eq)] = name.substr(eq + 1);
        continue;
      }
      bool is_flag = name == "help";
      for (const auto& f : flags) is_flag = is_flag || f == name;
      if (is_flag) {
        args.options[name] = "true";
      } else if (i + 1 < argc) {
        args.options[name] = argv[++i];
      } else {
        return Error("option --" + name + " needs a value");
      }
    } else {
      args.positional.emplace_back(a);
    }
  }
  return args;
}

int RunCli(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0 ||
      std::strcmp(argv[1], "help") == 0) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string_view command = argv[1];
  if (command == "version" || command == "--version") {
    std::printf("teamhealth %s\n", TEAMHEALTH_VERSION);
    return 0;
  }
  if (command == "normalize") return Normalize(argc, argv);
  if (command == "report") return Report(argc, argv);
  if (command == "generate") return generate::RunGenerate(argc, argv);
  auto args = ParseArgs(argc, argv, 2, {"with-origin"});
  if (!args) {
    std::fprintf(stderr, "teamhealth %s: %s\n", argv[1], args.error().message().c_str());
    return 2;
  }
  if (command == "serve") return Serve(*args);
  if (command == "check-config") return CheckConfig(*args);
  if (command == "inspect") return Inspect(*args);
  if (command == "erase") return Erase(*args);
  if (command == "demo") return Demo(*args);
  if (command == "backfill") return Backfill(*args);
  if (command == "metrics") return ListMetrics(*args);
  for (const char* planned : {"import", "explain"}) {
    if (command == planned) {
      std::fprintf(stderr, "teamhealth %s: not built yet in this version\n", planned);
      return 2;
    }
  }
  std::fprintf(stderr, "teamhealth: unknown command \"%s\"\n\n%s", argv[1], kUsage);
  return 2;
}

}  // namespace teamhealth::app
