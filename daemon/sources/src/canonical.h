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

  bool accept_directory_events_;
  // Per record.
  schema::Event event_;
  std::string occurred_at_;
  std::set<std::string_view> seen_;  // member names, views into the body
};

}  // namespace teamhealth::sources
