#pragma once

#include <simdjson.h>

#include <string>

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

// The `canonical` source: records already in the canonical JSON form of DESIGN section 4
// (what `teamhealth normalize` prints). Validates types and required fields strictly.
class CanonicalSource final : public Source {
 public:
  std::string_view name() const override { return "canonical"; }
  void Normalize(const RawRecord& record, NormalizeResult& out) override;

 private:
  simdjson::ondemand::parser parser_;
  PaddedBuffer buffer_;
};

}  // namespace teamhealth::sources
