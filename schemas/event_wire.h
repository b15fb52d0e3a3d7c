#pragma once

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "event.pb.h"
#include "event_view.h"

namespace teamhealth::schema {

// Where an event was consumed from (schema::Origin), as views.
struct OriginView {
  std::string_view topic;
  int32_t partition = 0;
  int64_t offset = 0;
};

// The wire layout of event.proto, for the one encoder (EncodeEvent) and the one view decoder
// (eventlog::DecodeView): wire types and field numbers. Every field number is below 16, so
// each tag is one byte.
namespace wire {
enum WireType : uint32_t {
  kVarint = 0,
  kFixed64 = 1,
  kBytes = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5
};
namespace event {
constexpr uint32_t kSchemaVersion = 1, kId = 2, kSource = 3, kType = 4, kOccurredAt = 5,
                   kActor = 6, kSubject = 7, kAttrs = 8, kOrigin = 9;
}
namespace subject {
constexpr uint32_t kKind = 1, kId = 2, kKey = 3, kProject = 4, kService = 5, kTitle = 6;
}
namespace attr {
constexpr uint32_t kName = 1, kValue = 2;
}
namespace value {
constexpr uint32_t kNull = 1, kString = 2, kInt = 3, kDouble = 4, kBool = 5, kList = 6;
}
namespace list {
constexpr uint32_t kValues = 1;
}
namespace origin {
constexpr uint32_t kTopic = 1, kPartition = 2, kOffset = 3;
}
}  // namespace wire

// Whether every byte of `s` is ASCII (so valid UTF-8, and so is any piece of it). Inline, words
// at a time (overlapping at the end): a replay checks ~50 short strings per event.
inline bool IsAscii(std::string_view s) {
  const char* p = s.data();
  const size_t n = s.size();
  uint64_t bits = 0;
  if (n >= 8) {
    uint64_t word;
    for (size_t i = 0; i + 8 <= n; i += 8) {
      std::memcpy(&word, p + i, 8);
      bits |= word;
    }
    std::memcpy(&word, p + n - 8, 8);
    bits |= word;
  } else if (n >= 4) {
    uint32_t first, last;
    std::memcpy(&first, p, 4);
    std::memcpy(&last, p + n - 4, 4);
    bits = first | last;
  } else {
    for (size_t i = 0; i < n; ++i) bits |= static_cast<uint8_t>(p[i]);
  }
  return (bits & 0x8080808080808080ULL) == 0;
}

// Whether `s` is valid UTF-8, as protobuf requires of a proto3 string (and checks when it
// parses one). ASCII, almost every string here, is checked inline.
bool IsValidUtf8NotAscii(std::string_view s);
inline bool IsValidUtf8(std::string_view s) { return IsAscii(s) || IsValidUtf8NotAscii(s); }
// Whether every string of `v` and `origin.topic` is.
bool IsValidUtf8(const EventView& v, const OriginView& origin);

// Appends the wire encoding of `v` with `origin` to `out`: the bytes protobuf writes for the
// same event (fields in number order, proto3 defaults left out), so that whatever parses a
// stored record — protobuf, eventlog::DecodeView — reads it the same. Two things a view cannot
// tell are written one way: the subject only when one of its fields is set, the origin only
// when it is not all defaults; a `null_value` is written true and an attribute's value is
// always written (a view holds neither a false null nor an absent value). Returns the offset
// of the id's bytes within what was appended. The strings must be valid UTF-8 (IsValidUtf8:
// protobuf and DecodeView refuse a record with any that is not) and must not view `out`.
// This is the one encoder of events: normalisers (EventBuilder), the log's writer (after
// pseudonymising) and every message turned into a record go through it.
size_t EncodeEvent(const EventView& v, const OriginView& origin, std::string& out);

// Canonical events, encoded, back to back in one buffer: what a normaliser produces and what
// an ingest batch carries to the log's writer. One buffer per batch instead of a message per
// event: the ~40 allocations of a small message (and their frees on the writing thread) and
// its serialisation go away (docs/design.md section 10, "cheaper events").
//
// The fast readers are bytes(), id() and occurred_at_ms(). operator[] and iteration parse a
// schema::Event from the bytes: for tests and cold paths (a CLI printing events), never per
// event on a hot path.
class EncodedEvents {
 public:
  EncodedEvents() = default;
  // Messages, encoded (tests and cold paths).
  EncodedEvents(std::initializer_list<Event> events) { *this = events; }
  explicit EncodedEvents(const std::vector<Event>& events) { *this = events; }
  EncodedEvents& operator=(std::initializer_list<Event> events) {
    clear();
    for (const auto& e : events) push_back(e);
    return *this;
  }
  EncodedEvents& operator=(const std::vector<Event>& events) {
    clear();
    for (const auto& e : events) push_back(e);
    return *this;
  }

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  // Keeps the buffers' capacity.
  void clear() {
    bytes_.clear();
    entries_.clear();
    parsed_.clear();
  }

