#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "teamhealth/base/result.h"
#include "teamhealth/config/config.h"
#include "teamhealth/http/server.h"
#include "teamhealth/eventlog/event_log.h"

namespace teamhealth::app {

// What a subcommand accepts. ParseArgs rejects anything else and names it, so a misspelt or
// misplaced argument is an error (exit 2), never silently ignored.
struct ArgSpec {
  std::vector<std::string> options;   // take a value: --name VALUE or --name=VALUE, once
  std::vector<std::string> repeated;  // take a value and may be given several times
  // Take one or more values, `--name A B C` (every following argument up to the next one that
  // starts with "-"; `--name=A` takes just A), and may be given several times.
  std::vector<std::string> lists;
  std::vector<std::string> flags;     // take no value
  std::vector<std::string> required;  // options (of the above) that must be given
  // Positional arguments: between min_positional and max_positional of them, called
  // `positional` in messages ("FILE", "HANDLE").
  std::string positional;
  size_t min_positional = 0;
  size_t max_positional = 0;
};

// The parsed arguments of a subcommand: values by option name (without the dashes; a flag
// has the value "true"), and the positional arguments in order.
struct Args {
  std::string command;     // "inspect", for messages
  const char* usage = "";  // the subcommand's usage text
  bool help = false;       // --help or -h was given: nothing else was checked
  std::map<std::string, std::vector<std::string>> options;
  std::vector<std::string> positional;

  bool Has(const std::string& name) const { return options.contains(name); }
  // The value of an option (the last one of a repeated option), or `fallback`.
  std::string Get(const std::string& name, const std::string& fallback = "") const {
    const auto it = options.find(name);
    return it == options.end() ? fallback : it->second.back();
  }
  // Every value of a repeated option, in order.
  std::vector<std::string> All(const std::string& name) const {
    const auto it = options.find(name);
    return it == options.end() ? std::vector<std::string>{} : it->second;
  }
};

// A subcommand: its name, usage text (to stdout for --help, after an error to stderr), what it
// accepts, and the function that runs it once its arguments parsed. The list of subcommands
// is in RunCli (cli.cc).
struct Command {
  const char* name = "";
  const char* usage = "";
  ArgSpec spec;
  int (*run)(const Args& args) = nullptr;
};

// Parses argv[first..argc) against `command.spec`. The error names the bad argument: an
// unknown option, a missing or empty value, a value given to a flag, an option given twice, a
// missing or unexpected positional argument, a missing required option. --help (or -h)
// anywhere wins: the result has `help` set and nothing else is checked.
Result<Args> ParseArgs(const Command& command, int argc, char** argv, int first);

// Prints "teamhealth COMMAND: MESSAGE" and the command's usage to stderr; returns 2, the exit
// status of every usage error.
int UsageError(const Args& args, std::string_view message);

// A whole number in [min, max]: decimal digits only (no sign, no spaces, no trailing text,
// no overflow). The error says what was expected (not the text; callers name the argument).
Result<uint64_t> ParseWholeNumber(std::string_view text, uint64_t min, uint64_t max);

// Option `name` as a whole number in [min, max], or `fallback` when it is not given. The error
// names the option and its value: "--limit abc: expected a whole number from 0 to ...".
Result<uint64_t> NumberOption(const Args& args, const std::string& name, uint64_t min, uint64_t max,
                              uint64_t fallback);

// Option `name` as a duration in seconds ("90", "90s", "5m", "1h", "7d") in
// [min_seconds, max_seconds], or `fallback` when it is not given. The error names the option.
Result<int64_t> DurationOption(const Args& args, const std::string& name, int64_t min_seconds,
                               int64_t max_seconds, int64_t fallback);

Command ServeCommand();
Command CheckConfigCommand();
Command InspectCommand();
Command NormalizeCommand();
Command ReportCommand();
Command ExplainCommand();
Command TeamsCommand();
Command ImportCommand();
Command BackfillCommand();
Command EraseCommand();
Command DemoCommand();
Command GatewayCommand();

// The [gateway] section's listener, and what `gateway` would refuse at start (listener files,
// secret files, an embedded broker), checked without binding: for `check-config` too.
http::ListenerOptions GatewayListenerOptions(const config::GatewayConfig& gateway);
Status CheckGatewayConfig(const config::Config& config);

// GET /api/v1/report?team=&from=&to=[&format=json|csv|table] over a live log. Refuses unknown
// parameters and windows outside [1970, 10000) (errors name the parameter); an unknown team is
// an error of kind ErrorKind::kNotFound that lists the known teams (HTTP 404). Per-person series
// only with `include_people` (an admin token), named by `people` (reference -> handle, from the
// log's writer: the live log's identities cache is not this thread's to read).
Result<std::string> ReportFromQuery(const std::map<std::string, std::string>& query,
                                    const config::Config& config, eventlog::EventLog& log,
                                    bool include_people,
                                    const std::map<std::string, std::string>& people);

// GET /teams/<team>?from=&to= over a live log: the team's HTML retro page (report_html.h) for
// [from, to), by default the 14 days before `now`. An unknown team is an error of kind
// ErrorKind::kNotFound (HTTP 404); a bad window or parameter another error (HTTP 400).
Result<std::string> RetroPageFromQuery(const std::string& team,
                                       const std::map<std::string, std::string>& query,
                                       const config::Config& config, eventlog::EventLog& log,
                                       EpochMillis now);

// GET /api/v1/explain?team=&from=&to=&metric=[&label.NAME=VALUE...][&format=json|table] over a
// live log: the facts behind a report's number (explain.cc). Per-person metrics and handles only
// for an admin (`people`: reference -> handle).
http::ApiResponse ExplainFromQuery(const std::map<std::string, std::string>& query,
                                   const config::Config& config, eventlog::EventLog& log,
                                   bool admin, const std::map<std::string, std::string>& people);

}  // namespace teamhealth::app
