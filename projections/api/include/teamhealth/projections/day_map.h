#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace teamhealth::projections {

// Values by day number, in order, in one sorted vector: the few dozen recent days a projection
// keeps per person (burnout's days and worked quarter hours, context switching's days). The
// common case, a day at or after the newest, is settled at the vector's end; a B-tree walked
// from its root at every activity took a cache miss per level (issue 13). The subset of
// std::map's interface those projections use; an insert or erase moves entries, so no pointer
// into them is kept across one.
template <typename V>
class DayMap {
 public:
  using value_type = std::pair<int64_t, V>;
  using iterator = typename std::vector<value_type>::iterator;
  using const_iterator = typename std::vector<value_type>::const_iterator;
  using const_reverse_iterator = typename std::vector<value_type>::const_reverse_iterator;

  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }
  iterator begin() { return entries_.begin(); }
  iterator end() { return entries_.end(); }
  const_iterator begin() const { return entries_.begin(); }
  const_iterator end() const { return entries_.end(); }
  const_reverse_iterator rbegin() const { return entries_.rbegin(); }

  // The first day at or after `day`.
  iterator lower_bound(int64_t day) {
    if (entries_.empty() || entries_.back().first < day) return entries_.end();
    return std::lower_bound(entries_.begin(), entries_.end(), day, Before);
  }
  const_iterator lower_bound(int64_t day) const {
    return const_cast<DayMap*>(this)->lower_bound(day);
  }
  iterator find(int64_t day) {
    auto it = lower_bound(day);
    return it != entries_.end() && it->first == day ? it : entries_.end();
  }
  const_iterator find(int64_t day) const { return const_cast<DayMap*>(this)->find(day); }

  // The entry of `day`, value-initialised if it was not there, and whether it was added.
  std::pair<iterator, bool> try_emplace(int64_t day) {
    if (!entries_.empty() && entries_.back().first == day) return {entries_.end() - 1, false};
    auto it = lower_bound(day);
    if (it != entries_.end() && it->first == day) return {it, false};
    return {entries_.emplace(it, day, V{}), true};
  }
  V& operator[](int64_t day) { return try_emplace(day).first->second; }

  iterator erase(const_iterator it) { return entries_.erase(it); }
  iterator erase(const_iterator first, const_iterator last) { return entries_.erase(first, last); }

 private:
  static bool Before(const value_type& entry, int64_t day) { return entry.first < day; }

  std::vector<value_type> entries_;
};

}  // namespace teamhealth::projections
