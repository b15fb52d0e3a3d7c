// GitHub webhooks (issues, issue_comment, pull_request, pull_request_review,
// pull_request_review_comment) -> canonical events.
//
// Mapping (event.action -> type; time; subject):
//   issues.opened                 -> work_item.created        issue.created_at
//   issues.closed / reopened      -> work_item.status_changed closed_at / updated_at
//   issues.assigned / unassigned  -> work_item.assigned       updated_at
//   issues.edited / labeled / unlabeled / milestoned / demilestoned
//                                 -> work_item.updated        updated_at
//   issues.deleted                -> work_item.deleted        updated_at (no deleted_at exists)
//   issue_comment.created         -> work_item.commented, or pull_request.commented when the
//                                    issue is a pull request; comment.created_at
//   issue_comment.edited          -> the same with `edited: true`; comment.updated_at
//   pull_request.opened           -> pull_request.opened      created_at (drafts included)
//   pull_request.ready_for_review -> pull_request.ready_for_review  updated_at
//   pull_request.review_requested -> pull_request.review_requested  updated_at
//   pull_request.closed           -> pull_request.merged (merged_at) or .closed (closed_at)
//   pull_request.assigned / unassigned / edited / labeled / unlabeled / milestoned /
//   demilestoned                  -> work_item.assigned / work_item.updated on the PR subject
//   pull_request_review.submitted -> pull_request.reviewed    review.submitted_at
//   pull_request_review.dismissed -> pull_request.reviewed (state dismissed)  PR updated_at
//   pull_request_review_comment.created / edited -> pull_request.commented (edited: true for
//                                    an edit)  comment.created_at / comment.updated_at
// Everything else (synchronize, reopened PRs, comment deletions, review edits, events of other
// names) is ignored: see the comments at each decision.
// Actor: sender.login. A user of `type: Bot` (dependabot, renovate, mergify) is a null person
// wherever it appears: docs/design.md section 4 makes bots null actors, and a bot is nobody's load.
// Dedup id: the X-GitHub-Delivery header, else StableHash(event, action, resource id, the
// action's timestamp as written, sender login, target of the action).
#include <array>
#include <cctype>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common.h"
#include "vendors.h"

namespace teamhealth::sources {
namespace {

namespace od = simdjson::ondemand;

constexpr std::string_view kSource = "github";

// One resource of the payload: an issue, a pull request, a review or a comment. Only ids,
// titles, states and times are read, never bodies. Views point into the parser's string
// buffer: valid until the next parse.
struct Item {
  bool present = false;
  bool has_number = false;
  bool merged = false;
  bool is_pull_request = false;  // an issue object that describes a PR (`issue.pull_request`)
  uint64_t id = 0;
  uint64_t number = 0;
  std::string_view title, state, created_at, updated_at, closed_at, merged_at, submitted_at;
  std::string_view assignee;                // primary assignee's login; empty: none or a bot
  std::vector<std::string_view> assignees;  // logins of people (bots dropped)

  void Clear() {
    auto keep = std::move(assignees);  // keeps its capacity across records
    *this = Item{};
    assignees = std::move(keep);
    assignees.clear();
  }
};

struct Payload {
  std::string_view action, repo;
  std::string_view sender_login, sender_raw;  // login is empty for a bot; raw is not
  Item issue, pr, review, comment;
  std::string_view assignee, assignee_raw;  // the person added or removed
  std::string_view reviewer, reviewer_raw;  // requested_reviewer
  std::string_view team, label, milestone;  // requested_team.slug, label.name, milestone.title
  std::vector<std::string_view> change_keys;

