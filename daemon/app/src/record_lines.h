#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "teamhealth/base/result.h"

namespace teamhealth::app {

// One Kafka record as a JSON line: {"headers":{"Name":"value",...},"body":<the webhook body>},
// the format `teamhealth generate --out` writes. The body is kept verbatim (its bytes in the
// line).
struct RecordLine {
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// Parses one line; the error names what is wrong (never quotes the body).
Result<RecordLine> ParseRecordLine(std::string_view line);

}  // namespace teamhealth::app
