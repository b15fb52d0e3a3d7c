#include "teamhealth/projector/projector.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "teamhealth/projections/bytes.h"

namespace teamhealth::projector {
namespace {

constexpr std::string_view kStateKey = "state";
// Events per step of Run(): a step holds the lock that /metrics and /readyz wait for, and the
// runner has a lower priority than ingest (nice +10), so steps are short.
constexpr uint64_t kStepEvents = 5000;
// Events per turn of the metric facts (their builder runs without that lock).
constexpr uint64_t kFactsStepEvents = 50000;
// Checkpoint layout: format, applied sequence, person resolution, then per projection its
// tag, state and accumulated metrics. Another format rebuilds everything.
constexpr std::string_view kFormat = "pipeline/1";

std::vector<projections::MetricSink*> SinksOf(std::vector<projections::Accumulator>& accs) {
  std::vector<projections::MetricSink*> sinks;
  for (auto& a : accs) sinks.push_back(&a);
  return sinks;
}

}  // namespace

Projector::Projector(storage::Store& store, eventlog::EventLog& log,
                     PipelineFactory make_pipeline, logging::Logger logger)
    : store_(store),
      log_(log),
      make_pipeline_(std::move(make_pipeline)),
      logger_(std::move(logger)) {}

Projector::~Projector() = default;

void Projector::EnableFacts(FactBuilder::Options options, std::function<bool()> gate) {
  facts_ = std::make_unique<FactBuilder>(store_, log_, make_pipeline_, logger_, options);
  facts_options_ = std::move(options);
  facts_gate_ = std::move(gate);
}

Status PreloadDirectory(eventlog::EventLog& log, projections::Pipeline& pipeline) {
  return log.ForEachOfSubjectKind("person", [&](Sequence, const schema::Event& e) {
    pipeline.Preload(e);
    return true;
  });
}

projections::Accumulator ExportedMetrics(projections::Accumulator counters,
                                         const projections::Pipeline& pipeline, EpochMillis now,
                                         const std::map<std::string, std::string>& handle_of_ref) {
  pipeline.ExportGauges(now, counters);
  const auto& settings = pipeline.settings();
  const auto team_sizes = pipeline.TeamSizes(now);
  counters.SuppressSmallTeams(team_sizes, settings.min_group_size);
  counters.AddZeroTeamSeries(team_sizes, settings.min_group_size);
  if (settings.person_metrics) counters.NamePeople(pipeline.KeyNames(handle_of_ref));
  return counters;
}

Status Projector::Replay(projections::Pipeline& pipeline,
                         const std::vector<projections::MetricSink*>& sinks, uint64_t to) {
  if (to == 0) return Status::Ok();
  return log_.ForEachView(Sequence(1), [&](Sequence seq, schema::EventView& e) {
    if (seq.value() > to) return false;
    pipeline.Apply(e, sinks);
    return seq.value() < to;
  });
}

Status Projector::Start() {
  auto pipeline = make_pipeline_();
  if (auto s = PreloadDirectory(log_, *pipeline); !s) return s;
  const size_t n = pipeline->size();
  std::vector<projections::Accumulator> accumulators(n);
  std::vector<bool> fresh(n, true);
  uint64_t applied = 0;

  auto stored = store_.Get(storage::Column::kProjections, kStateKey);
  if (!stored) return stored.error();
  if (!*stored) {
    logger_->info("No projection checkpoint; building from the start of the log.");
  } else {
    projections::ByteReader r(**stored);
    const std::string format = r.Str();
    if (!r.ok()) return Error("corrupt projection checkpoint; delete it to rebuild");
    const uint64_t stored_applied = r.U64();
    const std::string resolution = r.Str();
    std::map<std::string, std::pair<std::string, std::string>> by_tag;
    for (uint64_t k = r.U64(); r.ok() && k > 0; --k) {
      std::string tag = r.Str();
      std::string state = r.Str();
      by_tag[tag] = {std::move(state), r.Str()};
    }
    if (format != kFormat) {
      logger_->info("Projection checkpoint of another format; rebuilding everything. stored={}",
                    format);
    } else if (!r.ok() || !r.done()) {
      return Error("corrupt projection checkpoint; delete it to rebuild");
    } else if (resolution != pipeline->resolver().Save()) {
      logger_->info(
          "The directory now resolves a person reference differently; rebuilding every "
          "projection from the start of the log.");
    } else {
      applied = stored_applied;
      for (size_t i = 0; i < n; ++i) {
        auto it = by_tag.find(pipeline->Tag(i));
        if (it == by_tag.end()) {
          logger_->info("Projection version or definitions changed; rebuilding it. projection={}",
                        pipeline->projection(i).name());
          continue;
        }
        if (!pipeline->LoadProjection(i, it->second.first) ||
            !accumulators[i].Load(it->second.second)) {
          return Error("corrupt projection checkpoint; delete it to rebuild");
        }
        fresh[i] = false;
      }
    }
  }

  std::vector<std::string> rebuilt;
  std::vector<projections::MetricSink*> sinks(n, nullptr);
  for (size_t i = 0; i < n; ++i) {
    if (!fresh[i]) continue;
    sinks[i] = &accumulators[i];
    rebuilt.emplace_back(pipeline->projection(i).name());
  }
  if (rebuilt.size() == n) applied = 0;  // everything from the start, as the log is tailed
  // Projections that rebuild alone catch up with the others before they move on together.
  if (applied > 0 && !rebuilt.empty()) {
    if (auto s = Replay(*pipeline, sinks, applied); !s) return s;
  }
  {
    std::lock_guard lock(mu_);
    pipeline_ = std::move(pipeline);
    accumulators_ = std::move(accumulators);
    rebuilt_ = std::move(rebuilt);
  }
  applied_.store(applied, std::memory_order_release);
  checkpointed_ = applied;
  if (facts_) {
    if (auto s = StartFactsUnlessFull(); !s) return s;
  }
  if (applied > 0) {
    logger_->info("Resuming projections. applied={}", applied);
    if (!rebuilt_.empty()) return Checkpoint();
  }
  return Status::Ok();
}

Status Projector::RebuildAll(const std::string& reason) {
  logger_->info("Rebuilding every projection from the start of the log. reason=\"{}\"", reason);
  auto pipeline = make_pipeline_();
  if (auto s = PreloadDirectory(log_, *pipeline); !s) return s;
  std::vector<projections::Accumulator> accumulators(pipeline->size());
  const uint64_t to = applied_.load();
  if (auto s = Replay(*pipeline, SinksOf(accumulators), to); !s) return s;
  std::vector<std::string> rebuilt;
  for (size_t i = 0; i < pipeline->size(); ++i) {
    rebuilt.emplace_back(pipeline->projection(i).name());
  }
  {
    std::lock_guard lock(mu_);
    pipeline_ = std::move(pipeline);
    accumulators_ = std::move(accumulators);
    rebuilt_ = std::move(rebuilt);
  }
  return CheckpointUnlessFull();
}

Status Projector::Checkpoint() {
  std::string bytes;
  {
    std::shared_lock lock(mu_);  // reads only: readers go on meanwhile
    projections::ByteWriter w(bytes);
    w.Str(kFormat);
    w.U64(applied_.load());
    w.Str(pipeline_->resolver().Save());
    w.U64(pipeline_->size());
    for (size_t i = 0; i < pipeline_->size(); ++i) {
      w.Str(pipeline_->Tag(i));
      w.Str(pipeline_->SaveProjection(i));
      w.Str(accumulators_[i].Save());
    }
  }
  storage::WriteBatch wb;
  wb.Put(storage::Column::kProjections, kStateKey, bytes);
  if (auto s = store_.Write(wb); !s) return s;
  checkpointed_ = applied_.load();
  return Status::Ok();
}

Status Projector::CheckpointUnlessFull() {
  const Status s = Checkpoint();
  const auto now = std::chrono::steady_clock::now();
  if (s) {
    std::lock_guard lock(mu_);
    if (checkpoint_full_) {
      logger_->info("Projection checkpoint written again; the state directory has space. "
                    "paused_for_s={}",
                    std::chrono::duration_cast<std::chrono::seconds>(now - full_since_).count());
      checkpoint_full_.reset();
    }
    return s;
  }
  if (!s.error().no_space()) return s;
  // The projections' state is in memory and stays consistent with applied(): any later
  // checkpoint records both together, so a late one counts nothing twice or never.
  std::lock_guard lock(mu_);
  if (!checkpoint_full_) {
    logger_->error("No space left in the state directory; projection checkpoints paused. The "
                   "projections keep applying the log and checkpoint once space is freed. "
                   "error=\"{}\"",
                   s.error().message());
    full_since_ = now;
  }
  checkpoint_full_ = s.error().message();
  return Status::Ok();
}

std::optional<std::string> Projector::checkpoint_full() const {
  std::shared_lock lock(mu_);
  return checkpoint_full_;
}

Result<uint64_t> Projector::StepFactsUnlessFull() {
  if (facts_full_since_ && std::chrono::steady_clock::now() < facts_retry_at_) {
    return uint64_t{0};
  }
  if (!facts_started_) {
    if (auto s = StartFactsUnlessFull(); !s) return s.error();
    if (!facts_started_) return uint64_t{0};
  }
  Result<uint64_t> built = facts_->Step(kFactsStepEvents);
  if (built) {
    if (facts_full_since_) {
      logger_->info("Metric facts resumed; their writes go through again. paused_for_s={}",
                    std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::steady_clock::now() - *facts_full_since_)
                        .count());
      facts_full_since_.reset();
    }
    return built;
  }
  if (!built.error().no_space()) return built;
  PauseFactsForSpace(built.error());
  return uint64_t{0};
}

