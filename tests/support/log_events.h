#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "teamhealth/eventlog/event_log.h"

namespace teamhealth::testing {

// A canonical `incident.triggered` event with id "canonical:<id>" about incident "Q-<id>".
inline schema::Event IncidentEvent(const std::string& id, int64_t at_ms = 1000) {
  schema::Event e;
  e.set_id("canonical:" + id);
  e.set_source("canonical");
  e.set_type("incident.triggered");
  e.set_occurred_at_ms(at_ms);
  e.mutable_subject()->set_kind("incident");
  e.mutable_subject()->set_id("Q-" + id);
  return e;
}

// Every key and value of one column of `store`, in key order.
inline std::map<std::string, std::string> ColumnContents(storage::Store& store,
                                                         storage::Column column) {
  std::map<std::string, std::string> out;
  auto it = store.NewIterator(column);
  for (it->SeekToFirst(); it->Valid(); it->Next()) out.emplace(it->key(), it->value());
  EXPECT_TRUE(it->status().ok());
  return out;
}

// The id of every event in `log`, in log order.
inline std::vector<std::string> LogIds(eventlog::EventLog& log) {
  std::vector<std::string> ids;
  EXPECT_TRUE(log.ForEach(Sequence(1),
                          [&](Sequence, const schema::Event& e) {
                            ids.push_back(e.id());
                            return true;
                          })
                  .ok());
  return ids;
}

}  // namespace teamhealth::testing
