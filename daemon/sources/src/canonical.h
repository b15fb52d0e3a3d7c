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
  std::string_view name() const override { return "canonical"; }
  void DoNormalize(const RawRecord& record, NormalizeResult& out) override;

 private:
  simdjson::ondemand::parser parser_;
  PaddedBuffer buffer_;
};

}  // namespace teamhealth::sources
