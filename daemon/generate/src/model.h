#pragma once

// The generator's private model: a portable RNG, the organisation (teams, people, their
// identities) and the things the simulation tracks (tickets, pull requests, incidents).

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "teamhealth/base/time.h"
#include "teamhealth/generate/generator.h"

namespace teamhealth::generate::internal {

constexpr int64_t kMinuteMs = 60'000;
constexpr int64_t kHourMs = 60 * kMinuteMs;
constexpr int64_t kDayMs = 24 * kHourMs;
constexpr int64_t kWeekMs = 7 * kDayMs;

// Days are counted from the epoch (in UTC, or in a person's zone for their local days).
inline int Weekday(int64_t day) { return static_cast<int>((day + 4) % 7); }  // 0 = Sunday
inline bool Weekend(int64_t day) { return Weekday(day) == 0 || Weekday(day) == 6; }

// The Slack channel of the DM between two people (the same whoever writes).
inline std::string DmChannel(int a, int b) {
  char channel[16];
  std::snprintf(channel, sizeof channel, "D%04d%04d", std::min(a, b), std::max(a, b));
  return channel;
}

// SplitMix64. The standard library's distributions differ between implementations, so
// every draw goes through this class to keep output identical on every platform.
class Rng final {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next();
  int Uniform(int n);           // [0, n); n > 0
  int Between(int lo, int hi);  // [lo, hi]
  double Real();                // [0, 1)
  bool Chance(double p) { return Real() < p; }
  std::string Id(int length, bool hex);  // uppercase alphanumerics, or lowercase hex

 private:
  uint64_t state_;
};

// A team's projects: its own, and a side project (shared tooling) that some engineers work on
// at the same time (the split attention of docs/design.md section 7.6).
enum Project { kMainProject = 0, kSideProject = 1 };

struct Team {
  std::string name, zone, jira_key, repo, service_id, schedule_id, policy_id, channel;
  // The side project: a Jira project and a GitHub repository, mapped to this team too.
  std::string side_jira_key, side_repo;
  int utc_offset_min = 0;  // standard time; see README on daylight saving
  bool overloaded = false;
  std::vector<int> members;  // indexes into Org::people

  const std::string& JiraKey(int project) const {
    return project == kSideProject ? side_jira_key : jira_key;
  }
  const std::string& Repo(int project) const { return project == kSideProject ? side_repo : repo; }
};

struct Person {
  int team = 0;
  std::string handle, display, jira, github, slack, pagerduty;
  int utc_offset_min = 0;
  // Works on items of the team's two projects at once (else mostly the main one).
  bool two_projects = false;
};

// The engineering teams and their people come first (team 0 is the overloaded one), then the
// non-engineering teams (support, sales) whose people only chat: they ask engineers things in
// business hours, and do no tracker or pager work, so the simulation's engineering loops stop
// at `engineering_teams` / `engineers`.
struct Org {
  std::vector<Team> teams;
  std::vector<Person> people;
  int engineering_teams = 0;
  int engineers = 0;

  bool Engineering(int person) const { return person < engineers; }
};

// Teams, people and identities. Identities depend on the person's position only, so the
// directory is the same for every seed of the same size.
Org BuildOrg(const Options& options);
std::string DirectoryToml(const Org& org, const Options& options);

// Jira workflow: index into kStatuses.
enum Status { kTodo = 0, kInProgress = 1, kInReview = 2, kDone = 3 };

struct Ticket {
  std::string id, key, summary, type;
  int team = 0;
  int project = kMainProject;
  int status = kTodo;
  int priority = 2;   // index into the Jira priorities (Highest..Lowest)
  int assignee = -1;  // -1: unassigned
  int reporter = 0;
  EpochMillis created = 0;
  int pr = -1;
};

struct PullRequest {
  int64_t id = 0;
  int number = 0;
  int team = 0;
  int project = kMainProject;  // its ticket's: the repository the pull request is in
  int author = 0;
  int ticket = -1;
  std::string title, branch;
  EpochMillis created = 0;
  bool open = true;
  bool approved = false;  // by someone other than the author
  std::vector<int> reviewers;
};

struct Incident {
  std::string id, key, title, urgency;
  int number = 0;
  int team = 0;
  int priority = -1;  // -1: none; else P1..P3
  EpochMillis created = 0;
  std::vector<int> assignees;
  std::string status = "triggered";
};

}  // namespace teamhealth::generate::internal
