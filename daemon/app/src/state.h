#pragma once

#include <memory>

#include "teamhealth/base/result.h"
#include "teamhealth/config/config.h"
#include "teamhealth/eventlog/event_log.h"
#include "teamhealth/logging/logging.h"
#include "teamhealth/storage/store.h"

namespace teamhealth::app {

// A config's state directory opened for writing: the store and the event log over it. The
// log is declared after the store, so it is destroyed first.
struct WritableLog {
  std::unique_ptr<storage::Store> store;
  std::unique_ptr<eventlog::EventLog> log;
};

// Opens the state directory of `config` for writing as `serve` does: the identity key is
// required (storage.identity_key_file, outside the state directory), the store takes the
// directory's lock (an error names the directory while a daemon holds it), writes are fsync'd
// per storage.sync_writes, and a log written before keying is keyed in place. The time and
// subject indexes catch up with the log (EventLog::IndexAll). Then records the config's
// directory (RecordDirectory). Used by `serve` (Daemon::Build) and `import`.
Result<WritableLog> OpenWritableLog(const config::Config& config, const logging::Loggers& loggers);

}  // namespace teamhealth::app
