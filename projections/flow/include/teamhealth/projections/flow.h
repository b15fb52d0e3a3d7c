#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "teamhealth/projections/expiry_index.h"
#include "teamhealth/projections/projection.h"
#include "teamhealth/projections/string_map.h"

namespace teamhealth::projections {

// Flow and cycle time (docs/design.md section 7) plus the WIP gauge: cycle and lead time, completed
// and reopened work items, reassignments, priority changes, pull request pickup and review
// time, and in-progress items per team.
//
// Definitions where the design is silent (see projections/flow/README.md for the full list):
// - Completions count every entry into `done`, reopens every exit from it, so completed -
//   reopened is the net number of items finished. Cycle and lead time are observed on the
//   FIRST entry into done only, and only for items whose creation is in the log (an item
//   created before the log began has an unknown history).
// - Cycle time is the sum of every stay in `in_progress` up to that first entry into done.
// - A null category keeps the item's previous category; `from_category` is used only to learn
//   the category of an item whose current category is unknown (e.g. pruned, or created before
//   the log), which lets a reopen still be counted after its item was pruned.
// - work_item.* events about a pull_request subject (GitHub PR assignees and labels) are not
//   work items and are ignored here.
//
// State: open work items (and done or deleted ones for 90 days of inactivity), open pull
// requests whose opening was seen (closed ones for 90 days), so memory is O(open items).
// Not thread-safe.
class Flow final : public Projection {
 public:
  // No setting of Settings changes a flow definition today.
  explicit Flow(const Settings& /*settings*/) {}

  std::string_view name() const override { return "flow"; }
  // 1 was the placeholder that counted nothing: 2 makes old checkpoints rebuild. 3: items and
  // pull requests keyed by the pipeline's subject key (EventView::subject_key).
  uint32_t version() const override { return 3; }
  void Apply(const schema::EventView& e, const DirectoryView& directory, MetricSink& sink) override;
  void ExportGauges(EpochMillis now, const DirectoryView& directory,
                    MetricSink& sink) const override;
  std::string Save() const override;
  bool Load(std::string_view bytes) override;

  // Forgets done, deleted and unknown-state items and closed pull requests inactive for 90
  // days before `now`. Apply() calls it every 10,000 events; public for tests.
  void Prune(EpochMillis now);

 private:
  enum class Category : uint8_t { kUnknown = 0, kTodo = 1, kInProgress = 2, kDone = 3 };

  struct Item {
    std::string project;
    std::string item_type;  // from work_item.created; empty: not seen
    std::string assignee;   // empty: unassigned (or unknown)
    Category category = Category::kUnknown;
    EpochMillis created_at = -1;         // -1: creation not in the log
    EpochMillis in_progress_since = -1;  // start of the current stay, -1 when not in one
    int64_t in_progress_ms = 0;          // closed stays so far
    bool ever_in_progress = false;
    bool gap = false;  // in progress since an unseen instant: cycle time unknown
    bool done_once = false;
    bool deleted = false;
    EpochMillis last_at = 0;
  };

  struct PullRequest {
    std::string project;
    std::string author;  // actor of pull_request.opened; empty: a bot or unknown system
    EpochMillis ready_at = 0;
    EpochMillis first_review_at = -1;  // first review by someone else; -1: none yet
    bool closed = false;
    EpochMillis last_at = 0;
  };

  // The series one team's events increment, resolved (InternSeries) at the team's first
  // increment so that each goes by id (issue 13); those also labelled by item type on the
  // first completion of that type.
  struct ItemTypeSeries {
    const Series* completed = nullptr;
    const Series* lead_time = nullptr;
    const Series* cycle_time = nullptr;
  };
  struct TeamSeries {
    const Series* reassignments = nullptr;
    const Series* priority_changes = nullptr;
    const Series* reopened = nullptr;
    const Series* pr_pickup = nullptr;
    const Series* pr_review = nullptr;
    StringMap<ItemTypeSeries> by_item_type;
  };

  static Category ParseCategory(std::string_view text);
  TeamSeries& SeriesOf(std::string_view team);
  void ApplyWorkItem(const schema::EventView& e, const DirectoryView& directory, MetricSink& sink);
  void ChangeItem(const schema::EventView& e, Item& item, bool fresh,
                  const DirectoryView& directory, MetricSink& sink);
  // Done, deleted or of unknown state: forgotten once inactive for kKeepFinishedMs.
  static bool Finished(const Item& item);
  void ChangeCategory(Item& item, Category to, EpochMillis at, std::string_view team,
                      MetricSink& sink);
  void ApplyPullRequest(const schema::EventView& e, const DirectoryView& directory, MetricSink& sink);
  const std::string& ItemTeam(const Item& item, std::string_view source, EpochMillis at,
                       const DirectoryView& directory) const;
  const std::string& PullRequestTeam(const PullRequest& pr, std::string_view source, EpochMillis at,
                              const DirectoryView& directory) const;

  // Hashed: looked up at every work item and pull request event (Save writes them in key order).
  StringMap<Item> items_;       // by source + ":" + subject.id
  StringMap<PullRequest> prs_;  // by source + ":" + subject.id
  // The finished items and closed pull requests by last_at (ExpiryIndex::Update after each
  // event), so that Prune visits only those that may expire (rebuilt by Load).
  ExpiryIndex finished_items_;
  ExpiryIndex closed_prs_;
  uint64_t applied_ = 0;
  // A cache, not state: Save, Load and version() ignore it (a Series never changes).
  StringMap<TeamSeries> series_;
  std::string key_;  // a subject key when the pipeline stamped none (SubjectKey), not state
};

}  // namespace teamhealth::projections
