#pragma once

#include <simdjson.h>

#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "common.h"
#include "teamhealth/sources/source.h"

namespace teamhealth::sources {

// The `canonical` source: records already in the canonical JSON form of docs/design.md section 4
// (what `teamhealth normalize` prints). Validates types and required fields strictly, and
// walks members it does not know so that malformed JSON inside them is still an error.
class CanonicalSource final : public JsonSource {
 public:
  explicit CanonicalSource(bool accept_directory_events)
      : accept_directory_events_(accept_directory_events) {}
  std::string_view name() const override { return "canonical"; }

 private:
  void Read(Object body, const RawRecord& record, NormalizeResult& out) override;
  void Map(const RawRecord& record, NormalizeResult& out) override;
  // The checks of a complete event that need no JSON: required fields, known names.
  std::optional<Rejection> Check() const;
  // False when `key` (member index `member`, -1 if unknown) was already in this body.
  bool FirstSighting(std::string_view key, int member);

  bool accept_directory_events_;
  // Per record: the event as views into the body and the parser's strings (valid until the
  // next record; reused, so a record allocates nothing once warm).
  schema::EventView event_;
  std::string_view occurred_at_;
  // "subject.<name>" of the first subject member other than kind and id, or empty (the closed
  // subjects of person.time_off and pulse.response refuse it).
  std::string subject_extra_;
  // Member names seen: the known ones as bits (no allocation per record), others in a set
  // (views into the body).
  uint32_t seen_known_ = 0;
  std::set<std::string_view> seen_other_;
};

}  // namespace teamhealth::sources
