#pragma once

// The generator's private model: a portable RNG, the organisation (teams, people, their
// identities) and the things the simulation tracks (tickets, pull requests, incidents).

#include <cstdint>
#include <string>
#include <vector>

#include "teamhealth/base/time.h"
#include "teamhealth/generate/generator.h"

namespace teamhealth::generate::internal {

constexpr int64_t kMinuteMs = 60'000;
constexpr int64_t kHourMs = 60 * kMinuteMs;
constexpr int64_t kDayMs = 24 * kHourMs;

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

struct Team {
  std::string name, zone, jira_key, repo, service_id, schedule_id, policy_id, channel;
  int utc_offset_min = 0;  // standard time; see README on daylight saving
  bool overloaded = false;
  std::vector<int> members;  // indexes into Org::people
};

struct Person {
  int team = 0;
  std::string handle, display, jira, github, slack, pagerduty;
  int utc_offset_min = 0;
};

struct Org {
  std::vector<Team> teams;
  std::vector<Person> people;
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
