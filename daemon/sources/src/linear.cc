// Linear webhooks -> canonical events (docs/design.md section 4).
//
// Envelope: {action, type, createdAt, data, updatedFrom?, url, organizationId,
// webhookTimestamp (epoch ms), actor? (newer deliveries)}.
//   Issue create   -> work_item.created (status, status_category, priority, assignee,
//                     item_type "issue")
//   Issue update   -> per key of updatedFrom (the previous values of the changed fields):
//                     stateId -> work_item.status_changed, assigneeId -> work_item.assigned,
//                     priority -> work_item.priority_changed; other meaningful fields are
//                     gathered into ONE work_item.updated (`fields`), emitted after them
//   Issue remove   -> work_item.deleted
//   Comment create -> work_item.commented (subject = the comment's issue)
//   Comment update -> when its text changed (updatedFrom.body): work_item.commented with
//                     `edited: true` (docs/design.md section 4: an edited comment is an activity);
//                     any other change (reactions, a resolved thread) is ignored
//   Comment remove and the other types (Project, Cycle, Reaction, ...) -> ignored;
//   an unknown type or Issue action -> quarantined as unsupported_event.
// Dedup id: StableHash(action, data.id, data.updatedAt): an edit's differs from its
// creation's. Time: data.createdAt for create, data.updatedAt for update, webhookTimestamp
// otherwise.
// Actor: the envelope's `actor` when it is a user (integrations and OAuth apps are not
// people: null); the 2023 captures have none, so create falls back to data.creatorId and a
// comment (created or edited: only its author edits a comment's text) to data.userId; any
// other update or removal without `actor` has no known actor (null).
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common.h"
#include "vendors.h"

namespace teamhealth::sources {
namespace {

namespace od = simdjson::ondemand;

constexpr std::string_view kSource = "linear";

std::optional<std::string_view> OptString(od::value v) {
  std::string_view s;
  if (v.get_string().get(s)) return std::nullopt;
  return s;
}

// Linear state types -> canonical status categories (triage counts as not started).
std::optional<std::string> StateCategory(std::string_view type) {
  if (type == "unstarted" || type == "backlog" || type == "triage") return "todo";
  if (type == "started") return "in_progress";
  if (type == "completed" || type == "canceled") return "done";
  return std::nullopt;
}

// Linear's fixed priority numbers. The payload's priorityLabel follows the workspace's
// display setting (Medium or Normal), so names come from the number for stable values;
// 0 is "No priority", i.e. unset: null.
std::optional<std::string> PriorityName(std::optional<int64_t> p) {
  if (!p) return std::nullopt;
  switch (*p) {
    case 1: return "Urgent";
    case 2: return "High";
    case 3: return "Medium";
    case 4: return "Low";
    default: return std::nullopt;
  }
}

// Keys of updatedFrom that change as a side effect of another change or of ordering, and so
// are not a change of their own: timestamps (startedAt follows a state change, ...), sort
// orders, and derived fields (priorityLabel follows priority, descriptionData follows
// description, subscriberIds follow assignment and comments).
bool NoiseField(std::string_view key) {
  if (key.ends_with("At") && key != "dueDate") return true;  // updatedAt, startedAt, ...
  for (std::string_view k :
       {"sortOrder", "boardOrder", "subIssueSortOrder", "prioritySortOrder", "priorityLabel",
        "descriptionData", "subscriberIds", "previousIdentifiers", "number", "identifier", "url",
        "lastAppliedTemplateId", "reactionData", "integrationSourceType"}) {
    if (key == k) return true;
  }
  return false;
}

// Stable field names shared with the other trackers where the meaning is the same (Linear's
// cycles are its sprints); other keys keep Linear's name.
std::string_view FieldName(std::string_view key) {
  if (key == "labelIds") return "labels";
  if (key == "cycleId") return "sprint";
  if (key == "projectId") return "project";
  if (key == "parentId") return "parent";
  if (key == "teamId") return "team";
  if (key == "projectMilestoneId") return "milestone";
  return key;
}

bool IgnoredType(std::string_view type) {
  for (std::string_view t : {"Project",
                             "ProjectUpdate",
                             "Cycle",
                             "Reaction",
                             "IssueLabel",
                             "Attachment",
                             "Document",
                             "Initiative",
                             "InitiativeUpdate",
                             "User",
                             "Customer",
                             "CustomerNeed",
                             "IssueSLA",
                             "OAuthApp",
                             "AuditEntry",
                             "AppUserNotification",
                             "PermissionChange",
                             "AgentSessionEvent",
                             "IssueRelation",
                             "ProjectMilestone",
                             "Team",
                             "WorkflowState"}) {
    if (type == t) return true;
  }
  return false;
}

class LinearSource final : public JsonSource {
 public:
  explicit LinearSource(const SourceOptions& options) : categories_(options.status_categories) {}
  std::string_view name() const override { return kSource; }

