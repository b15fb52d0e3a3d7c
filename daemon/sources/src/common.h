#pragma once

// Helpers shared by the normalisers. Private to the sources module.

#include <absl/container/inlined_vector.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "event.pb.h"
#include "event_wire.h"
#include "teamhealth/base/time.h"
#include "teamhealth/sources/source.h"

namespace teamhealth::sources {

// A reusable padded copy of a record body: simdjson On Demand needs SIMDJSON_PADDING readable
// bytes past the end, and Kafka's buffers do not promise them. One copy per record.
class PaddedBuffer final {
 public:
  std::string_view Assign(std::string_view body);
  size_t capacity() const { return buf_.size(); }

 private:
  std::string buf_;
};

// A normaliser of JSON bodies: every source is one. DoNormalize is the one preamble they all
// share, so that the same bad body gets the same quarantine reason from every source:
//
//   1. an empty body                                   -> empty
//   2. not JSON to simdjson On Demand                  -> invalid_json
//   3. a top-level value that is not an object         -> invalid_json
//   4. Read(): the source reads the object's members   (may reject)
//   5. content after the object                        -> invalid_json
//   6. Map(): the source turns what it read into events, a rejection, or ignored; then the
//      time check every source owes (Source::Normalize repeats it, at no cost)
//   7. recheck: On Demand notices a malformed document only where it reads, so when the
//      outcome is a rejection for another reason a full DOM parse decides, and a body that is
//      not JSON is quarantined as invalid_json.
//
// Step 7 runs only on the rejection path, which is rare: the event and ignored paths parse
// once (a DOM parse of every ignored body cost 6-13% of normalise throughput). The price: a
// body a source maps or ignores is not validated inside the values it skips (a stray `tru` in
// a member no source reads); such a body is as good as its valid twin.
class JsonSource : public Source {
 protected:
  using Object = simdjson::ondemand::object;

  // Resets the per-record state, then reads the body's members into it. Rejects `out` for a
  // member it cannot read; otherwise must iterate the object to its end (step 5 checks what
  // follows). Views into the body stay valid until the next record.
  virtual void Read(Object body, const RawRecord& record, NormalizeResult& out) = 0;
  // Maps what Read() found; runs only when Read() did not reject.
  virtual void Map(const RawRecord& record, NormalizeResult& out) = 0;

 private:
  void DoNormalize(const RawRecord& record, NormalizeResult& out) final;

  PaddedBuffer buffer_;
  simdjson::ondemand::parser parser_;
  simdjson::dom::parser validator_;  // step 7 only
};

namespace detail {
// Bytes of `word` equal to `byte` get their high bit set, the lowest such byte exactly (bytes
// above a match may be set spuriously by the borrow: only the lowest is read).
inline uint64_t BytesEqual(uint64_t word, char byte) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHighs = 0x8080808080808080ULL;
  const uint64_t x = word ^ (kOnes * static_cast<uint8_t>(byte));
  return (x - kOnes) & ~x & kHighs;
}
}  // namespace detail

// The name of an object member, as unescaped_key() reads it, but read in place when it holds
// no escape (nearly always): no copy into the parser's string buffer. Either way the view is
// valid until the next record. For the loop variable of an object and for a field.
//
// Stage 1 has validated the document, so the closing quote is there, and the buffer is padded
// (PaddedBuffer, SIMDJSON_PADDING bytes): reading 8 bytes from any byte before the closing quote
// stays inside it. Eight bytes at a time, inline: a member name is read for every member of
// every record (a byte loop called out of line was a tenth of a small Slack record's time).
inline bool KeyInPlace(simdjson::ondemand::raw_json_string raw, std::string_view& key) {
  static_assert(std::endian::native == std::endian::little);
  const char* begin = raw.raw();
  for (const char* p = begin;; p += 8) {
    uint64_t word;
    std::memcpy(&word, p, sizeof word);  // little-endian: the first byte is the lowest
    const uint64_t marks = detail::BytesEqual(word, '"') | detail::BytesEqual(word, '\\');
    if (marks == 0) continue;
    // The lowest mark is exact: a backslash before the closing quote needs unescaping.
    const auto at = static_cast<size_t>(std::countr_zero(marks) / 8);
    if (p[at] == '\\') return false;
    key = std::string_view(begin, static_cast<size_t>(p - begin) + at);
    return true;
  }
}
inline simdjson::error_code ReadKey(simdjson::simdjson_result<simdjson::ondemand::field>& field,
                                    std::string_view& key) {
  simdjson::ondemand::raw_json_string raw;
  if (field.key().get(raw) == simdjson::SUCCESS && KeyInPlace(raw, key)) return simdjson::SUCCESS;
  return field.unescaped_key().get(key);
}
inline simdjson::error_code ReadKey(simdjson::ondemand::field& field, std::string_view& key) {
  if (KeyInPlace(field.key(), key)) return simdjson::SUCCESS;
  return field.unescaped_key().get(key);
}

// ASCII case-insensitive equality, for header names and Jira's field names: an ASCII fold,
// not the locale's tolower (a library call per byte, 5-8% of GitHub's and Jira's time).
inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [&](char x, char y) { return lower(x) == lower(y); });
}

// `<source>:<native id>`; empty when `native` is empty (a null person).
std::string PersonRef(std::string_view source, std::string_view native);