  // False, and nothing appended, when a string of the event is not valid UTF-8 (a normaliser
  // quarantines the record: a header or a file name can hold any bytes).
  [[nodiscard]] bool Append(const EventView& v, const OriginView& origin);
  // Append, for a caller that has checked in one pass that every string of `v` is ASCII (the
  // event builder: all of them view one buffer of its own): only the origin's topic is checked.
  [[nodiscard]] bool AppendAsciiStrings(const EventView& v, const OriginView& origin);
  // A message (origin included), through the same encoder.
  [[nodiscard]] bool Append(const Event& e);
  // Append(e) for tests and cold paths; throws std::invalid_argument where Append is false.
  void push_back(const Event& e);
  // Every event of `other` (not this one), after these.
  void AppendAll(const EncodedEvents& other);

  std::string_view bytes(size_t i) const {
    const Entry& e = entries_[i];
    return std::string_view(bytes_).substr(e.begin, e.size);
  }
  std::string_view id(size_t i) const {
    const Entry& e = entries_[i];
    return std::string_view(bytes_).substr(e.begin + e.id_at, e.id_size);
  }
  int64_t occurred_at_ms(size_t i) const { return entries_[i].occurred_at_ms; }
  // Bytes held in all (the batches' byte budgets count them).
  size_t byte_size() const { return bytes_.size(); }

  // The event as a message, parsed from its bytes on first use and kept until the events
  // change (as a vector's element, the reference is valid until then). Not thread-safe, const
  // as it is: the parse is cached.
  const Event& operator[](size_t i) const;
  const Event& at(size_t i) const;  // throws std::out_of_range past the end
  const Event& back() const { return (*this)[size() - 1]; }

  // Iteration yields messages, as operator[] does.
  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Event;
    using difference_type = std::ptrdiff_t;
    using pointer = const Event*;
    using reference = const Event&;
    Iterator(const EncodedEvents* events, size_t i) : events_(events), i_(i) {}
    const Event& operator*() const { return (*events_)[i_]; }
    Iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator==(const Iterator& other) const { return i_ == other.i_; }

   private:
    const EncodedEvents* events_;
    size_t i_;
  };
  Iterator begin() const { return Iterator(this, 0); }
  Iterator end() const { return Iterator(this, size()); }

 private:
  struct Entry {
    size_t begin = 0;
    uint32_t size = 0, id_at = 0, id_size = 0;
    int64_t occurred_at_ms = 0;
  };
  std::string bytes_;
  std::vector<Entry> entries_;
  // Encodes `v` (its strings checked) and notes its entry.
  void AppendChecked(const EventView& v, const OriginView& origin);

  EventView scratch_;  // Append(Event)'s view, reused
  // operator[]'s messages, by index (shared: a copy of the events may keep them).
  mutable std::vector<std::shared_ptr<const Event>> parsed_;
};

}  // namespace teamhealth::schema
