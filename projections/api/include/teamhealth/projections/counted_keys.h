#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"

#include "teamhealth/base/hash.h"
#include "teamhealth/projections/short_key.h"

namespace teamhealth::projections {

// Strings interned with reference counts, for a projection whose state holds the same keys many
// times over (context switching's subjects: each person's latest one and those of their recent
// days). The state then holds 4-byte ids, compared and hashed as integers, in tables a tenth of
// the size (issue 13: string sets of a 1,000-person organisation's subjects missed the cache at
// every activity). A key is kept while its count is above 0, and its id is given to another key
// once it has fallen to 0: the table holds what the state refers to, never more. Copyable (a
// copy keeps the ids). Not thread-safe.
class CountedKeys {
 public:
  using Id = uint32_t;
  static constexpr Id kNone = UINT32_MAX;  // what a holder of no key holds

  // The id of `key`, if some holder refers to it.
  std::optional<Id> Find(std::string_view key) const {
    if (const auto inline_key = SubjectInlineKey::Of(key)) {
      auto it = short_ids_.find(*inline_key);
      if (it == short_ids_.end()) return std::nullopt;
      return it->second;
    }
    auto it = ids_.find(key);
    if (it == ids_.end()) return std::nullopt;
    return it->second;
  }
  // The id of `key` (a new one if nobody refers to it), its count raised by one.
  Id Acquire(std::string_view key) {
    Id* id;
    bool fresh;
    if (const auto inline_key = SubjectInlineKey::Of(key)) {
      auto [it, inserted] = short_ids_.try_emplace(*inline_key, kNone);
      id = &it->second;
      fresh = inserted;
    } else {
      auto it = ids_.find(key);
      fresh = it == ids_.end();
      if (fresh) it = ids_.try_emplace(std::string(key), kNone).first;
      id = &it->second;
    }
    if (fresh) {
      if (free_.empty()) {
        *id = static_cast<Id>(keys_.size());
        keys_.emplace_back(key);
        refs_.push_back(0);
      } else {
        *id = free_.back();
        free_.pop_back();
        keys_[*id] = key;
      }
    }
    ++refs_[*id];
    return *id;
  }
  // One more holder of the id `id` (given by Acquire and not yet released to 0).
  void Retain(Id id) { ++refs_[id]; }
  // One holder fewer; at 0 the key is forgotten and its id may be given again.
  void Release(Id id) {
    if (--refs_[id] > 0) return;
    std::string& key = keys_[id];
    if (const auto inline_key = SubjectInlineKey::Of(key)) {
      short_ids_.erase(*inline_key);
    } else {
      ids_.erase(key);
    }
    key.clear();
    free_.push_back(id);
  }
  std::string_view Key(Id id) const { return keys_[id]; }
  uint32_t refs(Id id) const { return refs_[id]; }
  // Keys referred to.
  size_t size() const { return short_ids_.size() + ids_.size(); }

 private:
  // Keys of up to SubjectInlineKey::kMaxSize bytes (most subject keys) in a flat table of
  // inline keys, longer ones by string.
  absl::flat_hash_map<SubjectInlineKey, Id> short_ids_;
  absl::flat_hash_map<std::string, Id, StringHash, std::equal_to<>> ids_;
  // By id: the counts apart from the keys, so that counting touches 4 bytes per id (the keys,
  // second copies of the tables' keys so that a copy of the whole stays whole, are read only
  // when a key is forgotten or saved).
  std::vector<std::string> keys_;
  std::vector<uint32_t> refs_;
  std::vector<Id> free_;
};

}  // namespace teamhealth::projections
