#pragma once

#include <simdjson.h>

#include <string>

#include "common.h"
#include "teamhealth/sources/source.h"

namespace teamhealth::sources {

// The `canonical` source: records already in the canonical JSON form of DESIGN section 4
// (what `teamhealth normalize` prints). Validates types and required fields strictly.
class CanonicalSource final : public Source {
 public:
  explicit CanonicalSource(bool accept_directory_events)
      : accept_directory_events_(accept_directory_events) {}
  std::string_view name() const override { return "canonical"; }
  void DoNormalize(const RawRecord& record, NormalizeResult& out) override;

 private:
  bool accept_directory_events_;
  simdjson::ondemand::parser parser_;
  PaddedBuffer buffer_;
};

}  // namespace teamhealth::sources
