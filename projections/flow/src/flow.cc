#include "teamhealth/projections/flow.h"

#include <algorithm>

#include "teamhealth/projections/bytes.h"
#include "teamhealth/projections/event_access.h"
#include "teamhealth/projections/prune.h"

namespace teamhealth::projections {
namespace {

// A done or deleted item (or a closed pull request) is kept this long after its last event so
// that a reopen finds its history (no second cycle or lead time). After that, a reopen is
// still counted from the event's from_category.
constexpr EpochMillis kKeepFinishedMs = 90LL * 86'400'000;
constexpr uint64_t kFormat = 1;           // Save() layout; Load() rejects anything else

constexpr uint64_t kEverInProgress = 1, kGap = 2, kDoneOnce = 4, kDeleted = 8;

// The team of an item or pull request neither a project nor a person maps.
const std::string kUnmapped = "unmapped";

double Seconds(EpochMillis from, EpochMillis to) {
  // Event times may run backwards across sources (clock skew): never a negative duration.
  return static_cast<double>(std::max<EpochMillis>(0, to - from)) / 1000.0;
}

}  // namespace

Flow::Category Flow::ParseCategory(std::string_view text) {
  if (text == "todo") return Category::kTodo;
  if (text == "in_progress") return Category::kInProgress;
  if (text == "done") return Category::kDone;
  return Category::kUnknown;  // null or unrecognised: the item keeps its category
}

Flow::TeamSeries& Flow::SeriesOf(std::string_view team) {
  auto [it, fresh] = FindOrInsert(series_, team);
  TeamSeries& s = it->second;
  if (!fresh) return s;
  const Labels labels = MakeLabels({{"team", team}});
  s.reassignments = &InternSeries("teamhealth_reassignments_total", labels);
  s.priority_changes = &InternSeries("teamhealth_priority_changes_total", labels);
  s.reopened = &InternSeries("teamhealth_work_items_reopened_total", labels);
  s.pr_pickup = &InternSeries("teamhealth_pr_pickup_seconds", labels);
  s.pr_review = &InternSeries("teamhealth_pr_review_seconds", labels);
  return s;
}

void Flow::Apply(const schema::EventView& e, const DirectoryView& directory, MetricSink& sink) {
  const schema::TypeFamily family = e.type_family();
  if (family == schema::TypeFamily::kWorkItem) {
    // GitHub maps PR assignee and label changes to work_item.* on a pull_request subject:
    // those are not work items.
    if (e.subject_kind() != schema::SubjectKind::kPullRequest) ApplyWorkItem(e, directory, sink);
  } else if (family == schema::TypeFamily::kPullRequest) {
    ApplyPullRequest(e, directory, sink);
  }
  if (++applied_ % kPruneEvery == 0) Prune(e.occurred_at_ms());
}

void Flow::ApplyWorkItem(const schema::EventView& e, const DirectoryView& directory, MetricSink& sink) {
  const std::string_view type = e.type();
  const std::string_view key = SubjectKey(e, key_);
  // Only events that carry state start tracking an unseen item: a comment on an old item
  // must not keep it in memory forever. Others use a scratch copy for the team.
  const bool stateful = type == "work_item.created" || type == "work_item.status_changed" ||
                        type == "work_item.assigned";
  auto it = items_.find(key);
  bool was_finished = false;
  EpochMillis was_at = 0;
  if (it == items_.end()) {
    if (!stateful) {
      Item scratch;
      ChangeItem(e, scratch, false, directory, sink);
      return;
    }
    it = items_.try_emplace(std::string(key)).first;
    ChangeItem(e, it->second, true, directory, sink);
  } else {
    was_finished = Finished(it->second);
    was_at = it->second.last_at;
    ChangeItem(e, it->second, false, directory, sink);
  }
  finished_items_.Update(it->first, was_finished, was_at, Finished(it->second),
                         it->second.last_at);
}

bool Flow::Finished(const Item& item) {
  // Open items (todo, in progress, or created with an unknown category) stay: they are WIP or
  // still have a lead time to observe.
  return item.deleted || item.category == Category::kDone ||
         (item.category == Category::kUnknown && item.created_at < 0);
}

void Flow::ChangeItem(const schema::EventView& e, Item& item, bool fresh,
                      const DirectoryView& directory, MetricSink& sink) {
  const EpochMillis at = e.occurred_at_ms();
  const std::string_view type = e.type();
  if (item.deleted) return;  // a tombstone: nothing more happens to a deleted item
  if (!e.subject().project().empty()) item.project = e.subject().project();
  item.last_at = std::max(item.last_at, at);

  if (type == "work_item.created") {
    if (item.created_at >= 0) return;  // already created: keep the first creation
    item.created_at = at;
    item.item_type = StringAttr(e, AttrName::kItemType);
    if (item.item_type.empty()) item.item_type = "unknown";
    // Events seen before the creation (out of order) are newer: they win.
    if (fresh) item.assignee = StringAttr(e, AttrName::kAssignee);
    if (item.category == Category::kUnknown) {
      ChangeCategory(item, ParseCategory(StringAttr(e, AttrName::kStatusCategory)), at,
                     ItemTeam(item, e.source(), at, directory), sink);
    }
  } else if (type == "work_item.status_changed") {
    const Category from = ParseCategory(StringAttr(e, AttrName::kFromCategory));
    if (item.category == Category::kUnknown && from != Category::kUnknown) {
      // Learn where an item of unknown state stands, without counting an entry into it.
      item.category = from;
      if (from == Category::kDone) item.done_once = true;
      if (from == Category::kInProgress) {
        item.ever_in_progress = true;
        item.gap = true;  // in progress since an instant we did not see
      }
    }
    ChangeCategory(item, ParseCategory(StringAttr(e, AttrName::kToCategory)), at,
                   ItemTeam(item, e.source(), at, directory), sink);
  } else if (type == "work_item.assigned") {
    const std::string_view from = StringAttr(e, AttrName::kFrom);
    const std::string_view to = StringAttr(e, AttrName::kTo);
    item.assignee = to;
    // Counted for the item's team after the change (the new assignee's, if no project team).
    if (!from.empty() && !to.empty() && from != to) {
      sink.AddSeries(*SeriesOf(ItemTeam(item, e.source(), at, directory)).reassignments, 1, at);
    }
  } else if (type == "work_item.priority_changed") {
    sink.AddSeries(*SeriesOf(ItemTeam(item, e.source(), at, directory)).priority_changes, 1,
                   at);
  } else if (type == "work_item.deleted") {
    item.deleted = true;
  }
}

void Flow::ChangeCategory(Item& item, Category to, EpochMillis at, std::string_view team,
                          MetricSink& sink) {
  if (to == Category::kUnknown || to == item.category) return;
  const Category from = item.category;
  if (from == Category::kInProgress && item.in_progress_since >= 0) {
    item.in_progress_ms += std::max<EpochMillis>(0, at - item.in_progress_since);
  }
  item.in_progress_since = -1;
  item.category = to;
  if (to == Category::kInProgress) {
    item.in_progress_since = at;
    item.ever_in_progress = true;
  }
  if (from != Category::kDone && to != Category::kDone) return;
  TeamSeries& series = SeriesOf(team);
  if (from == Category::kDone) sink.AddSeries(*series.reopened, 1, at);
  if (to != Category::kDone) return;
  // A view on both sides: with "unknown" as a char array the ?: would make a temporary string.
  const std::string_view item_type =
      item.item_type.empty() ? std::string_view("unknown") : item.item_type;
  auto [by_type, fresh] = FindOrInsert(series.by_item_type, item_type);
  ItemTypeSeries& typed = by_type->second;
  if (fresh) {
    const Labels labels = MakeLabels({{"team", team}, {"item_type", item_type}});
    typed.completed = &InternSeries("teamhealth_work_items_completed_total", labels);
    typed.lead_time = &InternSeries("teamhealth_lead_time_seconds", labels);
    typed.cycle_time = &InternSeries("teamhealth_cycle_time_seconds", labels);
  }
  sink.AddSeries(*typed.completed, 1, at);
  if (item.done_once) return;
  item.done_once = true;
  // Only an item whose whole history is in the log has a known lead and cycle time.
  if (item.created_at < 0) return;
  sink.ObserveSeries(*typed.lead_time, Seconds(item.created_at, at), at);
  if (item.ever_in_progress && !item.gap) {
    sink.ObserveSeries(*typed.cycle_time, static_cast<double>(item.in_progress_ms) / 1000.0, at);
  }
}

void Flow::ApplyPullRequest(const schema::EventView& e, const DirectoryView& directory,
                            MetricSink& sink) {
  const EpochMillis at = e.occurred_at_ms();
  const std::string_view type = e.type();
  const std::string_view key = SubjectKey(e, key_);
  auto it = prs_.find(key);
  if (type == "pull_request.opened") {
    if (it != prs_.end()) return;  // opened twice: the first opening stands
    PullRequest pr;
    pr.project = e.subject().project();
    pr.author = e.actor();
    pr.ready_at = at;
    pr.last_at = at;
    prs_.emplace(std::string(key), std::move(pr));
    return;
  }
  // Without the opening the author is unknown, so a self-review cannot be told apart.
  if (it == prs_.end()) return;
  PullRequest& pr = it->second;
  const bool was_closed = pr.closed;
  const EpochMillis was_at = pr.last_at;
  if (!e.subject().project().empty()) pr.project = e.subject().project();
  pr.last_at = std::max(pr.last_at, at);
  if (type == "pull_request.ready_for_review") {
    // A draft's wait for review starts when it is ready; once picked up, it no longer matters.
    if (pr.first_review_at < 0) pr.ready_at = at;
  } else if (type == "pull_request.reviewed") {
    // A pickup is a person other than the author reviewing; a dismissal is not a review, and
    // a null actor is a bot or system.
    const std::string_view reviewer = e.actor();
    if (pr.first_review_at < 0 && !reviewer.empty() && reviewer != pr.author &&
        StringAttr(e, AttrName::kState) != "dismissed") {
      pr.first_review_at = at;
      sink.ObserveSeries(*SeriesOf(PullRequestTeam(pr, e.source(), at, directory)).pr_pickup,
                         Seconds(pr.ready_at, at), at);
    }
  } else if (type == "pull_request.merged") {
    if (pr.first_review_at >= 0) {
      sink.ObserveSeries(*SeriesOf(PullRequestTeam(pr, e.source(), at, directory)).pr_review,
                         Seconds(pr.first_review_at, at), at);
    }
    prs_.erase(it);  // nothing can follow a merge
    return;
  } else if (type == "pull_request.closed") {
    pr.closed = true;  // kept for a while: GitHub can reopen and then merge it
  }
  closed_prs_.Update(it->first, was_closed, was_at, pr.closed, pr.last_at);
}

const std::string& Flow::ItemTeam(const Item& item, std::string_view source, EpochMillis at,
                                  const DirectoryView& directory) const {
  if (!item.project.empty()) {
    if (const std::string* team = directory.ProjectTeam(source, item.project)) return *team;
  }
  if (!item.assignee.empty()) return directory.TeamAt(item.assignee, at);
  return kUnmapped;
}

const std::string& Flow::PullRequestTeam(const PullRequest& pr, std::string_view source,
                                         EpochMillis at, const DirectoryView& directory) const {
  if (!pr.project.empty()) {
    if (const std::string* team = directory.ProjectTeam(source, pr.project)) return *team;
  }
  if (!pr.author.empty()) return directory.TeamAt(pr.author, at);
  return kUnmapped;
}

// Exactly the finished items and closed pull requests with now - last_at > kKeepFinishedMs:
// each has a note at its last_at; notes of those active or reopened since are stale.
void Flow::Prune(EpochMillis now) {
  const EpochMillis cut = now - kKeepFinishedMs;
  finished_items_.Expire(cut, [&](std::string_view key, EpochMillis at) {
    auto it = items_.find(key);
    if (it != items_.end() && Finished(it->second) && it->second.last_at == at) items_.erase(it);
  });
  closed_prs_.Expire(cut, [&](std::string_view key, EpochMillis at) {
    auto it = prs_.find(key);
    if (it != prs_.end() && it->second.closed && it->second.last_at == at) prs_.erase(it);
  });
}

void Flow::ExportGauges(EpochMillis now, const DirectoryView& directory, MetricSink& sink) const {
  std::map<std::string, int> wip;
  for (const auto& team : directory.Teams()) wip[team] = 0;
  for (const auto& [_, item] : items_) {
    // WIP follows the assignee (their team at `now`), not the project.
    if (item.deleted || item.category != Category::kInProgress || item.assignee.empty()) {
      continue;
    }
    wip[directory.TeamAt(item.assignee, now)] += 1;
  }
  for (const auto& [team, n] : wip) {
    sink.Set("teamhealth_wip_items", MakeLabels({{"team", team}}), n);
  }
}

std::string Flow::Save() const {
  std::string out;
  ByteWriter w(out);
  w.U64(kFormat);
  w.U64(applied_);
  w.U64(items_.size());
  for (const auto* entry : SortedByKey(items_)) {
    const auto& [key, item] = *entry;
    w.Str(key);
    w.Str(item.project);
    w.Str(item.item_type);
    w.Str(item.assignee);
    w.U64(static_cast<uint64_t>(item.category));
    w.I64(item.created_at);
    w.I64(item.in_progress_since);
    w.I64(item.in_progress_ms);
    w.U64((item.ever_in_progress ? kEverInProgress : 0) | (item.gap ? kGap : 0) |
          (item.done_once ? kDoneOnce : 0) | (item.deleted ? kDeleted : 0));
    w.I64(item.last_at);
  }
  w.U64(prs_.size());
  for (const auto* entry : SortedByKey(prs_)) {
    const auto& [key, pr] = *entry;
    w.Str(key);
    w.Str(pr.project);
    w.Str(pr.author);
    w.I64(pr.ready_at);
    w.I64(pr.first_review_at);
    w.U64(pr.closed ? 1 : 0);
    w.I64(pr.last_at);
  }
  return out;
}

bool Flow::Load(std::string_view bytes) {
  ByteReader r(bytes);
  if (r.U64() != kFormat || !r.ok()) return false;
  const uint64_t applied = r.U64();
  decltype(items_) items;
  for (uint64_t n = r.U64(); r.ok() && n > 0; --n) {
    std::string key = r.Str();
    Item item;
    item.project = r.Str();
    item.item_type = r.Str();
    item.assignee = r.Str();
    const uint64_t category = r.U64();
    item.created_at = r.I64();
    item.in_progress_since = r.I64();
    item.in_progress_ms = r.I64();
    const uint64_t flags = r.U64();
    item.last_at = r.I64();
    if (!r.ok() || category > static_cast<uint64_t>(Category::kDone) || flags > 15) return false;
    item.category = static_cast<Category>(category);
    item.ever_in_progress = flags & kEverInProgress;
    item.gap = flags & kGap;
    item.done_once = flags & kDoneOnce;
    item.deleted = flags & kDeleted;
    if (!items.emplace(std::move(key), std::move(item)).second) return false;
  }
  decltype(prs_) prs;
  for (uint64_t n = r.U64(); r.ok() && n > 0; --n) {
    std::string key = r.Str();
    PullRequest pr;
    pr.project = r.Str();
    pr.author = r.Str();
    pr.ready_at = r.I64();
    pr.first_review_at = r.I64();
    const uint64_t closed = r.U64();
    pr.last_at = r.I64();
    if (!r.ok() || closed > 1) return false;
    pr.closed = closed == 1;
    if (!prs.emplace(std::move(key), std::move(pr)).second) return false;
  }
  if (!r.ok() || !r.done()) return false;
  applied_ = applied;
  items_ = std::move(items);
  prs_ = std::move(prs);
  finished_items_.Clear();
  for (const auto& [key, item] : items_) {
    if (Finished(item)) finished_items_.Note(item.last_at, key);
  }
  closed_prs_.Clear();
  for (const auto& [key, pr] : prs_) {
    if (pr.closed) closed_prs_.Note(pr.last_at, key);
  }
  return true;
}

}  // namespace teamhealth::projections