 private:
  // The envelope's own members.
  struct Envelope {
    std::string_view action, type, created_at, actor_id;
    std::optional<int64_t> webhook_ts;
    bool actor_present = false, actor_is_user = true;
  };
  // `data` of an Issue or a Comment: both are read in one pass because `type` may follow it.
  struct Data {
    bool present = false;
    std::string_view id, created_at, updated_at, title, identifier, team_key, creator_id,
        assignee_id, state_id, state_name, state_type, issue_id, user_id;
    std::optional<int64_t> number, priority;
    // A Comment's `issue` reference.
    std::string_view issue_identifier, issue_title, issue_team_key;
    std::optional<int64_t> issue_number;
  };
  struct UpdatedFrom {
    bool present = false;
    bool state = false, assignee = false, priority = false;
    bool text = false;  // a comment's body
    std::string_view state_id, assignee_id;
    std::optional<int64_t> priority_value;
    std::vector<std::string> fields;
  };

  void Read(Object body, const RawRecord& record, NormalizeResult& out) override;
  void Map(const RawRecord& record, NormalizeResult& out) override;

  void Reset();
  bool ReadActor(od::value v);
  bool ReadData(od::value v);
  bool ReadState(od::value v);
  bool ReadIssueRef(od::value v);
  bool ReadUpdatedFrom(od::value v);
  // The time of the action (see the header); nothing after rejecting `out`.
  std::optional<EpochMillis> ActionTime(const RawRecord& record, NormalizeResult& out) const;
  std::string DedupId() const;
  std::string_view ActorId() const;
  // An event about the issue (for a Comment, the issue the comment is on).
  EventBuilder IssueEvent(std::string_view type) const;
  std::optional<std::string> Category(std::string_view state_id, std::string_view state_name) const;
  EventBuilder Created(std::string_view state_name) const;
  void Updated(std::string_view state_name, std::vector<EventBuilder>& events) const;
  std::string_view LearnedName(std::string_view state_id) const;
  void LearnState(std::string_view id, std::string_view name, std::string_view type);

  StatusCategories categories_;
  // State id -> name, so a status change can name its `from` state (updatedFrom has only the
  // old stateId). Workflow states are few per team; bounded anyway.
  std::unordered_map<std::string, std::string> state_names_;
  static constexpr size_t kMaxStates = 100'000;

