#include "teamhealth/projector/projector.h"

#include <chrono>
#include <thread>

#include "teamhealth/projections/bytes.h"

namespace teamhealth::projector {
namespace {

constexpr std::string_view kStateKey = "state";

}  // namespace

Projector::Projector(storage::Store& store, eventlog::EventLog& log,
                     projections::DirectoryView directory,
                     std::vector<std::unique_ptr<projections::Projection>> projections,
                     const projections::Settings& settings, logging::Logger logger)
    : store_(store),
      log_(log),
      directory_(std::move(directory)),
      projections_(std::move(projections)),
      settings_(settings),
      logger_(std::move(logger)) {}

std::string Projector::Tag() const {
  // Names, versions and every definition that changes what is counted.
  std::string tag;
  for (const auto& p : projections_) {
    tag += std::string(p->name()) + "@" + std::to_string(p->version()) + ";";
  }
  const auto& s = settings_;
  tag += "gap=" + std::to_string(s.session_gap_ms) +
         ";cost=" + std::to_string(s.switch_cost_minutes) +
         ";merge=" + std::to_string(s.page_merge_ms);
  return tag;
}

Status Projector::Start() {
  auto stored = store_.Get(storage::Column::kProjections, kStateKey);
  if (!stored) return stored.error();
  if (!*stored) {
    logger_->info("No projection checkpoint; building from the start of the log.");
    return Status::Ok();
  }
  projections::ByteReader r(**stored);
  const std::string tag = r.Str();
  if (!r.ok()) return Error("corrupt projection checkpoint; delete it to rebuild");
  if (tag != Tag()) {
    logger_->info(
        "Projections or definitions changed; rebuilding from the start of the log. "
        "stored=\"{}\" now=\"{}\"",
        tag, Tag());
    return Status::Ok();
  }
  const uint64_t applied = r.U64();
  bool ok = r.ok() && directory_.Load(r.Str()) && accumulator_.Load(r.Str());
  for (auto& p : projections_) ok = ok && r.ok() && p->Load(r.Str());
  if (!ok || !r.ok()) return Error("corrupt projection checkpoint; delete it to rebuild");
  applied_.store(applied, std::memory_order_release);
  checkpointed_ = applied;
  logger_->info("Resuming projections. applied={}", applied);
  return Status::Ok();
}

Status Projector::Checkpoint() {
  std::string bytes;
  {
    std::lock_guard lock(mu_);
    projections::ByteWriter w(bytes);
    w.Str(Tag());
    w.U64(applied_.load());
    w.Str(directory_.Save());
    w.Str(accumulator_.Save());
    for (const auto& p : projections_) w.Str(p->Save());
  }
  storage::WriteBatch wb;
  wb.Put(storage::Column::kProjections, kStateKey, bytes);
  if (auto s = store_.Write(wb); !s) return s;
  checkpointed_ = applied_.load();
  return Status::Ok();
}

Result<uint64_t> Projector::Step(uint64_t max_events) {
  uint64_t n = 0;
  const uint64_t from = applied_.load() + 1;
  std::lock_guard lock(mu_);
  auto s = log_.ForEach(Sequence(from), [&](Sequence seq, const schema::Event& e) {
    directory_.Apply(e);
    for (auto& p : projections_) p->Apply(e, directory_, accumulator_);
    applied_.store(seq.value(), std::memory_order_release);
    return ++n < max_events;
  });
  if (!s) return s.error();
  return n;
}

Status Projector::CatchUp(uint64_t checkpoint_events) {
  for (;;) {
    auto n = Step(checkpoint_events);
    if (!n) return n.error();
    if (*n > 0 || applied_.load() != checkpointed_) {
      if (auto s = Checkpoint(); !s) return s;
    }
    if (*n < checkpoint_events) return Status::Ok();
  }
}

Status Projector::Run(const std::atomic<bool>& stop) {
  using Clock = std::chrono::steady_clock;
  auto last_checkpoint = Clock::now();
  while (!stop.load(std::memory_order_acquire)) {
    auto n = Step(50000);
    if (!n) return n.error();
    const bool due = Clock::now() - last_checkpoint > std::chrono::seconds(2);
    if (applied_.load() != checkpointed_ && (due || *n >= 50000)) {
      if (auto s = Checkpoint(); !s) return s;
      last_checkpoint = Clock::now();
    }
    if (*n == 0) {
      caught_up_.store(true, std::memory_order_release);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return applied_.load() != checkpointed_ ? Checkpoint() : Status::Ok();
}

projections::Accumulator Projector::Snapshot(EpochMillis now) const {
  std::lock_guard lock(mu_);
  projections::Accumulator snap = accumulator_;
  for (const auto& p : projections_) p->ExportGauges(now, directory_, snap);
  std::map<std::string, int> sizes;
  for (const auto& team : directory_.Teams()) {
    sizes[team] = static_cast<int>(directory_.Members(team, now).size());
  }
  snap.SuppressSmallTeams(sizes, settings_.min_group_size);
  if (settings_.person_metrics) snap.NamePeople(names_);
  return snap;
}

void Projector::SetPeopleNames(std::map<std::string, std::string> names) {
  std::lock_guard lock(mu_);
  names_ = std::move(names);
}

uint64_t Projector::lag() const {
  const uint64_t last = log_.LastSequence().value();
  const uint64_t applied = applied_.load(std::memory_order_acquire);
  return last > applied ? last - applied : 0;
}

}  // namespace teamhealth::projector