// A dedup id from stable payload fields: XXH3-128 of the fields joined by an unambiguous
// separator. For sources whose payloads carry no delivery id (docs/design.md section 4).
std::string StableHash(std::initializer_list<std::string_view> fields);

// "1663966382.046509" (Slack ts) or "1664408649" -> milliseconds; nothing if malformed.
std::optional<EpochMillis> ParseEpochSecondsString(std::string_view text);
// Opsgenie-style integers of unknown unit: seconds (10 digits), ms (13), us (16), ns (19).
EpochMillis EpochAnyUnitToMillis(int64_t value);

// Builds one canonical event. Attributes may be added in any order; Build() sorts them.
// Everything is copied into one buffer of the builder (the views it is given need not outlive
// the call), and Build() encodes the event straight into the result: no protobuf message is
// built, so a small event costs a few allocations instead of ~40 (docs/design.md section 10).
class EventBuilder final {
 public:
  // `dedup_id` becomes `<source>:<dedup_id>`.
  EventBuilder(std::string_view source, std::string_view dedup_id, std::string_view type);

  // For payloads that yield several events: appends `#n` to the id (n from 1).
  EventBuilder& Suffix(int n);
  EventBuilder& At(EpochMillis ms);
  // A person reference from the source's native id; empty native id means null.
  EventBuilder& Actor(std::string_view native_id);
  EventBuilder& Subject(std::string_view kind, std::string_view id);
  EventBuilder& SubjectKey(std::string_view key);
  EventBuilder& SubjectProject(std::string_view project);
  EventBuilder& SubjectService(std::string_view service);
  EventBuilder& SubjectTitle(std::string_view title);

  EventBuilder& Attr(std::string_view name, std::string_view value);
  EventBuilder& AttrInt(std::string_view name, int64_t value);
  EventBuilder& AttrBool(std::string_view name, bool value);
  EventBuilder& AttrNull(std::string_view name);
  EventBuilder& AttrList(std::string_view name, const std::vector<std::string>& values);
  // Nullable string: null when `value` is nothing.
  EventBuilder& AttrOpt(std::string_view name, std::optional<std::string_view> value);
  // A person attribute from a native id (null when empty).
  EventBuilder& AttrPerson(std::string_view name, std::string_view native_id);
  EventBuilder& AttrPersons(std::string_view name, std::span<const std::string> native_ids);
  EventBuilder& AttrPersons(std::string_view name, std::span<const std::string_view> native_ids);

  std::string_view source() const { return View(source_); }
  // Encodes the event, its origin the record's, into `out.events`; rejects the record
  // (invalid_field) instead when a string is not UTF-8 (JSON strings are, but a header such as
  // a delivery id can hold any bytes). Nothing once `out` is rejected.
  void Build(const RawRecord& record, NormalizeResult& out) const;

 private:
  using Kind = schema::EventView::Value::Kind;
  // Bytes of text_.
  struct Range {
    uint32_t at = 0, size = 0;
  };
  struct AttrRecord {
    Range name;
    Kind kind = Kind::kNotSet;
    Range text;           // kString
    int64_t number = 0;   // kInt, kBool
    uint32_t first = 0;   // kList: items_[first, first + count)
    uint32_t count = 0;
  };

  std::string_view View(Range r) const { return std::string_view(text_).substr(r.at, r.size); }
  Range Put(std::string_view s);
  // `<source>:<native>`.
  Range PutRef(std::string_view native);
  AttrRecord& AddAttr(std::string_view name, Kind kind);
  // Appends `<source>:<native_id>` to the last attribute's list; nothing for an empty id.
  void AddPerson(std::string_view native_id);

  std::string text_;  // every string of the event, back to back
  Range source_, id_, type_, actor_;
  std::array<Range, 6> subject_;  // kind, id, key, project, service, title
  EpochMillis at_ = 0;
  // Inline room for a typical event's attributes and list items: no allocation for most.
  absl::InlinedVector<AttrRecord, 12> attrs_;
  absl::InlinedVector<Range, 8> items_;
};

// Builds `events` into `out`, suffixing the ids `#1`, `#2`, ... when there are several
// (docs/design.md section 4); no events at all means the record is ignored.
void EmitAll(std::vector<EventBuilder>& events, const RawRecord& record, NormalizeResult& out);

// Status id -> status category (todo, in_progress, done), learned from every payload seen and
// overridden by config. Keys are `<source>:<status id>`; overrides may also name a status by
// its display name (`jira:In Review`). Thread-safe: one map may serve several sources.
class StatusCategories final {
 public:
  explicit StatusCategories(const std::map<std::string, std::string>& overrides = {})
      : overrides_(overrides.begin(), overrides.end()) {}
  void Learn(std::string_view key, std::string_view category);
  // The override for the id, then for the name, then what was learned.
  std::optional<std::string> Lookup(std::string_view id_key, std::string_view name_key) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string, std::less<>> overrides_;  // found by view: no copy of the key
  std::map<std::string, std::string, std::less<>> learned_;
};

// Jira statusCategory.key -> canonical category: new -> todo, indeterminate -> in_progress,
// done -> done.
std::optional<std::string> JiraCategory(std::string_view status_category_key);

}  // namespace teamhealth::sources
