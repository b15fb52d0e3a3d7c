#pragma once

// Normalises one generated record as the ingester would (body as the record value, vendor
// headers as record headers): shared by the generator and calibration tests.

#include <gtest/gtest.h>

#include <vector>

#include "teamhealth/generate/generator.h"
#include "teamhealth/sources/source.h"

namespace teamhealth::testing {

inline void NormalizeRecord(sources::SourceRegistry& registry, const generate::Record& r,
                            sources::NormalizeResult& result) {
  std::vector<sources::RecordHeader> headers;
  for (const auto& [name, value] : r.headers) headers.push_back({name, value});
  sources::RawRecord raw;
  raw.topic = r.topic;
  raw.timestamp_ms = r.at;
  raw.value = r.body;
  raw.headers = headers;
  result.Clear();
  sources::Source* source = registry.Find(r.source);
  EXPECT_NE(source, nullptr) << r.source;
  if (source != nullptr) source->Normalize(raw, result);
}

}  // namespace teamhealth::testing
