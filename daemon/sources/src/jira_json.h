#pragma once

// Readers of Jira's JSON shapes: ids that are strings or numbers, members of small objects,
// and user objects (Cloud accountId, Server name and key). Private to jira.cc.

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common.h"

namespace teamhealth::sources::jira {

namespace od = simdjson::ondemand;

// A string value, or nothing for null / another type.
inline std::optional<std::string_view> OptString(od::value v) {
  std::string_view s;
  if (v.get_string().get(s)) return std::nullopt;
  return s;
}

// Jira ids are strings in webhooks, but some producers (and Server's changelog id) write
// numbers: accept both. False when the value is neither.
inline bool IdString(od::value v, std::string& out) {
  od::json_type t;
  if (v.type().get(t)) return false;
  if (t == od::json_type::string) {
    std::string_view s;
    if (v.get_string().get(s)) return false;
    out.assign(s);
    return true;
  }
  if (t == od::json_type::number) {
    int64_t n;
    if (v.get_int64().get(n)) return false;
    out = std::to_string(n);
    return true;
  }
  return false;
}

inline bool IsObject(od::value v) {
  od::json_type t;
  return v.type().get(t) == simdjson::SUCCESS && t == od::json_type::object;
}

// Calls f(key, value) for each member of an object, in order (On Demand is forward-only);
// a value that is not an object has no members. False on malformed JSON or when f fails.
template <typename F>
bool ForEachMember(od::value v, F&& f) {
  od::object obj;
  if (v.get_object().get(obj)) return true;
  for (auto field : obj) {
    std::string_view k;
    if (ReadKey(field, k)) return false;
    od::value fv;
    if (field.value().get(fv)) return false;
    if (!f(k, fv)) return false;
  }
  return true;
}

// Reads an object member that is a string: a priority's name, a project's key, ...
inline std::optional<std::string_view> MemberString(od::value v, std::string_view member) {
  od::object obj;
  if (v.get_object().get(obj)) return std::nullopt;
  od::value m;
  if (obj.find_field_unordered(member).get(m)) return std::nullopt;
  return OptString(m);
}

// A Jira user object: Cloud has accountId (and accountType "app" for bots such as
// Automation for Jira); Server/DC has name and key.
struct Person {
  std::string_view account_id, name, key;
  bool app = false;
  // The native id of docs/design.md section 4: accountId, else username, else key.
  std::string_view NativeId() const {
    if (!account_id.empty()) return account_id;
    return name.empty() ? key : name;
  }
  // As an actor: bots and integrations are not people.
  std::string_view ActorId() const { return app ? std::string_view() : NativeId(); }
  bool Matches(std::string_view username) const {
    return !username.empty() && (name == username || key == username);
  }
};

inline bool ReadPerson(od::value v, Person& p) {
  p = Person{};  // null: nobody
  return ForEachMember(v, [&](std::string_view k, od::value fv) {
    if (k == "accountId") p.account_id = OptString(fv).value_or("");
    if (k == "name") p.name = OptString(fv).value_or("");
    if (k == "key") p.key = OptString(fv).value_or("");
    if (k == "accountType") p.app = OptString(fv).value_or("") == "app";
    return true;
  });
}

}  // namespace teamhealth::sources::jira
