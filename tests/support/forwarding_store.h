#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "teamhealth/storage/store.h"

namespace teamhealth::testing {

// A Store that passes every call to a real one: the base of test stores that change one
// behaviour (FullDiskStore's writes, a gate before each write). Borrows `inner`, which must
// outlive it. Thread-safe as far as `inner` is.
class ForwardingStore : public storage::Store {
 public:
  explicit ForwardingStore(storage::Store& inner) : inner_(inner) {}

  Status Write(storage::WriteBatch& batch) override { return inner_.Write(batch); }
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

 protected:
  storage::Store& inner_;
};

}  // namespace teamhealth::testing
