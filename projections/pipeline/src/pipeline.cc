#include "teamhealth/projections/pipeline.h"

#include "teamhealth/projections/event_access.h"
#include "teamhealth/projections/registry.h"

namespace teamhealth::projections {

Pipeline::Pipeline(DirectoryView directory, const Settings& settings)
    : Pipeline(std::move(directory), settings, MakeProjections(settings)) {}

Pipeline::Pipeline(DirectoryView directory, const Settings& settings,
                   std::vector<std::unique_ptr<Projection>> projections)
    : directory_(std::move(directory)),
      settings_(settings),
      projections_(std::move(projections)) {}

void Pipeline::Preload(const schema::Event& e) {
  schema::ViewOf(e, view_);
  Preload(view_);
}

void Pipeline::Preload(const schema::EventView& e) {
  if (e.type_code() != schema::EventType::kDirectory) return;
  if (!preloaded_.emplace(e.id()).second) return;
  directory_.Apply(e);
  resolver_.Learn(e);
}

void Pipeline::Resolve(schema::EventView& e) {
  resolver_.Resolve(e);
  // The actor's id: the projections reach its entry and their state of it by index.
  if (!e.actor().empty()) e.set_actor_id(directory_.Intern(e.actor()));
  // Built once here, not by each projection that keys state by subject (issue 13): a work
  // activity's subject, or the item, pull request or incident a typed event is about.
  e.set_subject_key({});  // not another pipeline's (a view applied to two)
  if (e.subject_kind() != schema::SubjectKind::kOther ||
      e.type_family() == schema::TypeFamily::kWorkItem ||
      e.type_family() == schema::TypeFamily::kPullRequest ||
      e.type_family() == schema::TypeFamily::kIncident) {
    e.set_subject_key(SubjectKey(e, subject_key_));
  }
}

void Pipeline::ApplyDirectory(const schema::EventView& e) {
  if (preloaded_.contains(e.id())) return;
  directory_.Apply(e);
  if (resolver_.Learn(e)) resolution_changed_ = true;
}

void Pipeline::Apply(schema::EventView& e, MetricSink& sink) {
  if (e.type_code() == schema::EventType::kDirectory) return ApplyDirectory(e);
  Resolve(e);
  for (auto& p : projections_) p->Apply(e, directory_, sink);
}

void Pipeline::Apply(const schema::Event& e, MetricSink& sink) {
  schema::ViewOf(e, view_);
  Apply(view_, sink);
}

void Pipeline::Apply(schema::EventView& e, std::span<MetricSink* const> sinks) {
  if (e.type_code() == schema::EventType::kDirectory) return ApplyDirectory(e);
  Resolve(e);
  for (size_t i = 0; i < projections_.size(); ++i) {
    if (sinks[i] != nullptr) projections_[i]->Apply(e, directory_, *sinks[i]);
  }
}

void Pipeline::Apply(const schema::Event& e, std::span<MetricSink* const> sinks) {
  schema::ViewOf(e, view_);
  Apply(view_, sinks);
}

void Pipeline::ExportGauges(EpochMillis now, MetricSink& sink) const {
  for (const auto& p : projections_) p->ExportGauges(now, directory_, sink);
}

namespace {

// Passes on the gauges of some teams only.
class TeamGauges final : public MetricSink {
 public:
  TeamGauges(MetricSink& out, const std::set<std::string>& teams) : out_(out), teams_(teams) {}
  void Add(std::string_view, const Labels&, double, EpochMillis) override {}
  void Observe(std::string_view, const Labels&, double, EpochMillis) override {}
  void Set(std::string_view name, const Labels& labels, double value) override {
    for (const auto& [k, v] : labels) {
      if (k == "team" && WantsTeam(v)) out_.Set(name, labels, value);
    }
  }
  bool WantsTeam(std::string_view team) const override {
    return teams_.contains(std::string(team)) && out_.WantsTeam(team);
  }

 private:
  MetricSink& out_;
  const std::set<std::string>& teams_;
};

}  // namespace

void Pipeline::ExportGauges(EpochMillis now, MetricSink& sink,
                            const std::set<std::string>& teams) const {
  TeamGauges scoped(sink, teams);
  ExportGauges(now, scoped);
}

std::map<std::string, int> Pipeline::TeamSizes(EpochMillis now) const {
  std::map<std::string, int> sizes = directory_.MemberCounts(now);
  for (const auto& team : directory_.Teams()) sizes.emplace(team, 0);  // every team, even empty
  return sizes;
}

std::map<std::string, std::string> Pipeline::KeyNames(
    const std::map<std::string, std::string>& handle_of_ref) const {
  std::map<std::string, std::string> names;
  for (const auto& [ref, handle] : handle_of_ref) names[std::string(resolver_.Resolve(ref))] = handle;
  return names;
}

std::string Pipeline::Tag(size_t i) const {
  const Projection& p = *projections_[i];
  return std::string(p.name()) + "@" + std::to_string(p.version()) + ";" +
         DefinitionTag(settings_, p.name());
}

}  // namespace teamhealth::projections
