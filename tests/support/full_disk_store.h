#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "teamhealth/storage/store.h"

namespace teamhealth::testing {

// A Store over a real one whose writes fail as on a full disk while `full` is set: each
// Write returns an ErrorKind::kNoSpace error (what storage returns for RocksDB's NoSpace) and
// writes nothing; reads always go through. Borrows `inner`, which must outlive it.
// Thread-safe as far as `inner` is; `full` may be flipped from any thread.
class FullDiskStore final : public storage::Store {
 public:
  explicit FullDiskStore(storage::Store& inner) : inner_(inner) {}

  std::atomic<bool> full{false};
  std::atomic<int> failed_writes{0};     // writes refused while full
  std::atomic<int> succeeded_writes{0};  // writes that reached `inner`

  Status Write(storage::WriteBatch& batch) override {
    if (full.load()) {
      ++failed_writes;
      return Error(ErrorKind::kNoSpace,
                   "write to /test/state: IO error: No space left on device (injected)");
    }
    Status s = inner_.Write(batch);
    if (s) ++succeeded_writes;
    return s;
  }
  Result<std::optional<std::string>> Get(storage::Column column, std::string_view key) override {
    return inner_.Get(column, key);
  }
  Result<std::vector<std::optional<std::string>>> MultiGet(
      storage::Column column, std::span<const std::string> keys) override {
    return inner_.MultiGet(column, keys);
  }
  std::unique_ptr<storage::Iterator> NewIterator(storage::Column column) override {
    return inner_.NewIterator(column);
  }
  std::unique_ptr<storage::ReadView> NewReadView() override { return inner_.NewReadView(); }
  Status FlushAndCompact() override { return inner_.FlushAndCompact(); }

 private:
  storage::Store& inner_;
};

}  // namespace teamhealth::testing
