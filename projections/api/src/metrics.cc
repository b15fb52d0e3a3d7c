#include "teamhealth/projections/metrics.h"

#include <deque>
#include <functional>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "series_key.h"

namespace teamhealth::projections {
namespace {

// The interned series. A deque never moves its elements as it grows, so every Series handed
// out stays where it is; ids are positions in it.
class SeriesTable {
 public:
  const Series& Intern(std::string_view name, const Labels& labels) {
    std::string key;
    detail::SeriesKey(name, labels, key);
    {
      std::shared_lock read(mutex_);
      if (auto it = by_key_.find(key); it != by_key_.end()) return *it->second;
    }
    std::unique_lock write(mutex_);
    // Another thread may have interned it between the two locks.
    if (auto it = by_key_.find(key); it != by_key_.end()) return *it->second;
    const auto id = static_cast<uint32_t>(series_.size());
    const Series& added = series_.emplace_back(Series{id, std::string(name), labels});
    by_key_.emplace(std::move(key), &added);
    return added;
  }

 private:
  std::shared_mutex mutex_;
  std::deque<Series> series_;
  std::unordered_map<std::string, const Series*> by_key_;
};

}  // namespace

const Series& InternSeries(std::string_view name, const Labels& labels) {
  // Never destroyed: a projection's cached `const Series*` may be used until the very end,
  // by whatever static or thread is last.
  static SeriesTable* const table = new SeriesTable;
  return table->Intern(name, labels);
}

}  // namespace teamhealth::projections
