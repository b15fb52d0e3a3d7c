// The people directory's history in the log: directory.person_upserted / person_erased.
#include <algorithm>
#include <set>

#include "teamhealth/base/hash.h"
#include "teamhealth/eventlog/event_log.h"
#include "teamhealth/eventlog/keys.h"

namespace teamhealth::eventlog {
namespace {

using storage::Column;

// Meta key of a person's last recorded directory entry: revision (u64 BE) + content hash.
std::string StateKey(const std::string& pseudonym) { return "d" + pseudonym; }
constexpr std::string_view kLeft = "left";

void AddList(schema::Event& e, const std::string& name, const std::vector<std::string>& values) {
  auto* a = e.add_attrs();
  a->set_name(name);
  auto* list = a->mutable_value()->mutable_list_value();
  for (const auto& v : values) list->add_values(v);
}

void AddString(schema::Event& e, const std::string& name, const std::string& value) {
  auto* a = e.add_attrs();
  a->set_name(name);
  a->mutable_value()->set_string_value(value);
}

schema::Event Upsert(const std::string& pseudonym, uint64_t rev, EpochMillis now,
                     const DirectoryPerson* person, const std::vector<std::string>& aliases) {
  schema::Event e;
  e.set_id("directory:" + pseudonym + ":" + std::to_string(rev));
  e.set_source("directory");
  e.set_type("directory.person_upserted");
  e.set_occurred_at_ms(now);
  e.mutable_subject()->set_kind("person");
  e.mutable_subject()->set_id(pseudonym);
  // Sorted by name, as every event's attributes are.
  AddList(e, "aliases", aliases);
  if (person) {
    AddString(e, "sleep_hours", person->sleep_hours);
    AddList(e, "teams", person->teams);
    AddString(e, "timezone", person->timezone);
    AddList(e, "working_days", person->working_days);
    AddString(e, "working_hours", person->working_hours);
  } else {
    AddList(e, "teams", {});  // left the directory
  }
  return e;
}

std::string ContentOf(const DirectoryPerson& p) {
  std::string c;
  for (const auto& t : p.teams) c += t + '\x1f';
  c += '\x1e' + p.timezone + '\x1e' + p.working_hours + '\x1e' + p.sleep_hours + '\x1e';
  for (const auto& d : p.working_days) c += d + '\x1f';
  return ContentHash(c);
}

}  // namespace

Result<int> EventLog::SyncDirectory(const std::vector<DirectoryPerson>& people, EpochMillis now) {
  storage::WriteBatch wb;
  uint64_t seq = last_seq_.load(std::memory_order_relaxed);
  std::string scratch;
  Counters delta;
  std::set<std::string> present;
  int changed = 0;

  auto record = [&](const std::string& pseudonym, const DirectoryPerson* person,
                    const std::vector<std::string>& aliases, const std::string& content) -> Status {
    auto prev = store_.Get(Column::kMeta, StateKey(pseudonym));
    if (!prev) return prev.error();
    uint64_t rev = 0;
    std::string prev_content;
    if (*prev) {
      rev = keys::ReadU64(**prev).value_or(0);
      prev_content = (*prev)->substr(8);
    }
    if (prev_content == content && aliases.empty()) return Status::Ok();
    ++rev;
    schema::Event e = Upsert(pseudonym, rev, now, person, aliases);
    PutEvent(e, ++seq, wb, scratch);
    std::string state;
    keys::AppendU64(state, rev);
    wb.Put(Column::kMeta, StateKey(pseudonym), state + content);
    delta.ingested["directory"] += 1;
    ++changed;
    return Status::Ok();
  };

  for (const auto& person : people) {
    auto handle_key = identities_.HandleKey(person.handle);
    if (!handle_key) {
      identities_.Rollback();
      return handle_key.error();
    }
    auto stored = store_.Get(Column::kIdentities, *handle_key);
    if (!stored) return stored.error();
    std::vector<std::optional<std::string>> known;
    for (const auto& id : person.identities) {
      auto f = identities_.Find(id);
      if (!f) return f.error();
      known.push_back(*f);
    }
    std::string pseudonym;
    if (*stored) {
      pseudonym = **stored;
    } else {
      // Reuse a pseudonym the person's events already carry, so their history stays linked.
      for (const auto& k : known) {
        if (k && pseudonym.empty()) pseudonym = *k;
      }
      if (pseudonym.empty()) pseudonym = identities_.NewPseudonym();
      wb.Put(Column::kIdentities, *handle_key, pseudonym);
    }
    std::vector<std::string> aliases;
    for (size_t i = 0; i < person.identities.size(); ++i) {
      if (known[i] && *known[i] == pseudonym) continue;
      if (known[i]) aliases.push_back(*known[i]);  // earlier events of this person
      if (auto s = identities_.Assign(person.identities[i], pseudonym, wb); !s) {
        identities_.Rollback();
        return s.error();
      }
    }
    std::sort(aliases.begin(), aliases.end());
    aliases.erase(std::unique(aliases.begin(), aliases.end()), aliases.end());
    present.insert(pseudonym);
    if (auto s = record(pseudonym, &person, aliases, ContentOf(person)); !s) {
      identities_.Rollback();
      return s.error();
    }
  }

  // People recorded before but absent now have left the directory.
  std::vector<std::string> left;
  auto it = store_.NewIterator(Column::kMeta);
  for (it->Seek("dp:"); it->Valid() && it->key().starts_with("dp:"); it->Next()) {
    const std::string pseudonym(it->key().substr(1));
    if (!present.contains(pseudonym) && it->value().substr(8) != kLeft) {
      left.push_back(pseudonym);
    }
  }
  for (const auto& pseudonym : left) {
    if (auto s = record(pseudonym, nullptr, {}, std::string(kLeft)); !s) {
      identities_.Rollback();
      return s.error();
    }
  }

  // New identity mappings must be written even when no entry changed (an identity added to a
  // person whose teams, zone and hours stayed the same).
  if (wb.Count() == 0) {
    identities_.Rollback();
    return 0;
  }
  Counters next = MergeCounters(delta, wb);
  const bool appends_events = seq != last_seq_.load(std::memory_order_relaxed);
  if (appends_events) StageIndexCheckpoint(wb);
  if (auto s = WriteWithIdentities(wb); !s) return s.error();
  if (appends_events) IndexCheckpointStored();
  counters_ = std::move(next);
  last_seq_.store(seq, std::memory_order_release);
  return changed;
}

Result<std::map<std::string, std::string>> EventLog::NamesOf(
    const std::vector<DirectoryPerson>& people) {
  std::map<std::string, std::string> names;
  for (const auto& person : people) {
    auto handle_key = identities_.HandleKey(person.handle);
    if (!handle_key) return handle_key.error();
    auto stored = store_.Get(Column::kIdentities, *handle_key);
    if (!stored) return stored.error();
    if (*stored) names[**stored] = person.handle;
    for (const auto& id : person.identities) {
      auto p = identities_.Find(id);
      if (!p) return p.error();
      if (*p) names[**p] = person.handle;
    }
  }
  return names;
}

Result<bool> EventLog::Erase(std::string_view handle, const std::vector<std::string>& identities,
                             EpochMillis now) {
  auto handle_key = identities_.HandleKey(handle);
  if (!handle_key) return handle_key.error();
  auto stored = store_.Get(Column::kIdentities, *handle_key);
  if (!stored) return stored.error();
  if (!*stored) return false;
  const std::string pseudonym = **stored;

  storage::WriteBatch wb;
  wb.Delete(Column::kIdentities, *handle_key);
  for (const auto& id : identities) {
    if (auto s = identities_.Forget(id, wb); !s) {
      identities_.Rollback();
      return s.error();
    }
  }
  // Identities no longer listed in the config may still point at the pseudonym.
  auto it = store_.NewIterator(Column::kIdentities);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->value() == pseudonym) wb.Delete(Column::kIdentities, it->key());
  }
  wb.Delete(Column::kMeta, StateKey(pseudonym));

  schema::Event e;
  e.set_id("directory:erased:" + pseudonym);
  e.set_source("directory");
  e.set_type("directory.person_erased");
  e.set_occurred_at_ms(now);
  e.mutable_subject()->set_kind("person");
  e.mutable_subject()->set_id(pseudonym);
  uint64_t seq = last_seq_.load(std::memory_order_relaxed) + 1;
  std::string scratch;
  PutEvent(e, seq, wb, scratch);
  Counters delta;
  delta.ingested["directory"] = 1;
  Counters next = MergeCounters(delta, wb);
  StageIndexCheckpoint(wb);
  if (auto s = WriteWithIdentities(wb); !s) return s.error();
  IndexCheckpointStored();
  identities_.ClearCache();  // other identities may have pointed at the pseudonym
  counters_ = std::move(next);
  last_seq_.store(seq, std::memory_order_release);
  if (auto s = store_.FlushAndCompact(); !s) return s.error();
  return true;
}

}  // namespace teamhealth::eventlog
