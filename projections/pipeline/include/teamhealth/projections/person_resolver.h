#pragma once

#include <map>
#include <string>
#include <string_view>

#include "event_view.h"

namespace teamhealth::projections {

// The one step that turns person references into person keys (docs/design.md section 5).
// A directory.person_upserted event names a person by its subject id (the person key: the
// log's pseudonym, or the first identity in a file of canonical events) and lists `aliases`:
// other references that belong to the same person (identities, or pseudonyms that history
// recorded before the directory listed that identity). Every reference resolves to the key of
// the person owning it, else to itself (a stranger: team `unmapped`).
//
// Owned by the Pipeline; not thread-safe.
class PersonResolver final {
 public:
  // Learns the aliases of a directory.person_upserted (other events are ignored). Returns
  // true when a reference now resolves to a different key than before: events already
  // applied under the old key no longer agree with a replay, so the caller must rebuild.
  bool Learn(const schema::EventView& e);

  // The person key of `ref` (a view into the resolver or into `ref`).
  std::string_view Resolve(std::string_view ref) const;

  // Rewrites every person reference of `e` (EventView::ForEachPersonRef) to its person key: a
  // view into this resolver, valid until the next Learn() or Load().
  void Resolve(schema::EventView& e) const;

  bool empty() const { return key_of_.empty(); }
  std::string Save() const;
  bool Load(std::string_view bytes);

 private:
  std::map<std::string, std::string, std::less<>> key_of_;  // alias -> person key
};

}  // namespace teamhealth::projections
