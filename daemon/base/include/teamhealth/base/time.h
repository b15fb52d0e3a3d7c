#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace teamhealth {

// Milliseconds since the Unix epoch, UTC. Events carry time at this resolution.
using EpochMillis = int64_t;

// Parses RFC 3339 / ISO 8601 date-times: `2026-03-02T22:14:05.120Z`, `...+01:00`, `...+0100`
// (Jira writes offsets without a colon), fractional seconds of any length (truncated to ms),
// `T` or a space between date and time. Returns nothing for anything else.
std::optional<EpochMillis> ParseRfc3339(std::string_view text);

// Parses a duration: digits with an optional unit s, m, h or d ("90", "90s", "5m", "1h", "7d")
// into seconds. Returns nothing for anything else (empty, a sign, another unit, overflow).
std::optional<int64_t> ParseDurationSeconds(std::string_view text);

// Formats as RFC 3339 UTC with milliseconds: `2026-03-02T22:14:05.120Z`.
std::string FormatRfc3339(EpochMillis ms);

}  // namespace teamhealth
