#include "teamhealth/projections/event_access.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace teamhealth::projections {

bool IsWorkActivity(const EventView& e) {
  return !e.actor().empty() && e.subject_kind() != schema::SubjectKind::kOther;
}

bool IsOwnActivity(const EventView& e) {
  if (IsWorkActivity(e)) return true;
  return !e.actor().empty() && e.type_code() == schema::EventType::kChatMessage &&
         !BoolAttr(e, AttrName::kBot);
}

std::string_view SubjectKey(const EventView& e, std::string& scratch) {
  if (!e.subject_key().empty()) return e.subject_key();
  return JoinInto(scratch, {e.source(), e.subject().kind(), e.subject().id()}, '\x1f');
}

std::string_view JoinInto(std::string& scratch, std::initializer_list<std::string_view> parts,
                          char separator) {
  // Sized once, then copied: this builds a key or two per event of a replay.
  size_t size = parts.size() > 0 ? parts.size() - 1 : 0;
  for (std::string_view part : parts) size += part.size();
  scratch.resize(size);
  char* p = scratch.data();
  bool first = true;
  for (std::string_view part : parts) {
    if (!first) *p++ = separator;
    if (!part.empty()) std::memcpy(p, part.data(), part.size());
    p += part.size();
    first = false;
  }
  return scratch;
}

Labels MakeLabels(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs) {
  Labels labels;
  labels.reserve(pairs.size());
  for (const auto& [k, v] : pairs) labels.emplace_back(std::string(k), std::string(v));
  // Callers mostly write them in order already: sorting is then only a check.
  if (!std::is_sorted(labels.begin(), labels.end())) std::sort(labels.begin(), labels.end());
  return labels;
}

}  // namespace teamhealth::projections
