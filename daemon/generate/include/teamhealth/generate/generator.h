#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "teamhealth/base/result.h"
#include "teamhealth/base/time.h"

namespace teamhealth::generate {

// The size and shape of a synthetic organisation. Every field has a default, so `Options{}`
// is the demo organisation. Check with Validate() before use.
struct Options {
  // Seeds every random choice. Same options -> byte-identical output.
  uint64_t seed = 1;
  // Number of engineering teams, 1..64 (beyond 8 the names repeat with a number: payments2).
  // Team 0 is the overloaded one (crosses every burnout threshold of docs/design.md section
  // 7); the others are healthy. Time zones cycle through Europe/London, America/New_York,
  // Asia/Tokyo and UTC. Two non-engineering teams of five always follow them: support
  // (America/New_York) and sales (Europe/London), who only chat with engineers.
  int teams = 4;
  // Engineers, split round-robin over the engineering teams; at least 2 per team (a rotation
  // and a reviewer need two). 5 or more per team keep every team above
  // privacy.min_group_size.
  int people = 24;
  // Length of the history, in days, ending at `end`. 1..3650.
  int days = 28;
  // End of the history (exclusive), UTC. The default, Monday 2026-03-02 00:00 UTC, is a
  // fixed instant (never the clock) so that output depends on the options alone.
  EpochMillis end = kDefaultEnd;

  static constexpr EpochMillis kDefaultEnd = 1772409600000;  // 2026-03-02T00:00:00Z
};

// Checks ranges; the error names the option.
Status Validate(const Options& options);

// One Kafka record as a webhook bridge would produce it.
struct Record {
  EpochMillis at = 0;  // event time; records come in this order
  std::string source;  // jira, github, slack, pagerduty or canonical
  std::string topic;   // default topic name: webhooks.<source>, teamhealth.canonical
  std::vector<std::pair<std::string, std::string>> headers;  // vendor HTTP headers
  std::string body;  // the vendor's webhook body (or a canonical event), compact JSON
};

// What the generator makes: the records of every source in time order (ties keep generation
// order), and the people directory that maps their identities to teams, as a TOML fragment
// (`[[directory.teams]]`, `[[directory.people]]`, `[directory.services]`,
// `[directory.projects]`) to paste into or include in a config.
struct Output {
  std::vector<Record> records;
  std::string directory_toml;
};

// Generates the organisation. Pure: reads no clock, no files; `options` must be valid
// (an invalid one returns the Validate() error).
Result<Output> Generate(const Options& options);

// Writes DIR/<source>.jsonl (one record per line: `{"headers":{...},"body":<body>}`, in time
// order) and DIR/directory.toml, creating DIR if needed.
Status WriteOutput(const Output& output, const std::string& dir);

// `teamhealth generate --seed N --teams T --people P --days D [--end RFC3339] --out DIR`.
// argv[1] is "generate". Returns the process exit code: 0, or 2 on bad usage or I/O errors.
int RunGenerate(int argc, char** argv);

}  // namespace teamhealth::generate
