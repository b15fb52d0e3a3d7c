#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "teamhealth/base/types.h"

// Key encodings of the log's columns. Integers are big-endian so that byte order is numeric
// order and iteration order is append order.
namespace teamhealth::eventlog::keys {

void AppendU64(std::string& out, uint64_t v);
void AppendU32(std::string& out, uint32_t v);
std::optional<uint64_t> ReadU64(std::string_view in);

std::string SequenceKey(Sequence seq);
std::string OffsetKey(const TopicPartition& tp);
std::optional<TopicPartition> ParseOffsetKey(std::string_view key);

// Index keys: a tag byte, the indexed value, the sequence.
inline constexpr char kTimeIndex = 't';
inline constexpr char kSubjectIndex = 's';
std::string TimeIndexKey(int64_t occurred_at_ms, Sequence seq);
std::string SubjectIndexKey(std::string_view kind, std::string_view id, Sequence seq);

}  // namespace teamhealth::eventlog::keys
