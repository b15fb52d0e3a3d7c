#pragma once

#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "teamhealth/base/result.h"
#include "teamhealth/storage/store.h"

namespace teamhealth::eventlog {

// Maps source identities ("slack:U024BE7LH") to random per-person pseudonyms
// ("p:9f1c2a7e4b3d5e60") in the identities column (docs/design.md section 6). Keys hold a hash of the
// identity, never the identity itself, so no raw identity is stored anywhere; deleting the
// keys (erase) leaves the pseudonym in past events with nothing that links it to a person.
//
// Borrows the Store. Not thread-safe: used by the log's single writer.
class Identities final {
 public:
  explicit Identities(storage::Store& store) : store_(store), rng_(std::random_device{}()) {}

  // The pseudonym of `ref`, creating one if it is new. New mappings are written into `batch`
  // and only become visible to later calls once Commit() confirms the batch was written.
  Result<std::string> Resolve(std::string_view ref, storage::WriteBatch& batch);
  // Points `ref` at `pseudonym` (directory sync), in `batch`.
  void Assign(std::string_view ref, const std::string& pseudonym, storage::WriteBatch& batch);
  // The pseudonym of `ref` if it has one (pending or stored).
  Result<std::optional<std::string>> Find(std::string_view ref);
  // Removes the mapping of `ref`, in `batch`.
  void Forget(std::string_view ref, storage::WriteBatch& batch);

  void Commit();    // the batch holding the pending mappings was written
  void Rollback();  // it was not

  std::string NewPseudonym();
  // Column key of an identity (or of a directory handle: "h" + the same hash).
  static std::string IdentityKey(std::string_view ref);
  static std::string HandleKey(std::string_view handle);

 private:
  storage::Store& store_;
  std::mt19937_64 rng_;
  // Cache of committed mappings: bounded by the number of identities (people), not events.
  std::unordered_map<std::string, std::string> cache_;
  std::vector<std::pair<std::string, std::string>> pending_;  // (key, pseudonym or "" = erased)
};

}  // namespace teamhealth::eventlog
