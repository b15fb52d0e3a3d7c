#include "teamhealth/eventlog/identities.h"

#include <cstdio>

#include "teamhealth/base/hash.h"

namespace teamhealth::eventlog {

namespace {
// Built by append rather than `"i" + hash`: GCC 12 at -O3 reports a false -Wrestrict there.
std::string Tagged(char tag, std::string_view text) {
  std::string key(1, tag);
  key.append(ContentHash(text));
  return key;
}
}  // namespace

std::string Identities::IdentityKey(std::string_view ref) { return Tagged('i', ref); }

std::string Identities::HandleKey(std::string_view handle) { return Tagged('h', handle); }

std::string Identities::NewPseudonym() {
  char buf[24];
  std::snprintf(buf, sizeof buf, "p:%016llx", static_cast<unsigned long long>(rng_()));
  return buf;
}

Result<std::optional<std::string>> Identities::Find(std::string_view ref) {
  const std::string key = IdentityKey(ref);
  for (auto it = pending_.rbegin(); it != pending_.rend(); ++it) {
    if (it->first == key) {
      if (it->second.empty()) return std::optional<std::string>();
      return std::optional<std::string>(it->second);
    }
  }
  if (auto it = cache_.find(key); it != cache_.end()) {
    return std::optional<std::string>(it->second);
  }
  auto stored = store_.Get(storage::Column::kIdentities, key);
  if (!stored) return stored.error();
  if (*stored) cache_.emplace(key, **stored);
  return *stored;
}

Result<std::string> Identities::Resolve(std::string_view ref, storage::WriteBatch& batch) {
  auto found = Find(ref);
  if (!found) return found.error();
  if (*found) return std::move(**found);
  std::string pseudonym = NewPseudonym();
  Assign(ref, pseudonym, batch);
  return pseudonym;
}

void Identities::Assign(std::string_view ref, const std::string& pseudonym,
                        storage::WriteBatch& batch) {
  std::string key = IdentityKey(ref);
  batch.Put(storage::Column::kIdentities, key, pseudonym);
  pending_.emplace_back(std::move(key), pseudonym);
}

void Identities::Forget(std::string_view ref, storage::WriteBatch& batch) {
  std::string key = IdentityKey(ref);
  batch.Delete(storage::Column::kIdentities, key);
  pending_.emplace_back(std::move(key), std::string());
}

void Identities::Commit() {
  for (auto& [key, pseudonym] : pending_) {
    if (pseudonym.empty()) {
      cache_.erase(key);
    } else {
      cache_[key] = std::move(pseudonym);
    }
  }
  pending_.clear();
}

void Identities::Rollback() { pending_.clear(); }

}  // namespace teamhealth::eventlog
