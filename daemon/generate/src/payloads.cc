#include "payloads.h"

#include <array>
#include <cstdio>
#include <string>
#include <utility>

namespace teamhealth::generate::internal {
namespace {

constexpr std::string_view kJiraBase = "https://acme.atlassian.net";
constexpr std::string_view kPdBase = "https://acme.pagerduty.com";
constexpr std::string_view kSlackTeam = "T0ACME0001";

struct JiraStatus {
  std::string_view id, name, category_key, category_name;
  int category_id;
};
// Category keys are what the normaliser learns status categories from.
constexpr std::array<JiraStatus, 4> kStatuses = {{
    {"10000", "To Do", "new", "To Do", 2},
    {"3", "In Progress", "indeterminate", "In Progress", 4},
    {"10100", "In Review", "indeterminate", "In Progress", 4},
    {"10001", "Done", "done", "Done", 3},
}};
constexpr std::array<std::string_view, 5> kPriorities = {"Highest", "High", "Medium", "Low",
                                                         "Lowest"};

std::string TopicOf(std::string_view source) {
  return source == "canonical" ? "teamhealth.canonical" : "webhooks." + std::string(source);
}

void Reference(JsonWriter& w, std::string_view type, std::string_view id, std::string_view path,
               std::string_view summary) {
  w.BeginObject().Key("id").String(id).Key("type").String(type);
  w.Key("self").String("https://api.pagerduty.com/" + std::string(path) + "/" + std::string(id));
  w.Key("html_url").String(std::string(kPdBase) + "/" + std::string(path) + "/" + std::string(id));
  w.Key("summary").String(summary).EndObject();
}

}  // namespace

std::string Payloads::JiraTime(EpochMillis ms) {
  std::string s = FormatRfc3339(ms);  // ...T10:00:00.000Z
  s.pop_back();
  return s + "+0000";
}

std::string Payloads::GitHubTime(EpochMillis ms) {
  std::string s = FormatRfc3339(ms - ms % 1000);
  return s.substr(0, s.size() - 5) + "Z";  // drop ".000Z"
}

Record Payloads::Make(std::string_view source, EpochMillis at, std::string body) {
  Record r;
  r.at = at;
  r.source = std::string(source);
  r.topic = TopicOf(source);
  r.body = std::move(body);
  return r;
}

// ---- Jira Cloud ------------------------------------------------------------------------

void Payloads::JiraUser(JsonWriter& w, int person) const {
  if (person == kAutomation) {
    w.BeginObject().Key("self").String(std::string(kJiraBase) + "/rest/api/2/user?accountId=" +
                                       "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077");
    w.Key("accountId").String("557058:f58131cb-b67d-43c7-b30d-6b58d40bd077");
    w.Key("displayName").String("Automation for Jira").Key("active").Bool(true);
    w.Key("timeZone").String("UTC").Key("accountType").String("app").EndObject();
    return;
  }
  if (person < 0) {
    w.Null();
    return;
  }
  const Person& p = org_.people[person];
  w.BeginObject();
  w.Key("self").String(std::string(kJiraBase) + "/rest/api/2/user?accountId=" + p.jira);
  w.Key("accountId").String(p.jira).Key("displayName").String(p.display);
  w.Key("active").Bool(true).Key("timeZone").String(org_.teams[p.team].zone);
  w.Key("accountType").String("atlassian").EndObject();
}

// `full`: an issue_* event's issue; otherwise the cut-down issue of comment events.
void Payloads::JiraIssue(JsonWriter& w, const Ticket& t, bool full) const {
  const Team& team = org_.teams[t.team];
  const JiraStatus& st = kStatuses[t.status];
  w.BeginObject().Key("id").String(t.id);
  w.Key("self").String(std::string(kJiraBase) + "/rest/api/2/" + t.id).Key("key").String(t.key);
  w.Key("fields").BeginObject();
  w.Key("summary").String(t.summary);
  w.Key("issuetype").BeginObject().Key("name").String(t.type).Key("subtask").Bool(false);
  w.EndObject();
  w.Key("project").BeginObject().Key("key").String(team.JiraKey(t.project));
  w.Key("name").String(team.name);
  w.Key("projectTypeKey").String("software").EndObject();
  w.Key("status").BeginObject().Key("id").String(st.id).Key("name").String(st.name);
  w.Key("statusCategory").BeginObject().Key("id").Int(st.category_id);
  w.Key("key").String(st.category_key).Key("name").String(st.category_name).EndObject();
  w.EndObject();
  w.Key("priority").BeginObject().Key("id").String(std::to_string(t.priority + 1));
  w.Key("name").String(kPriorities[t.priority]).EndObject();
  w.Key("assignee");
  JiraUser(w, t.assignee);
  if (full) {
    w.Key("reporter");
    JiraUser(w, t.reporter);
    w.Key("creator");
    JiraUser(w, t.reporter);
    w.Key("created").String(JiraTime(t.created));
    w.Key("labels").BeginArray().EndArray();
  }
  w.EndObject().EndObject();
}

Record Payloads::JiraCreated(const Ticket& t, EpochMillis at, int actor) {
  std::string body;
  JsonWriter w(body);
  w.BeginObject().Key("timestamp").Int(at).Key("webhookEvent").String("jira:issue_created");
  w.Key("issue_event_type_name").String("issue_created").Key("user");
  JiraUser(w, actor);
  w.Key("issue");
  JiraIssue(w, t, true);
  w.EndObject();
  Record r = Make("jira", at, std::move(body));
  r.headers.emplace_back("X-Atlassian-Webhook-Identifier", std::to_string(next_id_++));
  return r;
}

Record Payloads::JiraUpdated(const Ticket& t, EpochMillis at, int actor, std::string_view type_name,
                             const std::vector<ChangeItem>& items) {
  std::string body;
  JsonWriter w(body);
  w.BeginObject().Key("timestamp").Int(at).Key("webhookEvent").String("jira:issue_updated");
  w.Key("issue_event_type_name").String(type_name).Key("user");
  JiraUser(w, actor);
  w.Key("issue");
  JiraIssue(w, t, true);
  w.Key("changelog").BeginObject().Key("id").String(std::to_string(next_id_++));
  w.Key("items").BeginArray();
  for (const ChangeItem& item : items) {
    w.BeginObject().Key("field").String(item.field).Key("fieldtype").String("jira");
    w.Key("fieldId").String(item.field);
    w.Key("from");
    item.from_null ? w.Null() : w.String(item.from);
    w.Key("fromString");
    item.from_null ? w.Null() : w.String(item.from_string);
    w.Key("to");
    item.to_null ? w.Null() : w.String(item.to);
    w.Key("toString");
    item.to_null ? w.Null() : w.String(item.to_string);
    w.EndObject();
  }
  w.EndArray().EndObject().EndObject();
  Record r = Make("jira", at, std::move(body));
  r.headers.emplace_back("X-Atlassian-Webhook-Identifier", std::to_string(next_id_++));
  return r;
}

Record Payloads::JiraComment(const Ticket& t, EpochMillis at, int author) {
  const std::string id = std::to_string(next_id_++);
  std::string body;
  JsonWriter w(body);
  w.BeginObject().Key("timestamp").Int(at).Key("webhookEvent").String("comment_created");
  w.Key("comment").BeginObject();
  w.Key("self").String(std::string(kJiraBase) + "/rest/api/2/issue/" + t.id + "/comment/" + id);
  w.Key("id").String(id).Key("author");
  JiraUser(w, author);
  w.Key("body").String("Synthetic comment.").Key("updateAuthor");
  JiraUser(w, author);
  w.Key("created").String(JiraTime(at)).Key("updated").String(JiraTime(at));
  w.Key("jsdPublic").Bool(true).EndObject();
  w.Key("issue");
  JiraIssue(w, t, false);
  w.EndObject();
  Record r = Make("jira", at, std::move(body));
  r.headers.emplace_back("X-Atlassian-Webhook-Identifier", std::to_string(next_id_++));
  return r;
}

// ---- GitHub ----------------------------------------------------------------------------

void Payloads::GitHubUser(JsonWriter& w, int person) const {
  const Person& p = org_.people[person];
  w.BeginObject().Key("login").String(p.github).Key("id").Int(1000 + person);
  w.Key("html_url").String("https://github.com/" + p.github).Key("type").String("User");
  w.Key("site_admin").Bool(false).EndObject();
}

void Payloads::GitHubRepo(JsonWriter& w, int team, int project) const {
  const std::string& full = org_.teams[team].Repo(project);
  w.BeginObject().Key("id").Int(500000 + 100000 * project + team);
  w.Key("name").String(full.substr(full.find('/') + 1));
  w.Key("full_name").String(full).Key("private").Bool(true);
  w.Key("owner").BeginObject().Key("login").String("acme").Key("type").String("Organization");
  w.EndObject().Key("html_url").String("https://github.com/" + full);
  w.Key("default_branch").String("main").EndObject();
}

Record Payloads::GitHubPr(const PullRequest& pr, EpochMillis at, std::string_view action,
                          int sender) {
  const bool closed = action == "closed";
  const std::string& repo = org_.teams[pr.team].Repo(pr.project);
  std::string body;
  JsonWriter w(body);
  w.BeginObject().Key("action").String(action).Key("number").Int(pr.number);
  w.Key("pull_request").BeginObject();
  w.Key("url").String("https://api.github.com/repos/" + repo + "/pulls/" +
                      std::to_string(pr.number));
  w.Key("id").Int(pr.id).Key("number").Int(pr.number);
  w.Key("state").String(closed ? "closed" : "open").Key("locked").Bool(false);
  w.Key("title").String(pr.title).Key("user");
  GitHubUser(w, pr.author);
  w.Key("body").Null();
  w.Key("created_at").String(GitHubTime(pr.created)).Key("updated_at").String(GitHubTime(at));
  w.Key("closed_at");
  closed ? w.String(GitHubTime(at)) : w.Null();
  w.Key("merged_at");
  closed ? w.String(GitHubTime(at)) : w.Null();
  w.Key("assignee").Null().Key("assignees").BeginArray().EndArray();
  w.Key("requested_reviewers").BeginArray().EndArray();
  w.Key("draft").Bool(false);
  w.Key("head").BeginObject().Key("ref").String(pr.branch).EndObject();
  w.Key("base").BeginObject().Key("ref").String("main").EndObject();
  w.Key("merged").Bool(closed).Key("merged_by");
  closed ? GitHubUser(w, sender) : (void)w.Null();
  w.EndObject();
  w.Key("repository");
  GitHubRepo(w, pr.team, pr.project);
  w.Key("organization").BeginObject().Key("login").String("acme").EndObject();
  w.Key("sender");
  GitHubUser(w, sender);
  w.EndObject();
  Record r = Make("github", at, std::move(body));
  r.headers.emplace_back("X-GitHub-Event", "pull_request");
  r.headers.emplace_back("X-GitHub-Delivery", rng_.Id(32, true));
  return r;
}

Record Payloads::GitHubReview(const PullRequest& pr, EpochMillis at, int reviewer,
                              std::string_view state) {
  const std::string& repo = org_.teams[pr.team].Repo(pr.project);
  std::string body;
  JsonWriter w(body);
  w.BeginObject().Key("action").String("submitted").Key("review").BeginObject();
  w.Key("id").Int(next_id_++).Key("user");
  GitHubUser(w, reviewer);
  w.Key("body").Null().Key("commit_id").String(rng_.Id(40, true));
  w.Key("submitted_at").String(GitHubTime(at)).Key("state").String(state);
  w.Key("author_association").String("MEMBER").EndObject();
  w.Key("pull_request").BeginObject();
  w.Key("url").String("https://api.github.com/repos/" + repo + "/pulls/" +
                      std::to_string(pr.number));
  w.Key("id").Int(pr.id).Key("number").Int(pr.number).Key("state").String("open");
  w.Key("title").String(pr.title).Key("user");
  GitHubUser(w, pr.author);
  w.Key("created_at").String(GitHubTime(pr.created)).Key("updated_at").String(GitHubTime(at));
  w.Key("closed_at").Null().Key("merged_at").Null().Key("draft").Bool(false).EndObject();
  w.Key("repository");
  GitHubRepo(w, pr.team, pr.project);
  w.Key("sender");
  GitHubUser(w, reviewer);
  w.EndObject();
  Record r = Make("github", at, std::move(body));
  r.headers.emplace_back("X-GitHub-Event", "pull_request_review");
  r.headers.emplace_back("X-GitHub-Delivery", rng_.Id(32, true));
  return r;
}

Record Payloads::GitHubIssue(const Ticket& t, int number, EpochMillis at, std::string_view action,
                             int sender) {
  const bool closed = action == "closed";
  std::string body;
  JsonWriter w(body);
  w.BeginObject().Key("action").String(action).Key("issue").BeginObject();
  w.Key("id").Int(900000 + number).Key("number").Int(number).Key("title").String(t.summary);
  w.Key("user");
  GitHubUser(w, t.reporter);
  w.Key("labels").BeginArray().EndArray().Key("state").String(closed ? "closed" : "open");
  w.Key("assignee");
  t.assignee >= 0 ? GitHubUser(w, t.assignee) : (void)w.Null();
  w.Key("assignees").BeginArray();
  if (t.assignee >= 0) GitHubUser(w, t.assignee);
  w.EndArray();
  w.Key("created_at").String(GitHubTime(t.created)).Key("updated_at").String(GitHubTime(at));
  w.Key("closed_at");
  closed ? w.String(GitHubTime(at)) : w.Null();
  w.Key("body").Null().EndObject();
  w.Key("repository");
  GitHubRepo(w, t.team, t.project);
  w.Key("sender");
  GitHubUser(w, sender);
  w.EndObject();
  Record r = Make("github", at, std::move(body));
  r.headers.emplace_back("X-GitHub-Event", "issues");
  r.headers.emplace_back("X-GitHub-Delivery", rng_.Id(32, true));
  return r;
}

// ---- Slack Events API ------------------------------------------------------------------

Record Payloads::SlackMessage(std::string_view channel, std::string_view channel_type, int sender,
                              const std::vector<int>& mentions, const std::vector<int>& recipients,
                              EpochMillis at) {
  // ts is seconds.micros; the sequence keeps two messages in one millisecond distinct, as
  // the dedup id is msg:<channel>:<ts>.
  const int64_t micros = (at % 1000) * 1000 + (slack_seq_++ % 1000);
  char ts[40];
  std::snprintf(ts, sizeof ts, "%lld.%06lld", static_cast<long long>(at / 1000),
                static_cast<long long>(micros));
  std::string text;
  for (int m : mentions) text += "<@" + org_.people[m].slack + "> ";
  text += sender < 0 ? "Deploy finished." : "Synthetic message.";
  std::string body;
  JsonWriter w(body);
  w.BeginObject().Key("token").String("synthetic").Key("team_id").String(kSlackTeam);
  w.Key("api_app_id").String("A0TEAMHLTH").Key("event").BeginObject();
  w.Key("type").String("message");
  if (sender < 0) {
    w.Key("subtype").String("bot_message").Key("bot_id").String("B0DEPLOYBOT");
    w.Key("username").String("deploybot");
  } else {
    w.Key("user").String(org_.people[sender].slack);
  }
  w.Key("text").String(text).Key("ts").String(ts).Key("team").String(kSlackTeam);
  w.Key("channel").String(channel).Key("event_ts").String(ts);
  w.Key("channel_type").String(channel_type).EndObject();
  w.Key("type").String("event_callback").Key("event_id").String("Ev" + rng_.Id(10, false));
  w.Key("event_time").Int(at / 1000).Key("authorizations").BeginArray();
  // A DM is visible to its recipients; the app's bot user sees channel messages.
  if (recipients.empty()) {
    w.BeginObject().Key("enterprise_id").Null().Key("team_id").String(kSlackTeam);
    w.Key("user_id").String("U0TEAMHLTH").Key("is_bot").Bool(true);
    w.Key("is_enterprise_install").Bool(false).EndObject();
  }
  for (int r : recipients) {
    w.BeginObject().Key("enterprise_id").Null().Key("team_id").String(kSlackTeam);
    w.Key("user_id").String(org_.people[r].slack).Key("is_bot").Bool(false);
    w.Key("is_enterprise_install").Bool(false).EndObject();
  }
  w.EndArray().Key("is_ext_shared_channel").Bool(false);
  w.Key("event_context").String("4-synthetic").EndObject();
  return Make("slack", at, std::move(body));
}

// ---- PagerDuty V3 ----------------------------------------------------------------------

void Payloads::PdUser(JsonWriter& w, int person) const {
  const Person& p = org_.people[person];
  Reference(w, "user_reference", p.pagerduty, "users", p.display);
}

Record Payloads::PagerDuty(const Incident& inc, EpochMillis at, std::string_view event_type,
                           int agent) {
  const Team& team = org_.teams[inc.team];
  std::string body;
  JsonWriter w(body);
  w.BeginObject().Key("event").BeginObject();
  w.Key("id").String(rng_.Id(26, false)).Key("event_type").String(event_type);
  w.Key("resource_type").String("incident").Key("occurred_at").String(FormatRfc3339(at));
  w.Key("agent");
  agent >= 0 ? PdUser(w, agent) : (void)w.Null();
  w.Key("client").Null().Key("data").BeginObject();
  w.Key("id").String(inc.id).Key("type").String("incident");
  w.Key("self").String("https://api.pagerduty.com/incidents/" + inc.id);
  w.Key("html_url").String(std::string(kPdBase) + "/incidents/" + inc.id);
  w.Key("number").Int(inc.number).Key("status").String(inc.status);
  w.Key("incident_key").String(inc.key).Key("created_at").String(GitHubTime(inc.created));
  w.Key("title").String(inc.title).Key("service");
  Reference(w, "service_reference", team.service_id, "services", team.name + " production");
  w.Key("assignees").BeginArray();
  for (int a : inc.assignees) PdUser(w, a);
  w.EndArray().Key("escalation_policy");
  Reference(w, "escalation_policy_reference", team.policy_id, "escalation_policies",
            team.name + " escalation");
  w.Key("teams").BeginArray().EndArray().Key("priority");
  if (inc.priority < 0) {
    w.Null();
  } else {
    Reference(w, "priority_reference", "PRIO00" + std::to_string(inc.priority + 1), "priorities",
              "P" + std::to_string(inc.priority + 1));
  }
  w.Key("urgency").String(inc.urgency).Key("conference_bridge").Null();
  w.Key("resolve_reason").Null().EndObject().EndObject().EndObject();
  return Make("pagerduty", at, std::move(body));
}

// ---- canonical -------------------------------------------------------------------------

Record Payloads::Shift(const Team& team, int person, int level, EpochMillis start, EpochMillis end,
                       EpochMillis at) {
  std::string body;
  JsonWriter w(body);
  w.BeginObject();
  w.Key("id").String("canonical:shift-" + team.schedule_id + "-" + std::to_string(start) + "-L" +
                     std::to_string(level));
  w.Key("source").String("canonical").Key("type").String("oncall.shift");
  w.Key("occurred_at").String(FormatRfc3339(at)).Key("actor").Null();
  w.Key("subject").BeginObject().Key("kind").String("schedule").Key("id").String(team.schedule_id);
  w.Key("title").String(team.name + " primary").EndObject();
  w.Key("attrs").BeginObject();
  w.Key("person").String("pagerduty:" + org_.people[person].pagerduty).Key("level").Int(level);
  w.Key("start").String(FormatRfc3339(start)).Key("end").String(FormatRfc3339(end));
  w.EndObject().EndObject();
  return Make("canonical", at, std::move(body));
}

Record Payloads::TimeOff(std::string_view subject_id, int person, EpochMillis start,
                         EpochMillis end, bool cancelled, EpochMillis at) {
  std::string body;
  JsonWriter w(body);
  w.BeginObject();
  w.Key("id").String("canonical:timeoff-" + std::string(subject_id) + "-" + std::to_string(at));
  w.Key("source").String("canonical").Key("type").String("person.time_off");
  w.Key("occurred_at").String(FormatRfc3339(at)).Key("actor").Null();
  w.Key("subject").BeginObject().Key("kind").String("time_off").Key("id").String(subject_id);
  w.EndObject().Key("attrs").BeginObject();
  w.Key("person").String("slack:" + org_.people[person].slack);
  w.Key("start").String(FormatRfc3339(start)).Key("end").String(FormatRfc3339(end));
  if (cancelled) w.Key("cancelled").Bool(true);
  w.EndObject().EndObject();
  return Make("canonical", at, std::move(body));
}

Record Payloads::Pulse(const Team& team, int score, EpochMillis at) {
  std::string body;
  JsonWriter w(body);
  w.BeginObject();
  // A random id: a serial or a member's position would let answers be told apart by person.
  w.Key("id").String("canonical:pulse-" + rng_.Id(20, true));
  w.Key("source").String("canonical").Key("type").String("pulse.response");
  w.Key("occurred_at").String(FormatRfc3339(at)).Key("actor").Null();
  w.Key("subject").BeginObject().Key("kind").String("team").Key("id").String(team.name);
  w.EndObject().Key("attrs").BeginObject().Key("score").Int(score).EndObject().EndObject();
  return Make("canonical", at, std::move(body));
}

}  // namespace teamhealth::generate::internal