  void Clear() {
    action = repo = sender_login = sender_raw = assignee = assignee_raw = {};
    reviewer = reviewer_raw = team = label = milestone = {};
    for (Item* item : {&issue, &pr, &review, &comment}) item->Clear();
    change_keys.clear();
  }
};

// Field-level failure: the reason and the JSON path of the offending field.
struct Failure {
  Reason reason;
  std::string field;
};

// A string, or null (left empty). Any other type is an invalid field.
bool ReadNullableString(od::value v, std::string_view& out) {
  bool is_null = false;
  if (v.is_null().get(is_null)) return false;
  if (is_null) return true;
  return v.get_string().get(out) == simdjson::SUCCESS;
}

bool ReadId(od::value v, uint64_t& out) { return v.get_uint64().get(out) == simdjson::SUCCESS; }

// A GitHub user object (or null). docs/design.md section 4: bots are not people, so a `type: Bot`
// user yields an empty login (a null person reference); `raw` keeps the login for hashing.
bool ReadUser(od::value v, std::string_view& login, std::string_view* raw = nullptr) {
  bool is_null = false;
  if (v.is_null().get(is_null)) return false;
  if (is_null) return true;
  od::object obj;
  if (v.get_object().get(obj)) return false;
  std::string_view name, type;
  for (auto field : obj) {
    std::string_view key;
    if (ReadKey(field, key)) return false;
    if (key == "login") {
      if (field.value().get_string().get(name)) return false;
    } else if (key == "type") {
      if (field.value().get_string().get(type)) return false;
    }
  }
  if (raw) *raw = name;
  login = type == "Bot" ? std::string_view() : name;
  return true;
}

bool ReadAssignees(od::value v, std::vector<std::string_view>& out) {
  od::array arr;
  if (v.get_array().get(arr)) return false;
  for (auto element : arr) {
    od::value ev;
    if (std::move(element).get(ev)) return false;
    std::string_view login;
    if (!ReadUser(ev, login)) return false;
    if (!login.empty()) out.push_back(login);
  }
  return true;
}

std::optional<Failure> ReadItem(od::value v, Item& item, std::string_view name) {
  od::object obj;
  if (v.get_object().get(obj)) return Failure{Reason::kInvalidField, std::string(name)};
  item.present = true;
  for (auto field : obj) {
    std::string_view key;
    od::value fv;
    if (ReadKey(field, key) || field.value().get(fv)) {
      return Failure{Reason::kInvalidJson, std::string(name)};
    }
    bool ok = true;
    bool is_null = false;
    if (key == "id")
      ok = ReadId(fv, item.id);
    else if (key == "number")
      ok = item.has_number = ReadId(fv, item.number);
    else if (key == "title")
      ok = ReadNullableString(fv, item.title);
    else if (key == "state")
      ok = ReadNullableString(fv, item.state);
    else if (key == "created_at")
      ok = ReadNullableString(fv, item.created_at);
    else if (key == "updated_at")
      ok = ReadNullableString(fv, item.updated_at);
    else if (key == "closed_at")
      ok = ReadNullableString(fv, item.closed_at);
    else if (key == "merged_at")
      ok = ReadNullableString(fv, item.merged_at);
    else if (key == "submitted_at")
      ok = ReadNullableString(fv, item.submitted_at);
    else if (key == "assignee")
      ok = ReadUser(fv, item.assignee);
    else if (key == "assignees")
      ok = ReadAssignees(fv, item.assignees);
    else if (key == "merged") {
      ok = fv.is_null().get(is_null) == simdjson::SUCCESS &&
           (is_null || fv.get_bool().get(item.merged) == simdjson::SUCCESS);
    } else if (key == "pull_request") {
      ok = fv.is_null().get(is_null) == simdjson::SUCCESS;
      item.is_pull_request = !is_null;
    } else {
      continue;
    }
    if (!ok) return Failure{Reason::kInvalidField, std::string(name) + "." + std::string(key)};
  }
  return std::nullopt;
}

// Reads one string-valued field of a small object (repository.full_name, label.name, ...).
bool ReadMember(od::value v, std::string_view member, std::string_view& out) {
  bool is_null = false;
  if (v.is_null().get(is_null)) return false;
  if (is_null) return true;
  od::object obj;
  if (v.get_object().get(obj)) return false;
  for (auto field : obj) {
    std::string_view key;
    if (ReadKey(field, key)) return false;
    if (key == member) return ReadNullableString(field.value(), out);
  }
  return true;
}

bool ReadChangeKeys(od::value v, Payload& p) {
  od::object obj;
  if (v.get_object().get(obj)) return false;
  for (auto field : obj) {
    std::string_view key;
    if (ReadKey(field, key)) return false;
    p.change_keys.push_back(key);
  }
  return true;
}

// A candidate time field: JSON path (for rejection details) and raw value (empty: absent).
struct TimeField {
  std::string_view name;
  std::string_view value;
};

std::string Decimal(uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

// What one event needs besides its type-specific attributes.
struct Plan {
  std::string_view type;
  bool pr_subject = false;  // subject kind pull_request rather than work_item
  uint64_t number = 0;
  std::string_view title;
  uint64_t resource_id = 0;          // the issue, PR, review or comment acted on
  std::string_view target;           // who or what the action names (assignee, label, ...)
  std::array<TimeField, 3> times{};  // the action's time: the first present candidate
};

class GithubSource final : public JsonSource {
 public:
  explicit GithubSource(const SourceOptions& options) : categories_(options.status_categories) {}

  std::string_view name() const override { return kSource; }

 private:
  void Read(Object body, const RawRecord& record, NormalizeResult& out) override;
  void Map(const RawRecord& record, NormalizeResult& out) override;
  std::optional<Failure> Parse(od::object obj);
  std::string_view EventName(const RawRecord& record) const;
  // Starts the event of `plan`; nothing (after rejecting) when its time is unparseable.
  std::optional<EventBuilder> Start(const RawRecord& record, const Plan& plan,
                                    NormalizeResult& out) const;
  // An event without attributes.
  void Emit(const RawRecord& record, const Plan& plan, NormalizeResult& out) const {
    if (auto b = Start(record, plan, out)) b->Build(record, out);
  }
  std::optional<std::string> Category(std::string_view state) const;

  void Issues(const RawRecord& record, NormalizeResult& out);
  void PullRequest(const RawRecord& record, NormalizeResult& out);
  void Review(const RawRecord& record, NormalizeResult& out);
  void Comment(const RawRecord& record, NormalizeResult& out);
  // assigned/unassigned/edited/labeled/... of issues and PRs; false if not one of them.
  bool MetadataChange(const RawRecord& record, Plan plan, const Item& item,
                      NormalizeResult& out) const;

  Payload p_;
  std::string_view event_;  // the event name (header or inferred) of the current record
  StatusCategories categories_;
};

std::optional<Failure> GithubSource::Parse(od::object obj) {
  for (auto field : obj) {
    std::string_view key;
    od::value v;
    if (ReadKey(field, key) || field.value().get(v)) {
      return Failure{Reason::kInvalidJson, "top-level field"};
    }
    std::optional<Failure> failure;
    bool ok = true;
    if (key == "action")
      ok = ReadNullableString(v, p_.action);
    else if (key == "issue")
      failure = ReadItem(v, p_.issue, key);
    else if (key == "pull_request")
      failure = ReadItem(v, p_.pr, key);
    else if (key == "review")
      failure = ReadItem(v, p_.review, key);
    else if (key == "comment")
      failure = ReadItem(v, p_.comment, key);
    else if (key == "repository")
      ok = ReadMember(v, "full_name", p_.repo);
    else if (key == "sender")
      ok = ReadUser(v, p_.sender_login, &p_.sender_raw);
    else if (key == "assignee")
      ok = ReadUser(v, p_.assignee, &p_.assignee_raw);
    else if (key == "requested_reviewer")
      ok = ReadUser(v, p_.reviewer, &p_.reviewer_raw);
    else if (key == "requested_team")
      ok = ReadMember(v, "slug", p_.team);
    else if (key == "changes")
      ok = ReadChangeKeys(v, p_);
    else if (key == "label")
      ok = ReadMember(v, "name", p_.label);
    else if (key == "milestone")
      ok = ReadMember(v, "title", p_.milestone);
    if (failure) return failure;
    if (!ok) return Failure{Reason::kInvalidField, std::string(key)};
  }
  return std::nullopt;
}

// The `X-GitHub-Event` header; without it, the event inferred from which resources the body
// carries (reviews and review comments also carry the pull request, so test them first).
std::string_view GithubSource::EventName(const RawRecord& record) const {
  if (auto h = record.Header("X-GitHub-Event"); h && !h->empty()) return *h;
  if (p_.pr.present && p_.review.present) return "pull_request_review";
  if (p_.pr.present && p_.comment.present) return "pull_request_review_comment";
  if (p_.issue.present && p_.comment.present) return "issue_comment";
  if (p_.pr.present) return "pull_request";
  if (p_.issue.present) return "issues";
  return {};
}

std::optional<std::string> GithubSource::Category(std::string_view state) const {
  const std::string key = PersonRef(kSource, state);
  if (auto c = categories_.Lookup(key, key)) return c;
  // docs/design.md section 4: open = todo, closed = done. Whether an open issue is being worked on
  // (a linked open PR) is not in the webhook, so open never maps to in_progress here.
  if (state == "open") return "todo";
  if (state == "closed") return "done";
  return std::nullopt;
}

std::optional<EventBuilder> GithubSource::Start(const RawRecord& record, const Plan& plan,
                                                NormalizeResult& out) const {
  std::string_view time_raw;
  EpochMillis at = record.timestamp_ms;  // only when the payload has no time at all
  for (const auto& t : plan.times) {
    if (t.value.empty()) continue;
    const auto ms = ParseRfc3339(t.value);
    if (!ms) {
      out.Reject(Reason::kBadTimestamp, "field " + std::string(t.name));
      return std::nullopt;
    }
    at = *ms;
    time_raw = t.value;
    break;
  }
  // Delivery ids are unique per delivery and stable across GitHub's redeliveries. Without
  // the header, hash what identifies the action itself: `target` separates two labels (or
  // assignees) added within the same second, which share every other field.
  std::string dedup;
  if (auto h = record.Header("X-GitHub-Delivery"); h && !h->empty()) {
    dedup.assign(*h);
  } else {
    dedup = StableHash(
        {event_, p_.action, Decimal(plan.resource_id), time_raw, p_.sender_raw, plan.target});
  }
  const std::string number = Decimal(plan.number);
  std::string id;
  id.reserve(p_.repo.size() + 1 + number.size());
  id.append(p_.repo).append("#").append(number);
  EventBuilder b(kSource, dedup, plan.type);
  b.At(at).Actor(p_.sender_login);
  b.Subject(plan.pr_subject ? "pull_request" : "work_item", id);
  b.SubjectKey("#" + number).SubjectProject(p_.repo);
  if (!plan.title.empty()) b.SubjectTitle(plan.title);
  return b;
}

void GithubSource::Read(Object body, const RawRecord&, NormalizeResult& out) {
  p_.Clear();
  if (auto failure = Parse(body)) return out.Reject(failure->reason, "field " + failure->field);
}

void GithubSource::Map(const RawRecord& record, NormalizeResult& out) {
  event_ = EventName(record);
  const bool on_issue = event_ == "issues" || event_ == "issue_comment";
  // Events we do not consume (push, ping, check_run, ...) carry nothing for team health; a
  // body without a header and without any resource we know is one of them.
  if (!on_issue && event_ != "pull_request" && event_ != "pull_request_review" &&
      event_ != "pull_request_review_comment") {
    // Without the header, a body with no repository and no sender is no GitHub webhook at all
    // (a topic fed by another vendor): quarantine it rather than count it as ignored.
    if (!record.Header("X-GitHub-Event") && (p_.repo.empty() || p_.sender_raw.empty())) {
      return out.Reject(Reason::kMissingField, "field repository / sender");
    }
    out.ignored = true;
    return;
  }
  if (p_.action.empty()) return out.Reject(Reason::kMissingField, "field action");
  if (p_.repo.empty()) return out.Reject(Reason::kMissingField, "field repository.full_name");
  const Item& parent = on_issue ? p_.issue : p_.pr;
  const std::string_view parent_field = on_issue ? "field issue" : "field pull_request";
  if (!parent.present) return out.Reject(Reason::kMissingField, std::string(parent_field));
  if (!parent.has_number) {
    return out.Reject(Reason::kMissingField, std::string(parent_field) + ".number");
  }
  if (event_ == "issues") return Issues(record, out);
  if (event_ == "pull_request") return PullRequest(record, out);
  if (event_ == "pull_request_review") return Review(record, out);
  return Comment(record, out);
}

// The plan of an event about `item` (an issue or a pull request).
Plan About(const Item& item, bool pr_subject) {
  Plan plan;
  plan.pr_subject = pr_subject;
  plan.number = item.number;
  plan.title = item.title;
  plan.resource_id = item.id;
  return plan;
}

void GithubSource::Issues(const RawRecord& record, NormalizeResult& out) {
  const Item& issue = p_.issue;
  const std::string_view action = p_.action;
  // GitHub (until late 2023) sent `issues` events for metadata changes of pull requests too:
  // the issue then carries `pull_request`, and the subject is the PR.
  Plan plan = About(issue, issue.is_pull_request);
  const std::string_view state = issue.state.empty() ? "open" : issue.state;
  if (action == "opened") {
    plan.type = "work_item.created";
    plan.times = {{{"issue.created_at", issue.created_at}, {"issue.updated_at", issue.updated_at}}};
    auto b = Start(record, plan, out);
    if (!b) return;
    b->Attr("status", state).AttrOpt("status_category", Category(state));
    // GitHub issues have no priority field (labels are free-form).
    b->AttrNull("priority").AttrPerson("assignee", issue.assignee).Attr("item_type", "issue");
    b->Build(record, out);
  } else if (action == "closed" || action == "reopened") {
    const bool closed = action == "closed";
    const std::string_view from = closed ? "open" : "closed", to = closed ? "closed" : "open";
    plan.type = "work_item.status_changed";
    // Reopening has no timestamp of its own; updated_at is the reopening.
    plan.times = {{{"issue.closed_at", closed ? issue.closed_at : std::string_view()},
                   {"issue.updated_at", issue.updated_at}}};
    auto b = Start(record, plan, out);
    if (!b) return;
    b->Attr("from", from).Attr("to", to);
    b->AttrOpt("from_category", Category(from)).AttrOpt("to_category", Category(to));
    b->Build(record, out);
  } else if (action == "deleted") {
    plan.type = "work_item.deleted";
    plan.times = {{{"issue.updated_at", issue.updated_at}}};  // no deleted_at exists
    Emit(record, plan, out);
  } else if (!MetadataChange(record, plan, issue, out)) {
    out.ignored = true;  // transferred, pinned, locked, typed, ...: no team-health meaning
  }
}

// Assignment and metadata changes, for issues and pull requests alike. On a PR these become
// work_item.* types with a pull_request subject: docs/design.md has no pull_request.updated, and a
// label, milestone or assignee change is still someone's deliberate activity on that PR
// (context switching counts activities per subject). Flow metrics are unaffected: they read
// status changes, which PRs never have.
bool GithubSource::MetadataChange(const RawRecord& record, Plan plan, const Item& item,
                                  NormalizeResult& out) const {
  const std::string_view action = p_.action;
  plan.times = {
      {{event_ == "issues" ? "issue.updated_at" : "pull_request.updated_at", item.updated_at}}};
  std::vector<std::string> fields;
  if (action == "assigned" || action == "unassigned") {
    if (p_.assignee_raw.empty()) {
      out.Reject(Reason::kMissingField, "field assignee");
      return true;
    }
    // GitHub allows several assignees and names the one added or removed. `from` is the
    // person who lost the assignment (null when someone was added), `to` the person who
    // holds it afterwards: the one added, or after a removal the first remaining assignee
    // (null when none remain). `assignees` is read after the change, but older captures
    // still list the removed person, so skip them.
    std::string_view from, to;
    if (action == "assigned") {
      to = p_.assignee;
    } else {
      from = p_.assignee;
      for (auto login : item.assignees) {
        if (login != p_.assignee_raw) {
          to = login;
          break;
        }
      }
    }
    plan.type = "work_item.assigned";
    plan.target = p_.assignee_raw;
    auto b = Start(record, plan, out);
    if (b) b->AttrPerson("from", from).AttrPerson("to", to).Build(record, out);
    return true;
  } else if (action == "edited") {
    // The keys of `changes` (title, body, base); the body is the description.
    for (auto key : p_.change_keys) fields.emplace_back(key == "body" ? "description" : key);
  } else if (action == "labeled" || action == "unlabeled") {
    fields.emplace_back("labels");
    plan.target = p_.label;
  } else if (action == "milestoned" || action == "demilestoned") {
    fields.emplace_back("milestone");
    plan.target = p_.milestone;
  } else {
    return false;
  }
  plan.type = "work_item.updated";
  auto b = Start(record, plan, out);
  if (b) b->AttrList("fields", fields).Build(record, out);
  return true;
}

void GithubSource::PullRequest(const RawRecord& record, NormalizeResult& out) {
  const Item& pr = p_.pr;
  const std::string_view action = p_.action;
  Plan plan = About(pr, true);
  if (action == "opened") {
    // A draft PR is still opened; its ready_for_review comes later and restarts pickup.
    plan.type = "pull_request.opened";
    plan.times = {
        {{"pull_request.created_at", pr.created_at}, {"pull_request.updated_at", pr.updated_at}}};
  } else if (action == "ready_for_review") {
    plan.type = "pull_request.ready_for_review";
    plan.times = {{{"pull_request.updated_at", pr.updated_at}}};
  } else if (action == "closed") {
    plan.type = pr.merged ? "pull_request.merged" : "pull_request.closed";
    plan.times = {{{"pull_request.merged_at", pr.merged ? pr.merged_at : std::string_view()},
                   {"pull_request.closed_at", pr.closed_at},
                   {"pull_request.updated_at", pr.updated_at}}};
  } else if (action == "review_requested") {
    if (p_.reviewer_raw.empty() && p_.team.empty()) {
      return out.Reject(Reason::kMissingField, "field requested_reviewer");
    }
    plan.type = "pull_request.review_requested";
    plan.times = {{{"pull_request.updated_at", pr.updated_at}}};
    // A team request has no person to name: reviewer is null, but the request (the
    // sender's act, and the start of the wait for review) is still recorded.
    plan.target = p_.reviewer_raw.empty() ? p_.team : p_.reviewer_raw;
    auto b = Start(record, plan, out);
    if (b) b->AttrPerson("reviewer", p_.reviewer).Build(record, out);
    return;
  } else {
    // synchronize (pushed commits: no canonical type, and force-pushes and bots make it
    // noise), reopened (docs/design.md has no PR reopen; PRs carry no status), converted_to_draft,
    // review_request_removed, locked, auto_merge_*: ignored. Metadata changes are mapped.
    if (!MetadataChange(record, plan, pr, out)) out.ignored = true;
    return;
  }
  Emit(record, plan, out);
}

void GithubSource::Review(const RawRecord& record, NormalizeResult& out) {
  const std::string_view action = p_.action;
  // edited changes a review's body only: not a new review.
  if (action != "submitted" && action != "dismissed") {
    out.ignored = true;
    return;
  }
  if (!p_.review.present) return out.Reject(Reason::kMissingField, "field review");
  Plan plan = About(p_.pr, true);
  plan.type = "pull_request.reviewed";
  plan.resource_id = p_.review.id;
  std::string state = "dismissed";
  if (action == "submitted") {
    plan.times = {{{"review.submitted_at", p_.review.submitted_at},
                   {"pull_request.updated_at", p_.pr.updated_at}}};
    // Webhooks write the state lowercase, the REST API uppercase: accept both.
    state.assign(p_.review.state);
    for (char& c : state) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  } else {
    // submitted_at is the review's own time; the dismissal is the PR's latest update.
    plan.times = {{{"pull_request.updated_at", p_.pr.updated_at}}};
  }
  auto b = Start(record, plan, out);
  if (!b) return;
  if (state.empty())
    b->AttrNull("state");
  else
    b->Attr("state", state);
  b->Build(record, out);
}

// issue_comment and pull_request_review_comment. docs/design.md section 4: an edited comment is an
// activity on its item, so an edit is a comment event too, marked `edited`, at the edit's time
// (the comment's updated_at); its dedup id is the edit's delivery, not the creation's. A
// deletion is no new activity.
void GithubSource::Comment(const RawRecord& record, NormalizeResult& out) {
  const bool edited = p_.action == "edited";
  if (p_.action != "created" && !edited) {
    out.ignored = true;
    return;
  }
  if (!p_.comment.present) return out.Reject(Reason::kMissingField, "field comment");
  const bool on_issue = event_ == "issue_comment";
  Plan plan = About(on_issue ? p_.issue : p_.pr, !on_issue || p_.issue.is_pull_request);
  plan.type = plan.pr_subject ? "pull_request.commented" : "work_item.commented";
  plan.resource_id = p_.comment.id;
  plan.times = {{edited ? TimeField{"comment.updated_at", p_.comment.updated_at}
                        : TimeField{"comment.created_at", p_.comment.created_at},
                 {on_issue ? "issue.updated_at" : "pull_request.updated_at",
                  (on_issue ? p_.issue : p_.pr).updated_at}}};
  auto b = Start(record, plan, out);
  if (!b) return;
  if (edited) b->AttrBool("edited", true);
  b->Build(record, out);
}

}  // namespace

std::unique_ptr<Source> MakeGithubSource(const SourceOptions& options) {
  return std::make_unique<GithubSource>(options);
}

}  // namespace teamhealth::sources
