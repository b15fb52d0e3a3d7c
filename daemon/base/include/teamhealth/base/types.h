#pragma once

#include <compare>
#include <cstdint>
#include <string>

namespace teamhealth {

// A strong wrapper so that values that must not be mixed (a log sequence and a Kafka offset
// are both 64-bit integers) cannot be.
template <typename Tag, typename Rep>
class StrongInt final {
 public:
  constexpr StrongInt() = default;
  constexpr explicit StrongInt(Rep v) : v_(v) {}
  constexpr Rep value() const { return v_; }
  constexpr auto operator<=>(const StrongInt&) const = default;

 private:
  Rep v_{};
};

// Position of an event in the log: dense, starting at 1; 0 means "none yet".
using Sequence = StrongInt<struct SequenceTag, uint64_t>;
// A Kafka offset (the next offset to consume when stored as a checkpoint).
using KafkaOffset = StrongInt<struct KafkaOffsetTag, int64_t>;
using PartitionId = StrongInt<struct PartitionTag, int32_t>;

// A topic partition, ordered so it can key maps.
struct TopicPartition {
  std::string topic;
  PartitionId partition;
  auto operator<=>(const TopicPartition&) const = default;
};

}  // namespace teamhealth
