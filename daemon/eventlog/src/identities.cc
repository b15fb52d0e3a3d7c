#include "teamhealth/eventlog/identities.h"

#include <cstdio>

#include "teamhealth/base/hash.h"

namespace teamhealth::eventlog {

namespace {

constexpr size_t kUnkeyedHexDigits = 32;  // XXH3-128
constexpr size_t kKeyedHexDigits = 64;    // HMAC-SHA256

bool IsTaggedHex(std::string_view key, size_t digits) {
  if (key.size() != 1 + digits || (key[0] != 'i' && key[0] != 'h')) return false;
  for (char c : key.substr(1)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::string Identities::UnkeyedKey(char tag, std::string_view text) {
  // Built by append rather than `tag + hash`: GCC 12 at -O3 reports a false -Wrestrict there.
  std::string key(1, tag);
  key.append(ContentHash(text));
  return key;
}

std::string Identities::KeyedKey(const IdentityKey& key, std::string_view unkeyed_key) {
  std::string out(1, unkeyed_key.front());
  out.append(key.Mac(unkeyed_key));
  return out;
}

bool Identities::IsUnkeyedKey(std::string_view column_key) {
  return IsTaggedHex(column_key, kUnkeyedHexDigits);
}

bool Identities::IsKeyedKey(std::string_view column_key) {
  return IsTaggedHex(column_key, kKeyedHexDigits);
}

void Identities::UseKey(IdentityKey key) {
  key_ = std::move(key);
  hashing_ = Hashing::kKeyed;
  cache_.clear();
  pending_.clear();
}

void Identities::Lock() {
  key_.reset();
  hashing_ = Hashing::kLocked;
  cache_.clear();
  pending_.clear();
}

Result<std::string> Identities::KeyOf(char tag, std::string_view text) const {
  switch (hashing_) {
    case Hashing::kKeyed:
      return KeyedKey(*key_, UnkeyedKey(tag, text));
    case Hashing::kUnkeyed:
      return UnkeyedKey(tag, text);
    case Hashing::kLocked:
      break;
  }
  return Error(
      "the identities of this log are keyed (docs/design.md section 6) and it was opened "
      "without storage.identity_key_file: people cannot be looked up or added");
}

std::string Identities::NewPseudonym() {
  char buf[24];
  std::snprintf(buf, sizeof buf, "p:%016llx", static_cast<unsigned long long>(rng_()));
  return buf;
}

Result<std::optional<std::string>> Identities::Find(std::string_view ref) {
  if (auto it = pending_.find(ref); it != pending_.end()) {
    if (it->second.empty()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  if (auto it = cache_.find(ref); it != cache_.end()) {
    return std::optional<std::string>(it->second);
  }
  auto key = RefKey(ref);
  if (!key) return key.error();
  auto stored = store_.Get(storage::Column::kIdentities, *key);
  if (!stored) return stored.error();
  if (*stored) cache_.emplace(std::string(ref), **stored);
  return *stored;
}

Result<std::string> Identities::Resolve(std::string_view ref, storage::WriteBatch& batch) {
  auto found = Find(ref);
  if (!found) return found.error();
  if (*found) return std::move(**found);
  std::string pseudonym = NewPseudonym();
  if (auto s = Assign(ref, pseudonym, batch); !s) return s.error();
  return pseudonym;
}

Status Identities::Assign(std::string_view ref, const std::string& pseudonym,
                          storage::WriteBatch& batch) {
  auto key = RefKey(ref);
  if (!key) return key.error();
  batch.Put(storage::Column::kIdentities, *key, pseudonym);
  pending_.insert_or_assign(std::string(ref), pseudonym);
  return Status::Ok();
}

Status Identities::Forget(std::string_view ref, storage::WriteBatch& batch) {
  auto key = RefKey(ref);
  if (!key) return key.error();
  batch.Delete(storage::Column::kIdentities, *key);
  pending_.insert_or_assign(std::string(ref), std::string());
  return Status::Ok();
}

void Identities::Commit() {
  for (auto& [ref, pseudonym] : pending_) {
    if (pseudonym.empty()) {
      cache_.erase(ref);
    } else {
      cache_[ref] = std::move(pseudonym);
    }
  }
  pending_.clear();
}

void Identities::Rollback() { pending_.clear(); }

void Identities::ClearCache() { cache_.clear(); }

}  // namespace teamhealth::eventlog
