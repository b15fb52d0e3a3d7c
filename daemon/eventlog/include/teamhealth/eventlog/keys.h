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
// The occurred_at of a time index key; none if `key` is not one.
std::optional<int64_t> TimeOfTimeIndexKey(std::string_view key);
std::string SubjectIndexKey(std::string_view kind, std::string_view id, Sequence seq);
// The same key appended to `out`.
void AppendSubjectIndexKey(std::string& out, std::string_view kind, std::string_view id,
                           Sequence seq);
// Meta column: the last sequence whose index keys are written (u64 BE). Written by
// EventLog::IndexThrough in the same write as the keys it covers.
inline constexpr std::string_view kIndexedThroughKey = "indexes/through";
// The compact column (compact.h), in the indexes' column: the tag and the first sequence of
// the chunk (u64 BE) -> the chunk's records. Its checkpoint in the meta column: the last
// sequence the chunks hold (u64 BE) and the records' format (one byte), written in the same
// write as the chunks it covers.
inline constexpr char kCompactChunk = 'r';
std::string CompactChunkKey(Sequence first);
inline constexpr std::string_view kCompactThroughKey = "compact/through";

}  // namespace teamhealth::eventlog::keys