Status Projector::StartFactsUnlessFull() {
  // A full disk (a fresh state directory's facts, or changed definitions, start with a write)
  // pauses the facts, not the daemon.
  const Status s = facts_->Start();
  if (s) {
    facts_started_ = true;
    return s;
  }
  if (!s.error().no_space()) return s;
  PauseFactsForSpace(s.error());
  return Status::Ok();
}

void Projector::PauseFactsForSpace(const Error& error) {
  if (!facts_full_since_) {
    logger_->error("No space left in the state directory; the metric facts are paused. They "
                   "start again from their last checkpoint once space is freed (tried every "
                   "10 s). error=\"{}\"",
                   error.message());
    facts_full_since_ = std::chrono::steady_clock::now();
  }
  // What the builder applied since its checkpoint is in memory only, and a failed write may
  // have left it part-way: a new builder starts again from what is stored.
  facts_ = std::make_unique<FactBuilder>(store_, log_, make_pipeline_, logger_, facts_options_);
  facts_started_ = false;
  facts_retry_at_ = std::chrono::steady_clock::now() + std::chrono::seconds(10);
}

Result<uint64_t> Projector::Step(uint64_t max_events) {
  uint64_t n = 0;
  bool rebuild = false;
  {
    const uint64_t from = applied_.load() + 1;
    std::lock_guard lock(mu_);
    const auto sinks = SinksOf(accumulators_);
    auto s = log_.ForEachView(Sequence(from), [&](Sequence seq, schema::EventView& e) {
      pipeline_->Apply(e, sinks);
      applied_.store(seq.value(), std::memory_order_release);
      rebuild = pipeline_->resolution_changed();
      return ++n < max_events && !rebuild;
    });
    if (!s) return s.error();
  }
  if (rebuild) {
    if (auto s = RebuildAll("a directory change re-resolves a person reference"); !s) {
      return s.error();
    }
  }
  return n;
}

