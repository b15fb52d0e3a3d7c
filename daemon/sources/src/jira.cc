// Jira Cloud and Server/Data Center webhooks -> canonical events (docs/design.md section 4).
//
// Mapping (webhookEvent, then issue_event_type_name or changelog):
//   jira:issue_created              -> work_item.created
//   jira:issue_updated              -> per changelog item: status -> work_item.status_changed,
//                                      assignee -> work_item.assigned, priority ->
//                                      work_item.priority_changed; every other field is
//                                      gathered into ONE work_item.updated (`fields`), emitted
//                                      after them; a top-level `comment` (Server
//                                      issue_commented) adds work_item.commented last, with
//                                      `edited: true` for issue_comment_edited;
//                                      issue_assigned with an empty changelog still yields
//                                      work_item.assigned (to = the issue's current assignee)
//   jira:issue_deleted              -> work_item.deleted
//   comment_created                 -> work_item.commented (actor = comment author)
//   comment_updated                 -> work_item.commented, `edited: true` (docs/design.md section
//   4:
//                                      an edited comment is an activity; actor = the editor)
//   worklog_created                 -> work_item.worklogged (`seconds`; subject = issueId)
//   comment_deleted, worklog_updated/deleted, sprint/board/project/version/user/link/
//   attachment events               -> ignored (no new work: see Ignored())
//   anything else                   -> quarantined as unsupported_event
// Dedup id: X-Atlassian-Webhook-Identifier, else StableHash(webhookEvent, issue id,
// timestamp, changelog id, comment or worklog id). Time: `timestamp` (epoch ms).
#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common.h"
#include "jira_fields.h"
#include "jira_json.h"
#include "vendors.h"

namespace teamhealth::sources {
namespace {

namespace od = simdjson::ondemand;
using jira::FieldKind;
using jira::FieldName;
using jira::ForEachMember;
using jira::IdString;
using jira::IsObject;
using jira::Item;
using jira::KindOf;
using jira::MemberString;
using jira::OptString;
using jira::Person;
using jira::ReadPerson;

constexpr std::string_view kSource = "jira";

// Valid webhook events that carry nothing for team health. A deleted comment or worklog is no
// new work, and a worklog update carries the new total but not the delta: a
// work_item.worklogged for it would count the logged time twice (docs/design.md section 4).
bool Ignored(std::string_view event) {
  for (std::string_view e :
       {"comment_deleted", "worklog_updated", "worklog_deleted", "jira:worklog_updated"}) {
    if (event == e) return true;
  }
  for (std::string_view prefix :
       {"sprint_", "board_", "project_", "jira:version_", "user_", "option_", "issuelink_",
        "attachment_", "issuetype_", "jira:component_", "component_", "filter_"}) {
    if (event.starts_with(prefix)) return true;
  }
  return false;
}

class JiraSource final : public JsonSource {
 public:
  explicit JiraSource(const SourceOptions& options) : categories_(options.status_categories) {}
  std::string_view name() const override { return kSource; }

 private:
  struct Issue {
    bool present = false;
    std::string id;
    std::string_view key, summary, status_id, status_name, status_category, issuetype, project,
        updated;
    std::optional<std::string_view> priority;
    Person assignee, reporter, creator;
  };
  struct Comment {
    bool present = false;
    std::string id;
    std::string_view updated;
    Person author, update_author;
  };
  struct Worklog {
    bool present = false;
    std::string id, issue_id;
    std::string_view updated;
    std::optional<int64_t> seconds;
    Person author;
  };

  void Read(Object body, const RawRecord& record, NormalizeResult& out) override;
  void Map(const RawRecord& record, NormalizeResult& out) override;
  void Reset();
  bool ReadIssue(od::value v);
  bool ReadStatus(od::value v);
  bool ReadChangelog(od::value v);
  bool ReadItem(od::value v, Item& item);
  bool ReadComment(od::value v);
  bool ReadWorklog(od::value v);
  // A username from an older changelog -> the accountId the payload's user objects show
  // for it, so one person has one reference; unchanged when nobody matches.
  std::string_view ResolveUser(std::string_view native) const;
  // The webhook events we map, and what to do with the others.
  enum class Hook {
    kCreated,
    kUpdated,
    kDeleted,
    kComment,
    kCommentEdited,
    kWorklog,
    kIgnored,
    kUnsupported
  };
  static Hook HookOf(std::string_view webhook_event);
  void LearnStatus();
  // The issue the event is about: the worklog's issueId for a worklog.
  std::string_view SubjectId() const;
  // The first required field the payload lacks for its hook, if any.
  std::optional<std::string> MissingField() const;
  // Sets at_; false (with `out` rejected) when the fallback time is not RFC 3339.
  bool EventTime(const RawRecord& record, NormalizeResult& out);
  std::string DedupId(const RawRecord& record) const;
  EventBuilder IssueEvent(std::string_view type) const;
  EventBuilder Created() const;
  EventBuilder Worklogged() const;
  EventBuilder CommentEdited() const;
  EventBuilder StatusChanged(const Item& item) const;
  EventBuilder Assigned(const Item& item) const;
  void EmitIssueUpdated(std::vector<EventBuilder>& events);

