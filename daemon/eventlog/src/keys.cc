#include "teamhealth/eventlog/keys.h"

namespace teamhealth::eventlog::keys {

void AppendU64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

void AppendU32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

std::optional<uint64_t> ReadU64(std::string_view in) {
  if (in.size() < 8) return std::nullopt;
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

std::string SequenceKey(Sequence seq) {
  std::string k;
  AppendU64(k, seq.value());
  return k;
}

std::string OffsetKey(const TopicPartition& tp) {
  std::string k = tp.topic;
  k.push_back('\0');
  AppendU32(k, static_cast<uint32_t>(tp.partition.value()));
  return k;
}

std::optional<TopicPartition> ParseOffsetKey(std::string_view key) {
  if (key.size() < 5 || key[key.size() - 5] != '\0') return std::nullopt;
  uint32_t p = 0;
  for (size_t i = key.size() - 4; i < key.size(); ++i) {
    p = (p << 8) | static_cast<unsigned char>(key[i]);
  }
  return TopicPartition{std::string(key.substr(0, key.size() - 5)),
                        PartitionId(static_cast<int32_t>(p))};
}

std::string TimeIndexKey(int64_t occurred_at_ms, Sequence seq) {
  std::string k(1, kTimeIndex);
  // Flip the sign bit so negative times sort before positive ones.
  AppendU64(k, static_cast<uint64_t>(occurred_at_ms) ^ (uint64_t{1} << 63));
  AppendU64(k, seq.value());
  return k;
}

std::string CompactChunkKey(Sequence first) {
  std::string k(1, kCompactChunk);
  AppendU64(k, first.value());
  return k;
}

std::optional<int64_t> TimeOfTimeIndexKey(std::string_view key) {
  if (key.size() != 17 || key[0] != kTimeIndex) return std::nullopt;
  return static_cast<int64_t>(*ReadU64(key.substr(1)) ^ (uint64_t{1} << 63));
}

std::string SubjectIndexKey(std::string_view kind, std::string_view id, Sequence seq) {
  std::string k;
  AppendSubjectIndexKey(k, kind, id, seq);
  return k;
}

void AppendSubjectIndexKey(std::string& out, std::string_view kind, std::string_view id,
                           Sequence seq) {
  out.push_back(kSubjectIndex);
  out.append(kind);
  out.push_back('\0');
  out.append(id);
  out.push_back('\0');
  AppendU64(out, seq.value());
}

}  // namespace teamhealth::eventlog::keys