Status Projector::CatchUp(uint64_t checkpoint_events) {
  for (;;) {
    auto n = Step(checkpoint_events);
    if (!n) return n.error();
    if (*n > 0 || applied_.load() != checkpointed_ || checkpoint_full()) {
      if (auto s = Checkpoint(); !s) return s;
    }
    if (*n == 0) return Status::Ok();
  }
}

bool CheckpointDue(const CheckpointCadence& cadence, std::chrono::steady_clock::duration since,
                   std::chrono::steady_clock::duration busy,
                   std::chrono::steady_clock::duration last_cost, bool disk_full) {
  if (disk_full) return since >= std::chrono::seconds(10);
  if (since < cadence.min_gap) return false;
  // One slow write (a stalled disk) must not put off the next checkpoint for long: the work
  // weighed against it counts for at most a minute.
  const std::chrono::steady_clock::duration weighed =
      std::min<std::chrono::steady_clock::duration>(cadence.share * last_cost,
                                                    std::chrono::minutes(1));
  return busy >= weighed || since >= cadence.max_age;
}

Status Projector::Run(const std::atomic<bool>& stop) {
  using Clock = std::chrono::steady_clock;
  auto last_checkpoint = Clock::now();
  Clock::duration last_cost{};
  Clock::duration busy{};  // applying events since the last checkpoint
  while (!stop.load(std::memory_order_acquire)) {
    const auto step_start = Clock::now();
    auto n = Step(kStepEvents);
    if (!n) return n.error();
    if (*n > 0) busy += Clock::now() - step_start;
    const bool full = checkpoint_full().has_value();
    const bool pending = applied_.load() != checkpointed_ || full;
    if (pending &&
        CheckpointDue(kProjectorCadence, Clock::now() - last_checkpoint, busy, last_cost, full)) {
      const auto start = Clock::now();
      if (auto s = CheckpointUnlessFull(); !s) return s;
      last_checkpoint = Clock::now();
      last_cost = last_checkpoint - start;
      busy = {};
    }
    // Caught up with the log for now (the step took everything there was): the metric facts
    // get their turn, so that they keep up under steady traffic too.
    uint64_t built = 0;
    if (*n < kStepEvents && facts_ && (!facts_gate_ || facts_gate_())) {
      auto f = StepFactsUnlessFull();
      if (!f) return Error("metric facts: " + f.error().message());
      built = *f;
    }
    if (*n == 0) {
      caught_up_.store(true, std::memory_order_release);
      if (built == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  if (facts_) {
    // Not written: applied again at the next start, like the projections' unwritten progress.
    if (auto f = facts_->Checkpoint(); !f) {
      logger_->warn("The metric facts' last checkpoint was not written. error=\"{}\"",
                    f.error().message());
    }
  }
  if (applied_.load() == checkpointed_ && !checkpoint_full()) return Status::Ok();
  const Status s = Checkpoint();
  if (!s && s.error().no_space()) {
    // Stopping must not fail on a full disk: the last checkpoint written stays consistent,
    // and the next start applies the events after it again.
    logger_->warn("The final projection checkpoint was not written: no space left in the "
                  "state directory. The next start resumes from the last checkpoint written. "
                  "applied={} checkpointed={} error=\"{}\"",
                  applied_.load(), checkpointed_, s.error().message());
    return Status::Ok();
  }
  return s;
}

projections::Accumulator Projector::Snapshot(EpochMillis now) const {
  std::scoped_lock readers(readers_mu_);
  std::shared_lock lock(mu_);
  projections::Accumulator snap;
  for (const auto& a : accumulators_) snap.MergeFrom(a);
  return ExportedMetrics(std::move(snap), *pipeline_, now, handle_of_ref_);
}

void Projector::SetPeopleNames(std::map<std::string, std::string> handle_of_ref) {
  std::lock_guard lock(mu_);
  handle_of_ref_ = std::move(handle_of_ref);
}

std::map<std::string, std::string> Projector::PeopleNames() const {
  std::shared_lock lock(mu_);
  return handle_of_ref_;
}

std::vector<std::string> Projector::names() const {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  for (size_t i = 0; pipeline_ && i < pipeline_->size(); ++i) {
    out.emplace_back(pipeline_->projection(i).name());
  }
  return out;
}

std::vector<std::string> Projector::rebuilt() const {
  std::shared_lock lock(mu_);
  return rebuilt_;
}

std::vector<std::pair<std::string, size_t>> Projector::StateSizes() const {
  std::shared_lock lock(mu_);
  std::vector<std::pair<std::string, size_t>> out;
  for (size_t i = 0; i < pipeline_->size(); ++i) {
    out.emplace_back(pipeline_->projection(i).name(), pipeline_->SaveProjection(i).size());
  }
  return out;
}

uint64_t Projector::lag() const {
  const uint64_t last = log_.LastSequence().value();
  const uint64_t applied = applied_.load(std::memory_order_acquire);
  return last > applied ? last - applied : 0;
}

}  // namespace teamhealth::projector
