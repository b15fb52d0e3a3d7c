#pragma once

#include <functional>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "teamhealth/base/hash.h"
#include "teamhealth/base/result.h"
#include "teamhealth/eventlog/identity_key.h"
#include "teamhealth/storage/store.h"

namespace teamhealth::eventlog {

// Maps source identities ("slack:U024BE7LH") to random per-person pseudonyms
// ("p:9f1c2a7e4b3d5e60") in the identities column (docs/design.md section 6). Keys hold a hash
// of the identity, never the identity itself, so no raw identity is stored anywhere; deleting
// the keys (erase) leaves the pseudonym in past events with nothing that links it to a person.
//
// Column keys are a tag ('i' for an identity, 'h' for a directory handle) and a hash:
// - keyed, the form every log opened with `storage.identity_key_file` has: HMAC-SHA256, under
//   the identity key, of the unkeyed column key below (64 hex digits). Without the key, a
//   guessed identity cannot be turned into its column key, so a copy of the state directory
//   does not link people to pseudonyms. The HMAC is over the unkeyed key rather than the
//   identity because that is what a log written before keying holds: it is how such a log is
//   keyed in place (EventLog::Open) without the identities, which it never stored.
// - unkeyed (legacy): the XXH3-128 of the identity (32 hex digits), which anyone can compute
//   from a guessed id. Only in logs written before keying, until they are opened with the key,
//   and for in-process uses that give no key (tests of other modules, benchmarks).
// - locked: the column is keyed but the log was opened without the key: every lookup is an
//   error rather than a miss, so nobody silently gets a new pseudonym.
//
// Borrows the Store. Not thread-safe: used by the log's single writer.
class Identities final {
 public:
  enum class Hashing { kUnkeyed, kKeyed, kLocked };

  explicit Identities(storage::Store& store) : store_(store), rng_(std::random_device{}()) {}

  // How column keys are derived from now on; set by EventLog::Open before any lookup.
  void UseKey(IdentityKey key);
  void Lock();
  Hashing hashing() const { return hashing_; }

  // The pseudonym of `ref`, creating one if it is new. New mappings are written into `batch`
  // and only become visible to later calls once Commit() confirms the batch was written.
  Result<std::string> Resolve(std::string_view ref, storage::WriteBatch& batch);
  // Points `ref` at `pseudonym` (directory sync), in `batch`.
  Status Assign(std::string_view ref, const std::string& pseudonym, storage::WriteBatch& batch);
  // The pseudonym of `ref` if it has one (pending or stored).
  Result<std::optional<std::string>> Find(std::string_view ref);
  // Removes the mapping of `ref`, in `batch`.
  Status Forget(std::string_view ref, storage::WriteBatch& batch);

  void Commit();      // the batch holding the pending mappings was written
  void Rollback();    // it was not
  void ClearCache();  // mappings were deleted behind the cache's back (erase by pseudonym)

  std::string NewPseudonym();
  // Column key of an identity, and of a directory handle, in the current hashing.
  Result<std::string> RefKey(std::string_view ref) const { return KeyOf('i', ref); }
  Result<std::string> HandleKey(std::string_view handle) const { return KeyOf('h', handle); }

  // The two forms of a column key (see the class comment).
  static std::string UnkeyedKey(char tag, std::string_view text);
  static std::string KeyedKey(const IdentityKey& key, std::string_view unkeyed_key);
  static bool IsUnkeyedKey(std::string_view column_key);
  static bool IsKeyedKey(std::string_view column_key);

 private:
  Result<std::string> KeyOf(char tag, std::string_view text) const;

  storage::Store& store_;
  std::mt19937_64 rng_;
  Hashing hashing_ = Hashing::kUnkeyed;
  std::optional<IdentityKey> key_;

  // Committed mappings by identity, in memory only: bounded by the number of identities
  // (people), not events, and it spares an HMAC per person reference of every event.
  std::unordered_map<std::string, std::string, StringHash, std::equal_to<>> cache_;
  // Mappings of the batch being written, by identity: its latest pseudonym, or "" = erased.
  // Hashed: a first import of a large organisation has thousands in one batch.
  std::unordered_map<std::string, std::string, StringHash, std::equal_to<>> pending_;
};

}  // namespace teamhealth::eventlog
