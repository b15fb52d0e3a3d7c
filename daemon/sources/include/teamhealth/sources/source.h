#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "event.pb.h"
#include "event_wire.h"

namespace teamhealth::sources {

// A Kafka record header (the vendor's HTTP headers travel here).
struct RecordHeader {
  std::string_view name;
  std::string_view value;
};

// One consumed record, borrowed from the consumer for the duration of Normalize().
struct RawRecord {
  std::string_view topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp_ms = 0;  // Kafka record timestamp: the last-resort event time
  std::string_view value;    // the vendor's webhook body, verbatim
  std::span<const RecordHeader> headers;

  // Case-insensitive header lookup (HTTP header names are case-insensitive).
  std::optional<std::string_view> Header(std::string_view name) const;
};

// Why a record was quarantined: a bounded set, because it is a metric label.
enum class Reason {
  kEmpty,             // no body
  kInvalidJson,       // not parseable JSON
  kMissingField,      // a required field is absent
  kInvalidField,      // a field has the wrong type or an impossible value
  kBadTimestamp,      // a time that is not RFC 3339 / epoch
  kUnknownType,       // a canonical event type not in docs/design.md section 4
  kUnsupportedEvent,  // a vendor event this build cannot map
  kNoSource,          // the topic names no configured source
  kTooLarge,          // above kafka.max_record_bytes: never parsed (ingest decides, not a source)
};
std::string_view ReasonName(Reason reason);
// Every reason, for declaring the quarantine counters before the first rejection.
inline constexpr std::array<Reason, 9> AllReasons() {
  return {Reason::kEmpty,       Reason::kInvalidJson,  Reason::kMissingField,
          Reason::kInvalidField, Reason::kBadTimestamp, Reason::kUnknownType,
          Reason::kUnsupportedEvent, Reason::kNoSource, Reason::kTooLarge};
}

struct Rejection {
  Reason reason;
  std::string detail;  // names the field; never contains payload text
};

// What one record normalises to: events, or a rejection, or nothing (ignored: a payload that
// is not an event, such as Slack's url_verification).
struct NormalizeResult {
  schema::EncodedEvents events;  // encoded: EncodedEvents::operator[] parses one
  std::optional<Rejection> rejection;
  bool ignored = false;

  void Clear() {
    events.clear();
    rejection.reset();
    ignored = false;
  }
  void Reject(Reason reason, std::string detail) {
    events.clear();
    rejection = Rejection{reason, std::move(detail)};
  }
};

// A normaliser for one source. Instances hold parser buffers: not thread-safe; use one per
// ingest thread.
class Source {
 public:
  virtual ~Source() = default;
  virtual std::string_view name() const = 0;
  // Fills `out` (cleared by the caller). Never throws; bad input becomes a rejection. Checks
  // what every source must guarantee (event times within years 1970-9999) on top of the
  // source's own DoNormalize.
  void Normalize(const RawRecord& record, NormalizeResult& out);

 protected:
  virtual void DoNormalize(const RawRecord& record, NormalizeResult& out) = 0;
  // The time check of Normalize(), for a DoNormalize that must see its final outcome (the
  // JSON preamble rechecks a body that ends without events).
  static void RejectImpossibleTimes(NormalizeResult& out);
};

// The sources by name. Owns them. Not thread-safe (see Source).
class SourceRegistry final {
 public:
  void Add(std::unique_ptr<Source> source);
  Source* Find(std::string_view name) const;

 private:
  std::vector<std::unique_ptr<Source>> sources_;
};

// Settings of the normalisers (config: [sources]).
struct SourceOptions {
  // Status category overrides: "<source>:<status id or name>" -> todo | in_progress | done.
  std::map<std::string, std::string> status_categories;
  // Whether the canonical source accepts directory.* events. Off for Kafka topics: the
  // directory comes only from the config (its events carry pseudonyms the log made), so a
  // producer cannot rewrite teams or slip raw identities into the log. On for reading files
  // of canonical events (report --events, tests), which describe their own directory.
  bool accept_directory_events = false;
};

// The explicit list of every source this build knows.
std::unique_ptr<SourceRegistry> MakeSourceRegistry(const SourceOptions& options = {});

// Source names a topic may be configured with (docs/design.md section 2).
bool IsKnownSourceName(std::string_view name);
// Canonical event types of docs/design.md section 4.
bool IsKnownEventType(std::string_view type);
// Subject kinds of docs/design.md section 4.
bool IsKnownSubjectKind(std::string_view kind);

}  // namespace teamhealth::sources
