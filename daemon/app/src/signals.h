#pragma once

#include <atomic>
#include <thread>

#include "teamhealth/logging/logging.h"

namespace teamhealth::app {

// Blocks SIGTERM, SIGINT, SIGHUP and SIGUSR1 in the calling thread (and so in every thread it
// starts afterwards) and ignores SIGPIPE. Call before any thread starts.
void BlockSignals();

// Waits for the blocked signals on a dedicated thread: SIGTERM/SIGINT raise `stop` (the
// ingest loop finishes its batch in flight and returns), SIGHUP raises `reload`.
class SignalWatcher final {
 public:
  SignalWatcher(std::atomic<bool>& stop, std::atomic<bool>& reload, logging::Logger logger);
  ~SignalWatcher();

 private:
  std::atomic<bool>& stop_;
  std::atomic<bool>& reload_;
  std::thread thread_;
};

}  // namespace teamhealth::app