  StatusCategories categories_;

  // Per record, reused to avoid allocations.
  std::string dedup_;
  std::optional<EpochMillis> timestamp_;
  bool bad_timestamp_ = false;
  EpochMillis at_ = 0;
  std::string_view webhook_event_, event_type_name_;
  Hook hook_ = Hook::kUnsupported;
  Person user_;
  Issue issue_;
  std::string changelog_id_;
  std::vector<Item> items_;
  Comment comment_;
  Worklog worklog_;
};

void JiraSource::Reset() {
  timestamp_.reset();
  bad_timestamp_ = false;
  webhook_event_ = event_type_name_ = {};
  user_ = Person{};
  issue_ = Issue{};
  changelog_id_.clear();
  items_.clear();
  comment_ = Comment{};
  worklog_ = Worklog{};
}

bool JiraSource::ReadStatus(od::value v) {
  return ForEachMember(v, [&](std::string_view k, od::value fv) {
    if (k == "id") {
      issue_.status_id = OptString(fv).value_or("");
    } else if (k == "name") {
      issue_.status_name = OptString(fv).value_or("");
    } else if (k == "statusCategory") {
      issue_.status_category = MemberString(fv, "key").value_or("");
    }
    return true;
  });
}

bool JiraSource::ReadIssue(od::value v) {
  issue_.present = IsObject(v);
  return ForEachMember(v, [&](std::string_view k, od::value fv) {
    if (k == "id") IdString(fv, issue_.id);
    if (k == "key") issue_.key = OptString(fv).value_or("");
    if (k != "fields") return true;
    return ForEachMember(fv, [&](std::string_view f, od::value x) {
      if (f == "summary") issue_.summary = OptString(x).value_or("");
      if (f == "status") return ReadStatus(x);
      if (f == "priority") issue_.priority = MemberString(x, "name");
      if (f == "assignee") return ReadPerson(x, issue_.assignee);
      if (f == "reporter") return ReadPerson(x, issue_.reporter);
      if (f == "creator") return ReadPerson(x, issue_.creator);
      if (f == "issuetype") issue_.issuetype = MemberString(x, "name").value_or("");
      if (f == "project") issue_.project = MemberString(x, "key").value_or("");
      if (f == "updated") issue_.updated = OptString(x).value_or("");
      return true;
    });
  });
}

bool JiraSource::ReadItem(od::value v, Item& item) {
  return ForEachMember(v, [&](std::string_view k, od::value fv) {
    // Item keys come in the order field, fieldtype, fieldId, from, ...: once the field is
    // known to be "other", its values (which may be description text) are not even read.
    if (k == "field") {
      item.field = OptString(fv).value_or("");
    } else if (k == "fieldId") {
      item.field_id = OptString(fv).value_or("");
    } else if (!item.field.empty() && KindOf(item.field, item.field_id) == FieldKind::kOther) {
      return true;
    } else if (k == "from") {
      item.from = OptString(fv);
    } else if (k == "fromString") {
      item.from_string = OptString(fv);
    } else if (k == "to") {
      item.to = OptString(fv);
    } else if (k == "toString") {
      item.to_string = OptString(fv);
    } else if (k == "tmpFromAccountId") {
      item.tmp_from = OptString(fv);
    } else if (k == "tmpToAccountId") {
      item.tmp_to = OptString(fv);
    }
    return true;
  });
}

bool JiraSource::ReadChangelog(od::value v) {
  return ForEachMember(v, [&](std::string_view k, od::value fv) {
    if (k == "id") IdString(fv, changelog_id_);
    if (k != "items") return true;
    od::array arr;
    if (fv.get_array().get(arr)) return true;
    for (auto element : arr) {
      if (element.error()) return false;
      Item item;
      if (!ReadItem(element.value_unsafe(), item)) return false;
      items_.push_back(item);
    }
    return true;
  });
}

bool JiraSource::ReadComment(od::value v) {
  comment_.present = IsObject(v);
  return ForEachMember(v, [&](std::string_view k, od::value fv) {
    if (k == "id") IdString(fv, comment_.id);
    if (k == "author") return ReadPerson(fv, comment_.author);
    if (k == "updateAuthor") return ReadPerson(fv, comment_.update_author);
    if (k == "updated") comment_.updated = OptString(fv).value_or("");
    return true;  // the body is never read
  });
}

bool JiraSource::ReadWorklog(od::value v) {
  worklog_.present = IsObject(v);
  return ForEachMember(v, [&](std::string_view k, od::value fv) {
    if (k == "id") IdString(fv, worklog_.id);
    if (k == "issueId") IdString(fv, worklog_.issue_id);
    if (k == "author") return ReadPerson(fv, worklog_.author);
    if (k == "updated") worklog_.updated = OptString(fv).value_or("");
    int64_t s;
    if (k == "timeSpentSeconds" && fv.get_int64().get(s) == simdjson::SUCCESS && s >= 0) {
      worklog_.seconds = s;
    }
    return true;
  });
}

std::string_view JiraSource::ResolveUser(std::string_view native) const {
  for (const Person* p :
       {&user_, &issue_.assignee, &issue_.reporter, &issue_.creator, &comment_.author}) {
    if (!p->account_id.empty() && p->Matches(native)) return p->account_id;
  }
  return native;
}

EventBuilder JiraSource::IssueEvent(std::string_view type) const {
  EventBuilder b(kSource, dedup_, type);
  b.At(at_).Actor(user_.ActorId()).Subject("work_item", issue_.id);
  if (!issue_.key.empty()) b.SubjectKey(issue_.key);
  if (!issue_.project.empty()) b.SubjectProject(issue_.project);
  if (!issue_.summary.empty()) b.SubjectTitle(issue_.summary);
  return b;
}

std::optional<std::string> Str(std::optional<std::string_view> v) {
  if (!v || v->empty()) return std::nullopt;
  return std::string(*v);
}

void JiraSource::Read(Object body, const RawRecord&, NormalizeResult& out) {
  Reset();
  for (auto field : body) {
    std::string_view k;
    if (ReadKey(field, k)) return out.Reject(Reason::kInvalidJson, "bad key");
    od::value v;
    if (field.value().get(v)) return out.Reject(Reason::kInvalidJson, "bad value");
    bool ok = true;
    if (k == "timestamp") {
      int64_t ms;
      if (v.get_int64().get(ms) || ms <= 0) {
        bad_timestamp_ = true;
      } else {
        timestamp_ = ms;
      }
    } else if (k == "webhookEvent") {
      if (v.get_string().get(webhook_event_)) {
        return out.Reject(Reason::kInvalidField, "field webhookEvent");
      }
    } else if (k == "issue_event_type_name") {
      event_type_name_ = OptString(v).value_or("");
    } else if (k == "user") {
      ok = ReadPerson(v, user_);
    } else if (k == "issue") {
      ok = ReadIssue(v);
    } else if (k == "changelog") {
      ok = ReadChangelog(v);
    } else if (k == "comment") {
      ok = ReadComment(v);
    } else if (k == "worklog") {
      ok = ReadWorklog(v);
    }
    if (!ok) return out.Reject(Reason::kInvalidJson, "malformed field " + std::string(k));
  }
}

void JiraSource::Map(const RawRecord& record, NormalizeResult& out) {
  if (webhook_event_.empty()) return out.Reject(Reason::kMissingField, "field webhookEvent");
  if (bad_timestamp_) return out.Reject(Reason::kBadTimestamp, "field timestamp");
  LearnStatus();
  hook_ = HookOf(webhook_event_);
  if (hook_ == Hook::kIgnored) {
    out.ignored = true;
    return;
  }
  if (hook_ == Hook::kUnsupported) {
    return out.Reject(Reason::kUnsupportedEvent, "webhookEvent not mapped");
  }
  if (auto missing = MissingField()) return out.Reject(Reason::kMissingField, *missing);
  if (!EventTime(record, out)) return;
  dedup_ = DedupId(record);

  std::vector<EventBuilder> events;
  switch (hook_) {
    case Hook::kCreated: events.push_back(Created()); break;
    case Hook::kDeleted: events.push_back(IssueEvent("work_item.deleted")); break;
    case Hook::kComment: {
      auto b = IssueEvent("work_item.commented");
      b.Actor(comment_.author.ActorId());
      events.push_back(std::move(b));
      break;
    }
    case Hook::kCommentEdited: events.push_back(CommentEdited()); break;
    case Hook::kWorklog: events.push_back(Worklogged()); break;
    case Hook::kUpdated: EmitIssueUpdated(events); break;
    case Hook::kIgnored:
    case Hook::kUnsupported: break;
  }
  EmitAll(events, record, out);  // none: e.g. an issue_updated whose changelog is empty
}

// Learns the current status's category from every payload that shows one, comment events
// included, so that a later transition out of it knows its `from` category.
void JiraSource::LearnStatus() {
  if (issue_.status_id.empty()) return;
  if (auto cat = JiraCategory(issue_.status_category)) {
    categories_.Learn(PersonRef(kSource, issue_.status_id), *cat);
  }
}

JiraSource::Hook JiraSource::HookOf(std::string_view event) {
  if (event == "jira:issue_created") return Hook::kCreated;
  if (event == "jira:issue_updated") return Hook::kUpdated;
  if (event == "jira:issue_deleted") return Hook::kDeleted;
  if (event == "comment_created") return Hook::kComment;
  if (event == "comment_updated") return Hook::kCommentEdited;
  if (event == "worklog_created") return Hook::kWorklog;
  return Ignored(event) ? Hook::kIgnored : Hook::kUnsupported;
}

std::string_view JiraSource::SubjectId() const {
  return hook_ == Hook::kWorklog ? std::string_view(worklog_.issue_id)
                                 : std::string_view(issue_.id);
}

std::optional<std::string> JiraSource::MissingField() const {
  if (hook_ == Hook::kWorklog) {
    if (!worklog_.present) return "field worklog";
    if (worklog_.issue_id.empty()) return "field worklog.issueId";
  } else {
    if (!issue_.present) return "field issue";
    if (issue_.id.empty()) return "field issue.id";
  }
  if ((hook_ == Hook::kComment || hook_ == Hook::kCommentEdited) && !comment_.present) {
    return "field comment";
  }
  return std::nullopt;
}

// `timestamp`; without it, the changed object's own last-update time; the record time only
// when the payload has no time at all.
bool JiraSource::EventTime(const RawRecord& record, NormalizeResult& out) {
  if (timestamp_) {
    at_ = *timestamp_;
    return true;
  }
  const std::string_view fallback = hook_ == Hook::kWorklog ? worklog_.updated
                                    : hook_ == Hook::kComment || hook_ == Hook::kCommentEdited ||
                                            (hook_ == Hook::kUpdated && comment_.present)
                                        ? comment_.updated
                                        : issue_.updated;
  if (fallback.empty()) {
    at_ = record.timestamp_ms;
  } else if (auto ms = ParseRfc3339(fallback)) {
    at_ = *ms;
  } else {
    out.Reject(Reason::kBadTimestamp, "field updated");
    return false;
  }
  return true;
}

std::string JiraSource::DedupId(const RawRecord& record) const {
  if (auto header = record.Header("X-Atlassian-Webhook-Identifier"); header && !header->empty()) {
    return std::string(*header);
  }
  const std::string ts = timestamp_ ? std::to_string(*timestamp_) : std::string();
  const std::string& extra = hook_ == Hook::kWorklog ? worklog_.id : comment_.id;
  return StableHash({webhook_event_, SubjectId(), ts, changelog_id_, extra});
}

EventBuilder JiraSource::Created() const {
  auto b = IssueEvent("work_item.created");
  b.AttrOpt("status", Str(issue_.status_name))
      .AttrOpt("status_category", categories_.Lookup(PersonRef(kSource, issue_.status_id),
                                                     PersonRef(kSource, issue_.status_name)))
      .AttrOpt("priority", Str(issue_.priority))
      .AttrPerson("assignee", issue_.assignee.NativeId())
      .AttrOpt("item_type", Str(issue_.issuetype));
  return b;
}

// worklog_created carries no issue, only its id.
EventBuilder JiraSource::Worklogged() const {
  EventBuilder b(kSource, dedup_, "work_item.worklogged");
  b.At(at_).Actor(worklog_.author.ActorId()).Subject("work_item", worklog_.issue_id);
  if (worklog_.seconds) {
    b.AttrInt("seconds", *worklog_.seconds);
  } else {
    b.AttrNull("seconds");
  }
  return b;
}

EventBuilder JiraSource::StatusChanged(const Item& item) const {
  auto b = IssueEvent("work_item.status_changed");
  b.AttrOpt("from", Str(item.from_string))
      .AttrOpt("to", Str(item.to_string))
      .AttrOpt("from_category",
               categories_.Lookup(PersonRef(kSource, item.from.value_or("")),
                                  PersonRef(kSource, item.from_string.value_or(""))))
      .AttrOpt("to_category", categories_.Lookup(PersonRef(kSource, item.to.value_or("")),
                                                 PersonRef(kSource, item.to_string.value_or(""))));
  return b;
}

EventBuilder JiraSource::Assigned(const Item& item) const {
  // Modern Cloud adds tmp*AccountId beside a username from/to; a null tmp id falls back to
  // from/to.
  const std::string_view from = item.tmp_from && !item.tmp_from->empty()
                                    ? *item.tmp_from
                                    : ResolveUser(item.from.value_or(""));
  const std::string_view to =
      item.tmp_to && !item.tmp_to->empty() ? *item.tmp_to : ResolveUser(item.to.value_or(""));
  auto b = IssueEvent("work_item.assigned");
  b.AttrPerson("from", from).AttrPerson("to", to);
  return b;
}

// jira:issue_updated: one event per status/assignee/priority item in changelog order, then
// one work_item.updated for every other field, then the assignment of an empty-changelog
// issue_assigned, then a comment carried at top level.
void JiraSource::EmitIssueUpdated(std::vector<EventBuilder>& events) {
  std::vector<std::string> fields;
  for (const Item& item : items_) {
    switch (KindOf(item.field, item.field_id)) {
      case FieldKind::kStatus: events.push_back(StatusChanged(item)); break;
      case FieldKind::kAssignee: events.push_back(Assigned(item)); break;
      case FieldKind::kPriority: {
        auto b = IssueEvent("work_item.priority_changed");
        b.AttrOpt("from", Str(item.from_string)).AttrOpt("to", Str(item.to_string));
        events.push_back(std::move(b));
        break;
      }
      case FieldKind::kOther: {
        std::string name = FieldName(item);
        if (!name.empty() && std::find(fields.begin(), fields.end(), name) == fields.end()) {
          fields.push_back(std::move(name));
        }
        break;
      }
    }
  }
  if (!fields.empty()) {
    auto b = IssueEvent("work_item.updated");
    b.AttrList("fields", fields);
    events.push_back(std::move(b));
  }
  // issue_assigned with an empty changelog (seen in 2024 Cloud captures): the assignment
  // is real; the new assignee is the issue's current one, the previous one is unknown.
  if (items_.empty() && event_type_name_ == "issue_assigned") {
    auto b = IssueEvent("work_item.assigned");
    b.AttrNull("from").AttrPerson("to", issue_.assignee.NativeId());
    events.push_back(std::move(b));
  }
  // Server's issue_commented (and a transition made with a comment) carry the new comment
  // at top level; an edit arrives the same way (an activity, marked edited), a deletion too
  // (no new work).
  if (!comment_.present || event_type_name_ == "issue_comment_deleted") return;
  if (event_type_name_ == "issue_comment_edited") {
    events.push_back(CommentEdited());
    return;
  }
  auto b = IssueEvent("work_item.commented");
  const std::string_view author = comment_.author.ActorId();
  b.Actor(author.empty() ? user_.ActorId() : author);
  events.push_back(std::move(b));
}

// An edited comment (comment_updated, Server's issue_comment_edited). Its dedup id is the
// edit's delivery, never the comment's creation. The actor is the editor: the comment's
// updateAuthor; else the webhook's user (Server); else the author, as only the author (or
// an administrator, who then is the updateAuthor) edits a comment.
EventBuilder JiraSource::CommentEdited() const {
  const Person& editor = !comment_.update_author.NativeId().empty() ? comment_.update_author
                         : !user_.NativeId().empty()                ? user_
                                                                    : comment_.author;
  auto b = IssueEvent("work_item.commented");
  b.Actor(editor.ActorId()).AttrBool("edited", true);
  return b;
}

}  // namespace

std::unique_ptr<Source> MakeJiraSource(const SourceOptions& options) {
  return std::make_unique<JiraSource>(options);
}

}  // namespace teamhealth::sources
