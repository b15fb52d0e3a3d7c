#include "teamhealth/eventlog/indexer.h"

namespace teamhealth::eventlog {

Status Indexer::Run(const std::atomic<bool>& stop) {
  while (!stop.load(std::memory_order_acquire)) {
    auto n = log_.IndexThrough(options_.batch_events);
    if (!n) {
      if (!n.error().no_space()) return n.error();
      Wait(options_.no_space_retry);
      continue;
    }
    if (*n > 0) {
      if (on_indexed_) on_indexed_(log_.IndexedSequence());
      continue;  // there may be more: no wait while behind
    }
    Wait(options_.poll);
  }
  return Status::Ok();
}

void Indexer::Wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  wake_.notify_all();
}

void Indexer::Wait(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  wake_.wait_for(lock, d, [&] { return woken_; });
  woken_ = false;
}

}  // namespace teamhealth::eventlog
