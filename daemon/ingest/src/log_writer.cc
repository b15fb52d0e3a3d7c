#include "teamhealth/ingest/log_writer.h"

#include <pthread.h>

#include <chrono>
#include <iterator>
#include <type_traits>
#include <utility>

#include "teamhealth/ingest/ingestor.h"

namespace teamhealth::ingest {
namespace {

// With nothing to write, `between_writes` still runs this often (directory reloads).
constexpr auto kIdleTick = std::chrono::milliseconds(100);
// What a queued batch counts for besides its record bytes, so that batches covering no record
// (only the end offset of a partition) cannot pile up unbounded either.
constexpr size_t kQueuedOverhead = 1024;

// Batches move into and out of the queue under its lock: a copy there would hold the consumer.
static_assert(std::is_nothrow_move_constructible_v<eventlog::IngestBatch>);

// Appends `from` to `into` as if both had been consumed as one batch.
void Merge(eventlog::IngestBatch& from, eventlog::IngestBatch& into) {
  into.events.AppendAll(from.events);
  std::move(from.quarantined.begin(), from.quarantined.end(),
            std::back_inserter(into.quarantined));
  // Later batches of a partition were consumed after earlier ones: their next offset wins.
  for (const auto& [tp, offset] : from.next_offsets) into.next_offsets[tp] = offset;
  for (const auto& [source, n] : from.ignored_by_source) into.ignored_by_source[source] += n;
}

}  // namespace

LogWriter::LogWriter(eventlog::EventLog& log, IngestObserver& observer, WriteLimits limits,
                     std::function<Status()> between_writes)
    : log_(log),
      observer_(observer),
      limits_(limits),
      between_writes_(std::move(between_writes)),
      thread_([this] {
        pthread_setname_np(pthread_self(), "ingest-write");  // per-thread CPU in top/perf
        Loop();
      }) {}

LogWriter::~LogWriter() { Stop(); }

bool LogWriter::Push(eventlog::IngestBatch batch, size_t records, size_t bytes) {
  const size_t cost = bytes + kQueuedOverhead;
  std::unique_lock lock(mu_);
  space_.wait(lock, [&] {
    return failure_ || queue_.empty() || queued_bytes_ + cost <= limits_.queue_max_bytes;
  });
  if (failure_) return false;
  queue_.push_back({std::move(batch), records, bytes});
  queued_bytes_ += cost;
  work_.notify_one();
  return true;
}

void LogWriter::Drain() {
  std::unique_lock lock(mu_);
  space_.wait(lock, [&] { return failure_ || (queue_.empty() && !writing_); });
}

bool LogWriter::Idle() {
  std::lock_guard lock(mu_);
  return queue_.empty() && !writing_;
}

std::map<TopicPartition, KafkaOffset> LogWriter::TakeCommitted() {
  std::lock_guard lock(mu_);
  return std::exchange(committed_, {});
}

uint64_t LogWriter::writes() {
  std::lock_guard lock(mu_);
  return writes_;
}

std::optional<Error> LogWriter::Failure() {
  std::lock_guard lock(mu_);
  return failure_;
}

void LogWriter::Resume() {
  std::lock_guard lock(mu_);
  failure_.reset();
}

void LogWriter::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void LogWriter::Fail(Error error) {
  failure_ = std::move(error);
  failed_since_write_ = true;
  queue_.clear();  // read again from the stored offsets
  queued_bytes_ = 0;
}

void LogWriter::Loop() {
  std::unique_lock lock(mu_);
  while (true) {
    work_.wait_for(lock, kIdleTick, [&] { return stopping_ || (!queue_.empty() && !failure_); });
    if (queue_.empty() || failure_) {
      if (stopping_) return;
      if (failure_ || failed_since_write_ || !between_writes_) continue;
      // Idle: the log's other writer gets its turn.
      writing_ = true;
      lock.unlock();
      Status s = between_writes_();
      lock.lock();
      writing_ = false;
      if (!s) Fail(s.error());
      space_.notify_all();
      continue;
    }
    std::vector<Queued> taken = TakeNext();
    writing_ = true;
    space_.notify_all();  // room in the queue
    lock.unlock();
    Status s = Write(taken);
    // The written events are freed here, without the lock: freeing thousands of them takes
    // long enough that the consuming thread, queueing its next batch, would wait.
    taken.clear();
    lock.lock();
    writing_ = false;
    if (!s) Fail(s.error());
    space_.notify_all();
  }
}

std::vector<LogWriter::Queued> LogWriter::TakeNext() {
  std::vector<Queued> taken;
  size_t records = 0, bytes = 0;
  while (!queue_.empty()) {
    Queued& next = queue_.front();
    if (!taken.empty() && (records + next.records > limits_.max_records ||
                           bytes + next.bytes > limits_.max_bytes)) {
      break;
    }
    records += next.records;
    bytes += next.bytes;
    queued_bytes_ -= next.bytes + kQueuedOverhead;
    taken.push_back(std::move(next));
    queue_.pop_front();
  }
  return taken;
}

// Runs without the lock: the consuming thread keeps pushing meanwhile.
Status LogWriter::Write(std::vector<Queued>& taken) {
  eventlog::IngestBatch& batch = taken.front().batch;
  for (size_t i = 1; i < taken.size(); ++i) Merge(taken[i].batch, batch);
  auto outcome = log_.Append(batch);
  if (!outcome) return outcome.error();
  {
    std::lock_guard lock(mu_);
    ++writes_;
    failed_since_write_ = false;
    for (const auto& [tp, offset] : batch.next_offsets) committed_[tp] = offset;
  }
  observer_.OnBatch(*outcome);
  return between_writes_ ? between_writes_() : Status::Ok();
}

}  // namespace teamhealth::ingest