  // Per record: what Read() found, then what Map() derives from it.
  Envelope env_;
  Data data_;
  UpdatedFrom from_;
  bool create_ = false, update_ = false, comment_ = false;
  EpochMillis at_ = 0;
  std::string dedup_;
  std::string_view actor_;
};

bool ReadTeamKey(od::value v, std::string_view& key) {
  od::object obj;
  if (v.get_object().get(obj)) return true;
  od::value k;
  if (obj.find_field_unordered("key").get(k) == simdjson::SUCCESS) {
    key = OptString(k).value_or("");
  }
  return true;
}

std::optional<int64_t> OptInt(od::value v) {
  int64_t n;
  if (v.get_int64().get(n)) {
    double d;  // Linear's priority is a Float in its schema; whole numbers in practice
    // Only whole numbers a double represents exactly; anything else is not a priority.
    if (v.get_double().get(d) || !(d >= -1e15 && d <= 1e15)) return std::nullopt;
    return static_cast<int64_t>(d);
  }
  return n;
}

bool LinearSource::ReadState(od::value v) {
  od::object state;
  if (v.get_object().get(state)) return true;  // null or another type: no state
  for (auto sf : state) {
    std::string_view sk;
    if (ReadKey(sf, sk)) return false;
    od::value sv;
    if (sf.value().get(sv)) return false;
    if (sk == "name") data_.state_name = OptString(sv).value_or("");
    if (sk == "type") data_.state_type = OptString(sv).value_or("");
    if (sk == "id" && data_.state_id.empty()) data_.state_id = OptString(sv).value_or("");
  }
  return true;
}

// A Comment's reference to its issue.
bool LinearSource::ReadIssueRef(od::value v) {
  od::object issue;
  if (v.get_object().get(issue)) return true;
  for (auto f : issue) {
    std::string_view ik;
    if (ReadKey(f, ik)) return false;
    od::value iv;
    if (f.value().get(iv)) return false;
    if (ik == "id" && data_.issue_id.empty()) data_.issue_id = OptString(iv).value_or("");
    if (ik == "identifier") data_.issue_identifier = OptString(iv).value_or("");
    if (ik == "title") data_.issue_title = OptString(iv).value_or("");
    if (ik == "number") data_.issue_number = OptInt(iv);
    if (ik == "team" && !ReadTeamKey(iv, data_.issue_team_key)) return false;
  }
  return true;
}

bool LinearSource::ReadData(od::value v) {
  od::object obj;
  if (v.get_object().get(obj)) return false;
  data_.present = true;
  for (auto field : obj) {
    std::string_view k;
    if (ReadKey(field, k)) return false;
    od::value fv;
    if (field.value().get(fv)) return false;
    std::string_view* text = k == "id"           ? &data_.id
                             : k == "createdAt"  ? &data_.created_at
                             : k == "updatedAt"  ? &data_.updated_at
                             : k == "title"      ? &data_.title
                             : k == "identifier" ? &data_.identifier
                             : k == "creatorId"  ? &data_.creator_id
                             : k == "assigneeId" ? &data_.assignee_id
                             : k == "stateId"    ? &data_.state_id
                             : k == "issueId"    ? &data_.issue_id
                             : k == "userId"     ? &data_.user_id
                                                 : nullptr;
    bool ok = true;
    if (text) {
      *text = OptString(fv).value_or("");
    } else if (k == "number") {
      data_.number = OptInt(fv);
    } else if (k == "priority") {
      data_.priority = OptInt(fv);
    } else if (k == "team") {
      ok = ReadTeamKey(fv, data_.team_key);
    } else if (k == "state") {
      ok = ReadState(fv);
    } else if (k == "issue") {
      ok = ReadIssueRef(fv);
    }
    // description, descriptionData and a comment's body are never read.
    if (!ok) return false;
  }
  return true;
}

bool LinearSource::ReadUpdatedFrom(od::value v) {
  od::object obj;
  if (v.get_object().get(obj)) return false;
  from_.present = true;
  for (auto field : obj) {
    std::string_view k;
    if (ReadKey(field, k)) return false;
    od::value fv;
    if (field.value().get(fv)) return false;
    if (k == "stateId") {
      from_.state = true;
      from_.state_id = OptString(fv).value_or("");
    } else if (k == "assigneeId") {
      from_.assignee = true;
      from_.assignee_id = OptString(fv).value_or("");  // null: was unassigned
    } else if (k == "priority") {
      from_.priority = true;
      from_.priority_value = OptInt(fv);
    } else if (!NoiseField(k)) {
      from_.text = from_.text || k == "body" || k == "bodyData";  // a comment's text
      // Only the key is used: the previous value (an old title, say) is never read.
      std::string name(FieldName(k));
      bool seen = false;
      for (const auto& f : from_.fields) seen = seen || f == name;
      if (!seen) from_.fields.push_back(std::move(name));
    }
  }
  return true;
}

std::string_view LinearSource::LearnedName(std::string_view state_id) const {
  if (state_id.empty()) return {};
  auto it = state_names_.find(std::string(state_id));
  return it == state_names_.end() ? std::string_view() : std::string_view(it->second);
}

void LinearSource::LearnState(std::string_view id, std::string_view name, std::string_view type) {
  if (id.empty()) return;
  if (auto cat = StateCategory(type)) categories_.Learn(PersonRef(kSource, id), *cat);
  if (name.empty()) return;
  auto it = state_names_.find(std::string(id));
  if (it != state_names_.end()) {
    it->second.assign(name);
  } else if (state_names_.size() < kMaxStates) {
    state_names_.emplace(std::string(id), std::string(name));
  }
}

std::optional<std::string> Str(std::string_view v) {
  if (v.empty()) return std::nullopt;
  return std::string(v);
}

// The issue's identifier (ENG-123): `identifier` when sent, else team key + number.
std::string Identifier(std::string_view ident, std::string_view team,
                       std::optional<int64_t> number) {
  if (!ident.empty()) return std::string(ident);
  if (team.empty() || !number) return {};
  return std::string(team) + "-" + std::to_string(*number);
}

void LinearSource::Reset() {
  env_ = Envelope{};
  data_ = Data{};
  from_.present = from_.state = from_.assignee = from_.priority = from_.text = false;
  from_.state_id = from_.assignee_id = {};
  from_.priority_value.reset();
  from_.fields.clear();  // keeps its capacity across records
}

// The envelope's `actor` (newer deliveries): a user, or an integration or OAuth app.
bool LinearSource::ReadActor(od::value v) {
  od::object actor;
  if (v.get_object().get(actor)) return true;  // null: unknown
  env_.actor_present = true;
  for (auto af : actor) {
    std::string_view ak;
    if (ReadKey(af, ak)) return false;
    od::value av;
    if (af.value().get(av)) return false;
    if (ak == "id") env_.actor_id = OptString(av).value_or("");
    if (ak == "type") env_.actor_is_user = OptString(av).value_or("user") == "user";
  }
  return true;
}

void LinearSource::Read(Object body, const RawRecord&, NormalizeResult& out) {
  Reset();
  for (auto field : body) {
    std::string_view k;
    if (ReadKey(field, k)) return out.Reject(Reason::kInvalidJson, "bad key");
    od::value v;
    if (field.value().get(v)) return out.Reject(Reason::kInvalidJson, "bad value");
    if (k == "action") {
      if (v.get_string().get(env_.action)) {
        return out.Reject(Reason::kInvalidField, "field action");
      }
    } else if (k == "type") {
      if (v.get_string().get(env_.type)) return out.Reject(Reason::kInvalidField, "field type");
    } else if (k == "createdAt") {
      env_.created_at = OptString(v).value_or("");
    } else if (k == "webhookTimestamp") {
      env_.webhook_ts = OptInt(v);
      if (!env_.webhook_ts || *env_.webhook_ts <= 0) {
        return out.Reject(Reason::kBadTimestamp, "field webhookTimestamp");
      }
    } else if (k == "data") {
      if (!ReadData(v)) return out.Reject(Reason::kInvalidField, "field data");
    } else if (k == "updatedFrom") {
      if (!ReadUpdatedFrom(v)) return out.Reject(Reason::kInvalidField, "field updatedFrom");
    } else if (k == "actor") {
      if (!ReadActor(v)) return out.Reject(Reason::kInvalidJson, "field actor");
    }
  }
}

void LinearSource::Map(const RawRecord& record, NormalizeResult& out) {
  if (env_.action.empty()) return out.Reject(Reason::kMissingField, "field action");
  if (env_.type.empty()) return out.Reject(Reason::kMissingField, "field type");
  const bool is_issue = env_.type == "Issue";
  comment_ = env_.type == "Comment";
  if (!is_issue && !comment_) {
    if (IgnoredType(env_.type)) {
      out.ignored = true;
      return;
    }
    return out.Reject(Reason::kUnsupportedEvent, "type not mapped");
  }
  create_ = env_.action == "create";
  update_ = env_.action == "update";
  const bool remove = env_.action == "remove";
  if (!create_ && !update_ && !remove) return out.Reject(Reason::kUnsupportedEvent, "action");
  if (!data_.present) return out.Reject(Reason::kMissingField, "field data");
  if (data_.id.empty()) return out.Reject(Reason::kMissingField, "field data.id");

  // Learn the current state from every Issue payload, whatever the action.
  if (is_issue) LearnState(data_.state_id, data_.state_name, data_.state_type);

  if (update_ && !from_.present) return out.Reject(Reason::kMissingField, "field updatedFrom");
  // A deleted comment is no new work; a comment update that did not change its text
  // (reactions, a resolved thread) is no edit.
  if (comment_ && (remove || (update_ && !from_.text))) {
    out.ignored = true;
    return;
  }
  if (comment_ && data_.issue_id.empty()) {
    return out.Reject(Reason::kMissingField, "field data.issueId");
  }
  const auto at = ActionTime(record, out);
  if (!at) return;
  at_ = *at;
  dedup_ = DedupId();
  actor_ = ActorId();

  const std::string_view state_name =
      data_.state_name.empty() ? LearnedName(data_.state_id) : data_.state_name;
  std::vector<EventBuilder> events;
  if (comment_) {
    auto b = IssueEvent("work_item.commented");
    if (update_) b.AttrBool("edited", true);
    events.push_back(std::move(b));
  } else if (create_) {
    events.push_back(Created(state_name));
  } else if (remove) {
    events.push_back(IssueEvent("work_item.deleted"));
  } else {
    Updated(state_name, events);
  }
  EmitAll(events, record, out);  // none: an update that changed only ordering or timestamps
}

// Created for create, the update itself for update; a removal has no time of its own in data
// (updatedAt is the last edit), so the delivery time.
std::optional<EpochMillis> LinearSource::ActionTime(const RawRecord& record,
                                                    NormalizeResult& out) const {
  const std::string_view when = create_ ? data_.created_at : update_ ? data_.updated_at : "";
  if (!when.empty()) {
    const auto ms = ParseRfc3339(when);
    if (!ms) {
      out.Reject(Reason::kBadTimestamp, create_ ? "field data.createdAt" : "field data.updatedAt");
    }
    return ms;
  }
  if (env_.webhook_ts) return *env_.webhook_ts;
  if (!env_.created_at.empty()) {
    const auto ms = ParseRfc3339(env_.created_at);
    if (!ms) out.Reject(Reason::kBadTimestamp, "field createdAt");
    return ms;
  }
  return record.timestamp_ms;
}

// Action, object id and update time: a redelivery carries the same three.
std::string LinearSource::DedupId() const {
  const std::string ts_fallback = env_.webhook_ts ? std::to_string(*env_.webhook_ts) : "";
  return StableHash({env_.action, data_.id,
                     data_.updated_at.empty() ? std::string_view(ts_fallback) : data_.updated_at});
}

std::string_view LinearSource::ActorId() const {
  if (env_.actor_present) return env_.actor_is_user ? env_.actor_id : std::string_view();
  if (comment_) return data_.user_id;  // created or edited: the comment's author
  if (create_) return data_.creator_id;
  return {};
}

EventBuilder LinearSource::IssueEvent(std::string_view type) const {
  EventBuilder b(kSource, dedup_, type);
  b.At(at_).Actor(actor_);
  const bool ref = comment_;  // a Comment names its issue by reference
  b.Subject("work_item", ref ? data_.issue_id : data_.id);
  const std::string key =
      ref ? Identifier(data_.issue_identifier, data_.issue_team_key, data_.issue_number)
          : Identifier(data_.identifier, data_.team_key, data_.number);
  const std::string_view project = ref ? data_.issue_team_key : data_.team_key;
  const std::string_view title = ref ? data_.issue_title : data_.title;
  if (!key.empty()) b.SubjectKey(key);
  if (!project.empty()) b.SubjectProject(project);
  if (!title.empty()) b.SubjectTitle(title);
  return b;
}

std::optional<std::string> LinearSource::Category(std::string_view state_id,
                                                  std::string_view state_name) const {
  return categories_.Lookup(PersonRef(kSource, state_id), PersonRef(kSource, state_name));
}

EventBuilder LinearSource::Created(std::string_view state_name) const {
  auto b = IssueEvent("work_item.created");
  b.AttrOpt("status", Str(state_name))
      .AttrOpt("status_category", data_.state_id.empty() && state_name.empty()
                                      ? std::nullopt
                                      : Category(data_.state_id, state_name))
      .AttrOpt("priority", PriorityName(data_.priority))
      .AttrPerson("assignee", data_.assignee_id)
      .Attr("item_type", "issue");
  return b;
}

// One event per key of updatedFrom that has a type of its own, then one work_item.updated.
void LinearSource::Updated(std::string_view state_name, std::vector<EventBuilder>& events) const {
  if (from_.state) {
    // updatedFrom has only the old stateId: its name is known only if an earlier payload
    // showed that state (learned), else null; likewise its category.
    const std::string_view from_name = LearnedName(from_.state_id);
    auto b = IssueEvent("work_item.status_changed");
    b.AttrOpt("from", Str(from_name))
        .AttrOpt("to", Str(state_name))
        .AttrOpt("from_category",
                 from_.state_id.empty() ? std::nullopt : Category(from_.state_id, from_name))
        .AttrOpt("to_category", Category(data_.state_id, state_name));
    events.push_back(std::move(b));
  }
  if (from_.assignee) {
    auto b = IssueEvent("work_item.assigned");
    b.AttrPerson("from", from_.assignee_id).AttrPerson("to", data_.assignee_id);
    events.push_back(std::move(b));
  }
  if (from_.priority) {
    auto b = IssueEvent("work_item.priority_changed");
    b.AttrOpt("from", PriorityName(from_.priority_value))
        .AttrOpt("to", PriorityName(data_.priority));
    events.push_back(std::move(b));
  }
  if (!from_.fields.empty()) {
    auto b = IssueEvent("work_item.updated");
    b.AttrList("fields", from_.fields);
    events.push_back(std::move(b));
  }
}

}  // namespace

std::unique_ptr<Source> MakeLinearSource(const SourceOptions& options) {
  return std::make_unique<LinearSource>(options);
}

}  // namespace teamhealth::sources
