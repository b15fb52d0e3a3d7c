#include "teamhealth/projections/person_resolver.h"

#include "person_fields.h"
#include "teamhealth/projections/bytes.h"
#include "teamhealth/projections/event_access.h"

namespace teamhealth::projections {
namespace {
// A person key is never an alias of another in what the directory records; a few hops
// tolerate a chain all the same, without looping on a cycle.
constexpr int kMaxHops = 8;
}  // namespace

bool PersonResolver::Learn(const schema::EventView& e) {
  if (e.type() != "directory.person_upserted") return false;
  const std::string_view person = e.subject().id();
  bool changed = false;
  for (const std::string_view alias : ListAttr(e, AttrName::kAliases)) {
    if (alias.empty() || alias == person) continue;
    auto [it, fresh] = key_of_.try_emplace(std::string(alias), person);
    if (!fresh && it->second == person) continue;
    it->second = person;
    changed = true;
  }
  return changed;
}

std::string_view PersonResolver::Resolve(std::string_view ref) const {
  for (int hop = 0; hop < kMaxHops; ++hop) {
    auto it = key_of_.find(ref);
    if (it == key_of_.end()) return ref;
    ref = it->second;
  }
  return ref;
}

void PersonResolver::Resolve(schema::EventView& e) const {
  if (key_of_.empty()) return;
  e.ForEachPersonRef([&](std::string_view& ref) { ref = Resolve(ref); });
}

std::string PersonResolver::Save() const {
  std::string out;
  ByteWriter w(out);
  w.U64(key_of_.size());
  for (const auto& [alias, key] : key_of_) {
    w.Str(alias);
    w.Str(key);
  }
  return out;
}

bool PersonResolver::Load(std::string_view bytes) {
  ByteReader r(bytes);
  decltype(key_of_) key_of;
  for (uint64_t n = r.U64(); r.ok() && n > 0; --n) {
    std::string alias = r.Str();
    key_of[alias] = r.Str();
  }
  if (!r.ok() || !r.done()) return false;
  key_of_ = std::move(key_of);
  return true;
}

}  // namespace teamhealth::projections
