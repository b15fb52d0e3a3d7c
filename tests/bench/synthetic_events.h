// The synthetic organisation's events that replay_bench and eventlog_bench append: one
// definition, so both measure the same log.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <random>
#include <string>

#include "event.pb.h"

namespace teamhealth::bench {

inline void Attr(schema::Event& e, const std::string& name, const std::string& v) {
  auto* a = e.add_attrs();
  a->set_name(name);
  a->mutable_value()->set_string_value(v);
}

inline void ListAttr(schema::Event& e, const std::string& name,
                     std::initializer_list<std::string> vs) {
  auto* a = e.add_attrs();
  a->set_name(name);
  auto* l = a->mutable_value()->mutable_list_value();
  for (const auto& v : vs) l->add_values(v);
}

// Event i of a synthetic organisation: about 5 % incidents, 35 % work items, 15 % pull requests,
// 45 % chat, spread over a year; attributes sorted by name.
inline schema::Event Synthetic(uint64_t i, int people, std::mt19937_64& rng) {
  schema::Event e;
  const int64_t t0 = 1735689600000;  // 2025-01-01
  // 800 ms apart: 5 M events span ~46 days, about what a 1,000-person organisation emits
  // (40 M events a year), so time-based pruning behaves as in production.
  e.set_occurred_at_ms(t0 + static_cast<int64_t>(i) * 800);
  const auto person = [&](int p) { return "slack:U" + std::to_string(p % people); };
  const int actor = static_cast<int>(rng() % people);
  const int kind = static_cast<int>(i % 20);
  e.set_source("canonical");
  e.set_id("canonical:r" + std::to_string(i));
  e.set_actor(person(actor));
  if (kind == 0) {
    e.set_type(i % 40 == 0 ? "incident.triggered" : "incident.resolved");
    e.mutable_subject()->set_kind("incident");
    e.mutable_subject()->set_id("Q" + std::to_string(i / 40));
    e.mutable_subject()->set_service("SVC" + std::to_string(i % 7));
    if (e.type() == "incident.triggered") {
      ListAttr(e, "assignees", {person(actor + 1)});
      Attr(e, "urgency", "high");
    }
  } else if (kind < 8) {
    const uint64_t item = (i / 20) % 5000;
    e.mutable_subject()->set_kind("work_item");
    e.mutable_subject()->set_id("W" + std::to_string(item));
    e.mutable_subject()->set_project("P" + std::to_string(item % 20));
    e.set_type("work_item.status_changed");
    static const char* kCats[] = {"todo", "in_progress", "done"};
    Attr(e, "from", "A");
    Attr(e, "from_category", kCats[i % 3]);
    Attr(e, "to", "B");
    Attr(e, "to_category", kCats[(i + 1) % 3]);
  } else if (kind < 11) {
    e.mutable_subject()->set_kind("pull_request");
    e.mutable_subject()->set_id("acme/repo#" + std::to_string((i / 20) % 3000));
    e.set_type(i % 3 == 0 ? "pull_request.opened" : "pull_request.reviewed");
    if (e.type() == "pull_request.reviewed") Attr(e, "state", "approved");
  } else {
    e.mutable_subject()->set_kind("channel");
    e.mutable_subject()->set_id("C" + std::to_string(i % 300));
    e.set_type("chat.message");
    auto* bot = e.add_attrs();
    bot->set_name("bot");
    bot->mutable_value()->set_bool_value(false);
    Attr(e, "channel_type", i % 5 == 0 ? "im" : "channel");
    ListAttr(e, "mentions", {person(actor + 3)});
    ListAttr(e, "recipients", {person(actor + 2)});
  }
  return e;
}

}  // namespace teamhealth::bench
