#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "teamhealth/base/result.h"
#include "teamhealth/sources/source.h"

namespace teamhealth::app {

// One Kafka record as a JSON line: {"headers":{"Name":"value",...},"body":<the webhook body>},
// the format `teamhealth generate --out` writes. The body is kept verbatim (its bytes in the
// line).
struct RecordLine {
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// Parses one line; the error names what is wrong (never quotes the body). On failure, sets
// `*reason` (when given) to the quarantine reason of such a line: invalid_json, missing_field
// (no body) or invalid_field (a key or value of the wrong kind).
Result<RecordLine> ParseRecordLine(std::string_view line, sources::Reason* reason = nullptr);

}  // namespace teamhealth::app
