#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "event_view.h"
#include "absl/container/flat_hash_map.h"
#include "teamhealth/projections/short_key.h"
#include "teamhealth/projections/string_map.h"
#include "teamhealth/base/time.h"

namespace date {
class time_zone;
}

namespace teamhealth::projections {

// Local time pieces of an instant: day number (days since 1970-01-01 in the zone), minute of
// day, weekday (0 = Monday).
struct LocalTime {
  int64_t day;
  int minute;
  int weekday;
};

// An IANA zone (unknown names are UTC) with the offset period it last looked up: the instants
// asked about one person mostly fall in the same period, which then costs an addition rather
// than a search of the zone's transitions by name (callgrind, replay_bench: about 270
// instructions per ToLocal by name). Const, but not thread-safe: Local() updates the cache.
class ZoneClock {
 public:
  explicit ZoneClock(std::string_view timezone = "UTC");
  LocalTime Local(EpochMillis at) const;

 private:
  const date::time_zone* zone_;
  mutable EpochMillis begin_ = 0, end_ = 0;  // [begin_, end_) has offset_ms_; empty at first
  mutable int64_t offset_ms_ = 0;
};

// When a person works and sleeps, in their own time zone.
struct WorkPattern {
  std::string timezone = "UTC";
  uint8_t working_days = 0x1f;  // bit 0 = Monday ... bit 6 = Sunday
  int work_start_min = 8 * 60;  // minutes after local midnight
  int work_end_min = 18 * 60;
  int sleep_start_min = 22 * 60;  // may wrap midnight
  int sleep_end_min = 8 * 60;
};

// One directory entry of a person, valid from `since` until the next one.
struct PersonEntry {
  EpochMillis since = 0;
  std::vector<std::string> teams;  // empty: not in the directory (then "unmapped")
  WorkPattern pattern;
  ZoneClock clock;  // pattern.timezone's, set by the DirectoryView with the pattern
  // The DirectoryView's id of team() (DirectoryView::TeamId), so that a projection reaches its
  // state of the team by index rather than by hashing the name (issue 13).
  uint32_t team_id = 0;
  // The ids of `teams`, in their order: whether two people share a team is asked per chat
  // message target (context switching's on-call bypass) by comparing ids, not names.
  std::vector<uint32_t> team_ids;

  LocalTime Local(EpochMillis at) const { return clock.Local(at); }
  // The first team, or "unmapped".
  const std::string& team() const;
};

// A person key's dense number in one DirectoryView (Intern): what the pipeline stamps on an
// event's actor (schema::EventView::actor_id) so that the projections reach the person's entry
// and their own state by index instead of hashing the key again (issue 13).
using PersonId = schema::PersonId;

enum class Period { kBusiness, kOffHours, kSleep };
std::string_view PeriodName(Period p);

// The people directory as the log recorded it (directory.person_upserted events), so that a
// question about last March uses last March's teams and time zones. Keyed by person key (the
// Pipeline resolves every reference to one before asking; aliases are its business, not this
// view's). Services and projects map to teams from the config (not historised).
// Not thread-safe.
class DirectoryView final {
 public:
  DirectoryView(std::map<std::string, std::string> services,
                std::map<std::string, std::string> projects, WorkPattern defaults);

  // Feeds a directory.* event; other events are ignored.
  void Apply(const schema::EventView& e);

  // What-if: every person's (and the default) sleep or working hours replaced, in minutes after
  // local midnight. Applies to entries fed afterwards and to strangers.
  void OverrideHours(std::optional<std::pair<int, int>> sleep,
                     std::optional<std::pair<int, int>> working);

  // The id of person key `key`, given at its first sight (a stranger's too) and kept for the
  // view's lifetime: Apply and Load change histories, never ids. Dense from 0; one per actor
  // key ever applied (people and strangers, never forgotten: the number of identities, not of
  // events); kNoPersonId once 2^32 - 1 are given.
  PersonId Intern(std::string_view key);

