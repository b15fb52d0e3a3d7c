#pragma once

#include <atomic>
#include <chrono>
#include <thread>

#include "forwarding_store.h"

namespace teamhealth::testing {

// A Store over a real one whose writes fail as on a full disk while `full` is set: each
// Write returns an ErrorKind::kNoSpace error (what storage returns for RocksDB's NoSpace) and
// writes nothing; reads always go through. Borrows `inner`, which must outlive it.
// Thread-safe as far as `inner` is; `full` may be flipped from any thread.
class FullDiskStore final : public ForwardingStore {
 public:
  explicit FullDiskStore(storage::Store& inner) : ForwardingStore(inner) {}

  std::atomic<bool> full{false};
  std::atomic<int> failed_writes{0};     // writes refused while full
  std::atomic<int> succeeded_writes{0};  // writes that reached `inner`
  std::atomic<int> write_delay_ms{0};    // each write first waits this long (a slow fsync)

  Status Write(storage::WriteBatch& batch) override {
    if (const int ms = write_delay_ms.load(); ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    }
    if (full.load()) {
      ++failed_writes;
      return Error(ErrorKind::kNoSpace,
                   "write to /test/state: IO error: No space left on device (injected)");
    }
    Status s = inner_.Write(batch);
    if (s) ++succeeded_writes;
    return s;
  }
};

}  // namespace teamhealth::testing
