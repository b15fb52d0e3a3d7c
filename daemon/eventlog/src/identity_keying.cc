// Keying the identities column (docs/design.md section 6): which hashing a log is opened with,
// the key check that recognises a wrong key, and the one-time keying of a log written before
// keying.
#include "teamhealth/eventlog/event_log.h"

namespace teamhealth::eventlog {
namespace {

using storage::Column;

// Meta key present once the identities column is keyed. Its value is the key check: the HMAC of
// a fixed label under the key. It says nothing about the key, and a different key gives a
// different value, so a wrong key is refused at open instead of silently giving every person
// a new pseudonym.
constexpr std::string_view kKeyedMarker = "identities/v2-keyed";
constexpr std::string_view kKeyCheckLabel = "teamhealth identity key check v1";
// Meta key present from the write that keyed the column until the compaction that physically
// removed its unkeyed keys (they stay in SST and WAL files until then); a crash in between
// compacts at the next open.
constexpr std::string_view kCompactPending = "identities/v2-compact-pending";

}  // namespace

Status EventLog::OpenIdentities(OpenOptions options) {
  auto marker = store_.Get(Column::kMeta, kKeyedMarker);
  if (!marker) return marker.error();
  if (!options.identity_key) {
    // Unkeyed (the default) serves a log written before keying; a keyed log without its key
    // can be read, but nobody can be looked up in it.
    if (*marker) identities_.Lock();
    return Status::Ok();
  }
  const std::string check = options.identity_key->Mac(kKeyCheckLabel);
  if (*marker) {
    if (**marker != check) {
      return Error(options.identity_key->origin() +
                   ": not the key this log's identities were keyed with (the key check in the "
                   "meta column differs). Start with the original key file: another key would "
                   "give every person a new pseudonym");
    }
  } else if (options.read_only) {
    // Written before keying, and nothing may be written now: read it as it is, unkeyed, until
    // a writer opens it with the key.
    return Status::Ok();
  } else if (auto s = KeyIdentitiesInPlace(*options.identity_key, check); !s) {
    return s;
  }
  if (!options.read_only) {
    auto pending = store_.Get(Column::kMeta, kCompactPending);
    if (!pending) return pending.error();
    if (*pending) {
      if (auto s = store_.FlushAndCompact(); !s) return s;
      storage::WriteBatch done;
      done.Delete(Column::kMeta, kCompactPending);
      if (auto s = store_.Write(done); !s) return s;
    }
  }
  identities_.UseKey(std::move(*options.identity_key));
  return Status::Ok();
}

// Every unkeyed column key becomes its keyed form, pointing at the same pseudonym, in ONE write
// together with the key check: a crash leaves either the old column or the new one. Events are
// not touched (they hold pseudonyms, which do not change).
Status EventLog::KeyIdentitiesInPlace(const IdentityKey& key, const std::string& check) {
  storage::WriteBatch wb;
  uint64_t keyed = 0;
  auto it = store_.NewIterator(Column::kIdentities);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string_view old_key = it->key();
    if (!Identities::IsUnkeyedKey(old_key)) {
      return Error("the identities column holds a key of " + std::to_string(old_key.size()) +
                   " bytes that is not an unkeyed identity hash, but the column is not marked "
                   "keyed; refusing to key it");
    }
    wb.Put(Column::kIdentities, Identities::KeyedKey(key, old_key), it->value());
    wb.Delete(Column::kIdentities, old_key);
    ++keyed;
  }
  if (auto s = it->status(); !s) return s;
  wb.Put(Column::kMeta, kKeyedMarker, check);
  if (keyed > 0) wb.Put(Column::kMeta, kCompactPending, {});
  if (auto s = store_.Write(wb); !s) return s;
  identities_keyed_at_open_ = keyed;
  return Status::Ok();
}

}  // namespace teamhealth::eventlog
