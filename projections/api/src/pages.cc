#include "teamhealth/projections/pages.h"

#include <cstdlib>

#include "teamhealth/projections/bytes.h"
#include "teamhealth/projections/event_access.h"

namespace teamhealth::projections {

std::vector<PageTracker::Page> PageTracker::Apply(const EventView& e) {
  std::vector<Page> pages;
  const std::string_view type = e.type();
  if (type != "incident.triggered" && type != "incident.escalated" &&
      type != "incident.reassigned" && type != "incident.delegated") {
    return pages;
  }
  const EpochMillis at = e.occurred_at_ms();
  const std::string_view key = SubjectKey(e, key_);
  auto [it, fresh] = FindOrInsert(incidents_, key);
  Incident& inc = it->second;
  expiry_.Update(key, !fresh, inc.last_at, true, at);  // every incident is prunable
  inc.last_at = at;
  const auto assignees = ListAttr(e, AttrName::kAssignees);
  for (const auto& p : assignees) {
    if (inc.assignees.contains(p)) continue;
    auto [it, first] = FindOrInsert(last_page_, p);
    const bool merged = !first && std::abs(at - it->second) < merge_ms_;
    it->second = at;
    pages.push_back({std::string(p), !merged});
  }
  inc.assignees = std::set<std::string, std::less<>>(assignees.begin(), assignees.end());
  return pages;
}

// Forgets exactly the incidents with now - last_at > kKeep: every incident is noted at its
// last_at (a page that moves it notes it), the older notes of one paged again since are stale.
void PageTracker::Prune(EpochMillis now) {
  constexpr EpochMillis kKeep = 30LL * 86'400'000;
  expiry_.Expire(now - kKeep, [&](std::string_view key, EpochMillis at) {
    auto inc = incidents_.find(key);
    if (inc != incidents_.end() && inc->second.last_at == at) incidents_.erase(inc);
  });
}

std::string PageTracker::Save() const {
  std::string out;
  ByteWriter w(out);
  w.U64(incidents_.size());
  for (const auto* entry : SortedByKey(incidents_)) {
    const auto& [key, inc] = *entry;
    w.Str(key);
    w.I64(inc.last_at);
    w.U64(inc.assignees.size());
    for (const auto& a : inc.assignees) w.Str(a);
  }
  w.U64(last_page_.size());
  for (const auto* entry : SortedByKey(last_page_)) {
    const auto& [person, at] = *entry;
    w.Str(person);
    w.I64(at);
  }
  return out;
}

bool PageTracker::Load(std::string_view bytes) {
  ByteReader r(bytes);
  decltype(incidents_) incidents;
  decltype(last_page_) last_page;
  for (uint64_t n = r.U64(); r.ok() && n > 0; --n) {
    Incident& inc = incidents[r.Str()];
    inc.last_at = r.I64();
    for (uint64_t m = r.U64(); r.ok() && m > 0; --m) inc.assignees.insert(r.Str());
  }
  for (uint64_t n = r.U64(); r.ok() && n > 0; --n) {
    std::string person = r.Str();
    last_page[person] = r.I64();
  }
  if (!r.ok() || !r.done()) return false;
  incidents_ = std::move(incidents);
  last_page_ = std::move(last_page);
  expiry_.Clear();
  for (const auto& [key, inc] : incidents_) expiry_.Note(inc.last_at, key);
  return true;
}

}  // namespace teamhealth::projections
