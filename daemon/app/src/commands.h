#pragma once

#include <map>
#include <string>
#include <vector>

#include "teamhealth/base/result.h"
#include "teamhealth/config/config.h"
#include "teamhealth/eventlog/event_log.h"

namespace teamhealth::app {

// Parsed `--name value` options and positional arguments of a subcommand.
struct Args {
  std::map<std::string, std::string> options;
  std::vector<std::string> positional;
  bool Has(const std::string& name) const { return options.contains(name); }
  std::string Get(const std::string& name, const std::string& fallback = "") const {
    const auto it = options.find(name);
    return it == options.end() ? fallback : it->second;
  }
};

// `flags` are options that take no value.
Result<Args> ParseArgs(int argc, char** argv, int first, const std::vector<std::string>& flags);

int Serve(const Args& args);
int CheckConfig(const Args& args);
int Inspect(const Args& args);
int Erase(const Args& args);
int Demo(const Args& args);
int Backfill(const Args& args);
// Parses its own arguments: --header repeats.
int Normalize(int argc, char** argv);
int Report(int argc, char** argv);
// GET /api/v1/report?team=&from=&to=[&format=json|csv|table] over a live log.
Result<std::string> ReportFromQuery(const std::map<std::string, std::string>& query,
                                    const config::Config& config, eventlog::EventLog& log);

}  // namespace teamhealth::app