  // The id of team name `team`, given at its first sight and kept for the view's lifetime
  // (one per team name ever seen, "unmapped" being 0): what PersonEntry::team_id holds.
  uint32_t TeamId(std::string_view team);

  // The person's entry in force at `at` (defaults and no teams for strangers).
  const PersonEntry& EntryAt(std::string_view pseudonym, EpochMillis at) const;
  // The same by id (Intern); an id this view never gave is a stranger.
  const PersonEntry& EntryAt(PersonId id, EpochMillis at) const;
  // The entry of `e`'s actor: by the id the pipeline stamped on it, else by key.
  const PersonEntry& EntryAt(const schema::EventView& e, EpochMillis at) const;
  // The person's first team at `at`, or "unmapped".
  const std::string& TeamAt(std::string_view pseudonym, EpochMillis at) const;
  // All teams of the person at `at` (["unmapped"] for strangers).
  std::vector<std::string> TeamsAt(std::string_view pseudonym, EpochMillis at) const;
  Period PeriodAt(std::string_view pseudonym, EpochMillis at) const;
  // Local calendar day (days since 1970-01-01 in the person's zone) and whether it is a
  // working day for them.
  int64_t LocalDay(std::string_view pseudonym, EpochMillis at) const;
  bool IsWorkingDay(std::string_view pseudonym, EpochMillis at) const;

  // The team a service or project of `source` maps to (config "source:name"), or nullptr.
  const std::string* ServiceTeam(std::string_view source, std::string_view service) const;
  const std::string* ProjectTeam(std::string_view source, std::string_view project) const;

  // Members of `team` at `at`.
  std::vector<std::string> Members(std::string_view team, EpochMillis at) const;
  // The number of members of every team at `at` (teams without members left out): one pass
  // over the people, where Members for each team is one pass per team.
  std::map<std::string, int> MemberCounts(EpochMillis at) const;
  std::vector<std::string> Teams() const;  // every team ever seen in the directory

  std::string Save() const;
  bool Load(std::string_view bytes);

 private:
  // Sets `entry`'s team_id and team_ids from its teams.
  void SetTeamIds(PersonEntry& entry);

  // By source, then service or project name: looked up by views, without building the
  // "source:name" key (flow asks for an item's team at each of its changes).
  StringMap<StringMap<std::string>> services_;
  StringMap<StringMap<std::string>> projects_;
  PersonEntry stranger_;
  // Every person key interned, directory people and strangers alike (Save leaves strangers
  // out), and each id's history by time (empty for a stranger). Members and Save sort.
  StringMap<PersonId> ids_;
  // The ids_ of keys of at most ShortKey::kMaxSize bytes (pseudonyms are), again: looked up in
  // one flat probe at every event (Intern, EntryAt). Intern is the only writer of both.
  absl::flat_hash_map<ShortKey, PersonId> short_ids_;
  std::vector<std::vector<PersonEntry>> history_;
  StringMap<uint32_t> team_ids_;  // TeamId
  std::optional<std::pair<int, int>> sleep_override_;
  std::optional<std::pair<int, int>> working_override_;
};

// Parses "HH:MM-HH:MM" into minutes; false if malformed.
bool ParseHourRange(std::string_view text, int& start_min, int& end_min);
// Local time pieces of `at` in `timezone` (IANA). Unknown zones are treated as UTC. By name:
// the projections ask a PersonEntry, whose clock knows its zone.
LocalTime ToLocal(std::string_view timezone, EpochMillis at);
// The period of `local` (the pattern's zone's local time of the instant) in `pattern`.
Period ClassifyPeriod(const WorkPattern& pattern, const LocalTime& local);
// The period of `at` for `entry`'s person.
Period ClassifyPeriod(const PersonEntry& entry, EpochMillis at);

}  // namespace teamhealth::projections
