#include "state.h"

#include "daemon.h"

namespace teamhealth::app {

Result<WritableLog> OpenWritableLog(const config::Config& config,
                                    const logging::Loggers& loggers) {
  const auto logger = loggers.Get("app");
  // The identities column is keyed (docs/design.md section 6): no key, no writing.
  if (config.storage.identity_key_file.empty()) {
    return Error(
        "storage.identity_key_file is not set: the log keys the hashes of people's identities "
        "with a secret kept outside the state directory. Create one with `head -c 32 "
        "/dev/urandom > /etc/teamhealth/identity.key; chmod 600 /etc/teamhealth/identity.key` "
        "and name it in [storage]");
  }
  auto key = eventlog::IdentityKey::FromFile(config.storage.identity_key_file, config.storage.dir);
  if (!key) return key.error();
  WritableLog out;
  auto store = storage::Store::Open(
      {config.storage.dir, false, config.storage.sync_writes, loggers.Get("storage")});
  if (!store) return Error("cannot open the state directory: " + store.error().message());
  out.store = std::move(*store);
  auto log = eventlog::EventLog::Open(*out.store, {.identity_key = std::move(*key)});
  if (!log) return Error("cannot open the event log: " + log.error().message());
  out.log = std::move(*log);
  logger->info("Opened the event log. dir={} last_sequence={}", config.storage.dir,
               out.log->LastSequence().value());
  if (const uint64_t keyed = out.log->identities_keyed_at_open(); keyed > 0) {
    logger->info("Keyed the identities column with storage.identity_key_file (once). "
                 "identities={}",
                 keyed);
  }
  // The indexes catch up with what the last run left unindexed, so readers (the metric facts,
  // reports) start with a short tail to merge; serve's and import's indexer keep them so. Not
  // the compact column: on a log written before it, that is a pass over the whole log, which
  // the indexer does in the background (replays read the log meanwhile).
  auto indexed = out.log->IndexAll(50000, /*with_column=*/false);
  if (!indexed && !indexed.error().no_space()) {
    return Error("cannot index the event log: " + indexed.error().message());
  }
  if (!indexed) {
    // Readers stay exact without it; the indexer retries once there is space.
    logger->warn("Cannot index the event log yet: no space left in the state directory. "
                 "error=\"{}\"",
                 indexed.error().message());
  } else if (*indexed > 0) {
    logger->info("Indexed the events the last run left unindexed. events={} indexed_sequence={}",
                 *indexed, out.log->IndexedSequence().value());
  }
  if (auto s = RecordDirectory(*out.log, config.directory, logger); !s) {
    return Error("cannot record the directory: " + s.error().message());
  }
  return out;
}

}  // namespace teamhealth::app
