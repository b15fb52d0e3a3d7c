#pragma once

// Vendor webhook bodies in the shapes of tests/fixtures/payloads (Jira Cloud, GitHub,
// Slack Events API, PagerDuty V3) and canonical oncall.shift, person.time_off and
// pulse.response events. Each builder returns a
// Record with its source, default topic, headers and compact JSON body.

#include <string>
#include <string_view>
#include <vector>

#include "model.h"
#include "teamhealth/base/json_writer.h"

namespace teamhealth::generate::internal {

// One Jira changelog item; values are ids (`from`/`to`) and display strings.
struct ChangeItem {
  std::string field, from, from_string, to, to_string;
  bool from_null = false, to_null = false;
};

constexpr int kAutomation = -2;  // actor: Automation for Jira (an app, not a person)
constexpr int kNobody = -1;      // actor: none (system)

// Builds bodies. Borrows the organisation (must outlive it); draws unique ids from its own
// counters and `rng`. Not thread-safe.
class Payloads final {
 public:
  // Serial ids start at `serial_base` + 100000.
  Payloads(const Org& org, Rng& rng, int64_t serial_base)
      : org_(org), rng_(rng), next_id_(100000 + serial_base) {}

  Record JiraCreated(const Ticket& t, EpochMillis at, int actor);
  Record JiraUpdated(const Ticket& t, EpochMillis at, int actor, std::string_view type_name,
                     const std::vector<ChangeItem>& items);
  Record JiraComment(const Ticket& t, EpochMillis at, int author);

  Record GitHubPr(const PullRequest& pr, EpochMillis at, std::string_view action, int sender);
  Record GitHubReview(const PullRequest& pr, EpochMillis at, int reviewer, std::string_view state);
  Record GitHubIssue(const Ticket& t, int number, EpochMillis at, std::string_view action,
                     int sender);

  // sender kNobody: a bot post. recipients: for DMs (channel_type "im").
  Record SlackMessage(std::string_view channel, std::string_view channel_type, int sender,
                      const std::vector<int>& mentions, const std::vector<int>& recipients,
                      EpochMillis at);

  Record PagerDuty(const Incident& inc, EpochMillis at, std::string_view event_type, int agent);

  Record Shift(const Team& team, int person, int level, EpochMillis start, EpochMillis end,
               EpochMillis at);
  // A person's time off [start, end), as an HR or calendar export sends it: `subject_id` is the
  // export's opaque id (a change or a cancellation repeats it), no actor (the export is a
  // system), the person by Slack reference.
  Record TimeOff(std::string_view subject_id, int person, EpochMillis start, EpochMillis end,
                 bool cancelled, EpochMillis at);
  // One anonymous pulse answer about `team`: no actor, no person, only the score.
  Record Pulse(const Team& team, int score, EpochMillis at);

  // A Jira-style time with a colon-less offset: 2026-02-03T10:00:00.000+0000.
  static std::string JiraTime(EpochMillis ms);
  // GitHub's ISO 8601 with seconds and Z: 2026-02-03T10:00:00Z.
  static std::string GitHubTime(EpochMillis ms);

 private:
  void JiraUser(JsonWriter& w, int person) const;
  void JiraIssue(JsonWriter& w, const Ticket& t, bool full) const;
  void GitHubUser(JsonWriter& w, int person) const;
  void GitHubRepo(JsonWriter& w, int team, int project) const;
  void PdUser(JsonWriter& w, int person) const;
  Record Make(std::string_view source, EpochMillis at, std::string body);

  const Org& org_;
  Rng& rng_;
  int64_t next_id_;  // changelog, comment, review ids
  int64_t slack_seq_ = 0;     // makes message ts unique within a second
};

}  // namespace teamhealth::generate::internal
