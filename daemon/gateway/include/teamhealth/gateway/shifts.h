#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "teamhealth/base/result.h"
#include "teamhealth/base/time.h"

// The schedule poller's pure part (docs/design.md section 12): what a vendor's on-call answer
// means as shifts, which window to ask for, how a shift is named so that repeated polls name it
// the same, and how long to wait before a retry. No I/O and no clock here: poller.h does those.
namespace teamhealth::gateway {

// One person on call for one slot over [start, end). A slot is what a shift replaces: the
// on-call projections let a later shift of the same (slot, level) supersede earlier ones over
// its interval, so an override arrives as new shifts of the same slot and level.
struct Shift {
  std::string vendor;  // pagerduty | opsgenie
  // The subject id: "pagerduty:<schedule id>"; for a user targeted directly by an escalation
  // rule (no schedule) "pagerduty:<policy id>:user:<user id>"; Opsgenie
  // "opsgenie:<schedule id>:<rotation id>" (rotations of one schedule run side by side, so each
  // is its own slot; "opsgenie:<schedule id>" when the rotation has no id).
  std::string slot;
  std::string title;   // the schedule's name when the vendor gives it, else empty
  int level = 1;       // PagerDuty escalation level; Opsgenie 1
  std::string person;  // "pagerduty:<user id>" | "opsgenie:<username>"
  EpochMillis start = 0;
  EpochMillis end = 0;

  bool operator==(const Shift&) const = default;
};

// The time range a poll asks about: [since, until), UTC.
struct Window {
  EpochMillis since = 0;
  EpochMillis until = 0;
};

// From the start of yesterday (UTC) to the start of the day `window_days` after today (at most
// 90 days in all: PagerDuty refuses a longer range, "cannot exceed 3 months"). Aligned
// on UTC days so that every poll of one day asks the same question: a vendor that clips shifts
// to the range (the docs promise only that overlapping on-calls are included) then answers with
// the same start and end all day, and the dedup id stays the same.
Window PollWindow(EpochMillis now, int window_days);

// The dedup id of a shift: "canonical:shift-" + a hash of vendor, slot, level, person, start
// and end. The same shift always gets the same id (the event log drops a repeat by it); a
// changed shift (an override, a moved end) gets a new one.
std::string ShiftEventId(const Shift& shift);

// The canonical `oncall.shift` event of a shift, as JSON (the `canonical` source's shape):
// occurred_at = `observed_at`, the poll that first saw it; actor null; subject
// {kind: schedule, id: slot, title?}; attrs person, level, start, end.
std::string ShiftEventJson(const Shift& shift, EpochMillis observed_at);

// One page of PagerDuty `GET /oncalls`.
struct PagerDutyPage {
  std::vector<Shift> shifts;
  bool more = false;  // another page follows (ask again with offset + limit)
  int64_t offset = 0;
  int64_t limit = 0;
};

// Parses one page of PagerDuty `GET /oncalls` (REST API v2). An on-call without a schedule is a
// user targeted directly by the escalation rule (slot "pagerduty:<policy>:user:<user>"); one
// without start or end (a permanent on-call) spans the window. Entries without a user id are
// skipped. Errors: not JSON, no `oncalls` array, or a start/end that is not RFC 3339.
Result<PagerDutyPage> ParsePagerDutyOncalls(std::string_view body, const Window& window);

// Parses Opsgenie `GET /v2/schedules/{id}/timeline`: the periods of every rotation of
// `data.finalTimeline` (overrides applied) whose recipient is a user, as shifts of slot
// "opsgenie:<schedule_id>:<rotation id>", level 1, person "opsgenie:<recipient name>" (the
// username). Periods of one person that touch are merged (the timeline may split a stint, e.g.
// at "now"). The schedule's name (`data._parent.name`) is the title.
Result<std::vector<Shift>> ParseOpsgenieTimeline(std::string_view body,
                                                 std::string_view schedule_id);

// Whether and how long to wait before retrying a request that answered `status` (0: no answer
// at all, a transport failure). `attempt` counts from 0 (the first retry). 429: the server's
// `Retry-After` (seconds or an HTTP date, relative to `now`) when given, else the backoff;
// 5xx and transport failures: the backoff, kBaseMs * 2^attempt capped at kMaxMs, scaled by
// `jitter` in [0, 1) to 50..100 % (so pollers do not retry in step). Never more than
// kMaxRetries retries, never a wait over kMaxWaitMs; other statuses are not retried.
struct RetryPolicy {
  static constexpr int kMaxRetries = 5;
  static constexpr int64_t kBaseMs = 1000;
  static constexpr int64_t kMaxMs = 60000;
  static constexpr int64_t kMaxWaitMs = 300000;  // a Retry-After beyond 5 min: give up this poll
};
std::optional<int64_t> RetryDelayMs(int status, std::string_view retry_after, int attempt,
                                    double jitter, EpochMillis now);

// The shifts already produced, so that repeated polls add nothing. Not thread-safe (one poller
// thread). After a restart it is empty: the log's dedup by id is the backstop.
class ProducedShifts final {
 public:
  // Whether `shift`, seen in a poll over `window`, says nothing new: its id was produced, or it
  // is a produced shift cut at the window's start (same slot, level, person and end, an earlier
  // start, and this start at or before `window.since`) — what a vendor that clips to the range
  // returns once the window moved past a shift's start.
  bool Known(const Shift& shift, const Window& window) const;
  void Remember(const Shift& shift);
  // Drops shifts that ended before `before` (they can no longer come back).
  void Forget(EpochMillis before);
  size_t size() const { return by_id_.size(); }

 private:
  std::map<std::string, Shift> by_id_;
};

}  // namespace teamhealth::gateway
