#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <array>
#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "teamhealth/storage/store.h"

namespace teamhealth::storage {
namespace {

constexpr std::array<const char*, kColumnCount> kColumnNames = {
    "default",  // kLog lives in the default family (rocksdb::kDefaultColumnFamilyName)
    "dedup",   "offsets", "quarantine", "identities", "indexes", "projections", "meta",
};

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

// RocksDB reports ENOSPC as an IOError with the kNoSpace subcode (a WAL append, a flush or a
// compaction output), and then answers every write with that same background error until it
// resumes: both come back as ErrorKind::kNoSpace, so the writers of the log pause instead of
// stopping.
Error ToError(const rocksdb::Status& s, std::string_view what) {
  return Error(s.IsNoSpace() ? ErrorKind::kNoSpace : ErrorKind::kOther,
               std::string(what) + ": " + s.ToString());
}

// `cache` is one block cache for every column, holding data blocks AND the index and filter
// blocks: left outside a cache, RocksDB keeps every table's index and filter in memory, which
// grows with the log (O(events)); inside a bounded cache, memory stays bounded.
rocksdb::ColumnFamilyOptions ColumnOptions(Column column,
                                           const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions cf;
  // Levelled compaction (the default style, stated here on purpose): bounded space
  // amplification and cheap range scans, which the log, its indexes and retrospective
  // replays need. FIFO would drop old events and is never acceptable for the log; universal
  // would double the space during full compactions of a multi-year log.
  cf.compaction_style = rocksdb::kCompactionStyleLevel;
  cf.level_compaction_dynamic_level_bytes = true;
  // One compression setting everywhere: LZ4 is cheap enough to keep ingest CPU-bound on
  // parsing, not on compression, and still shrinks JSON-derived protobufs about 2x.
  cf.compression = rocksdb::kLZ4Compression;
  cf.bottommost_compression = rocksdb::kLZ4Compression;
  cf.write_buffer_size = 64 << 20;

  rocksdb::BlockBasedTableOptions table;
  table.block_size = 16 * 1024;
  table.block_cache = cache;
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  if (column == Column::kDedup || column == Column::kIdentities || column == Column::kOffsets) {
    // Point lookups on every ingested event: a bloom filter answers "not a duplicate" without
    // touching data blocks; whole-key filtering since keys are never range-scanned by prefix.
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10, false));
    table.whole_key_filtering = true;
    // Partitioned: each table's filter (and index) in 4 KB blocks under a small top-level
    // index, so a lookup reads one partition per table. A whole filter is ~1.25 bytes per key:
    // once a table held ~1.6 M ids its filter outgrew a shard of the block cache (128 MiB in
    // 64 shards of 2 MiB), so it was read back and checksummed at every lookup (RocksDB's
    // MultiGet goes 32 keys at a time), and appending fell from ~100k to ~5k events/s between
    // 5 M and 7 M events in the log (replay_bench's set-up, issue 13). Tables written before
    // keep their whole filters until compaction rewrites them.
    table.partition_filters = true;
    table.index_type = rocksdb::BlockBasedTableOptions::IndexType::kTwoLevelIndexSearch;
    table.metadata_block_size = 4096;
    cf.optimize_filters_for_hits = false;
    // The same in the memtables: most lookups are of ids not seen before, which then skip the
    // skip list's search (a writer's batch of 5,000 looked up about 5,000 x 20 keys).
    cf.memtable_prefix_bloom_size_ratio = 0.02;
    cf.memtable_whole_key_filtering = true;
  }
  // Block checksums: the Debian build of RocksDB has no hardware CRC32C (it runs the table
  // version), and XXH3 is cheaper for flushes, compactions and reads alike. Each table records
  // its own checksum type, so tables written before keep being read.
  table.checksum = rocksdb::kXXH3;
  if (column == Column::kProjections) {
    // Projection states and the metric facts' snapshots are values of tens to hundreds of MB
    // at 10,000 people. In blob files (RocksDB's BlobDB), out of the tables' data blocks, a
    // small key stored next to one (a day's gauges) is read without decompressing the state.
    // Only those: the facts' own blobs (KBs, kept for ever) stay in the tables, so that a
    // blob file holds states that are replaced and snapshots that are deleted, and its space
    // comes back (a superseded state beside live facts would pin the file).
    cf.enable_blob_files = true;
    cf.min_blob_size = 1 << 20;
    cf.blob_compression_type = rocksdb::kLZ4Compression;
    cf.enable_blob_garbage_collection = true;  // compactions drop the blobs of replaced states
  }
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return cf;
}

// RocksDB's own log, sent to the daemon's logger instead of the LOG file RocksDB writes in
// the state directory by default. On a full disk that file fails too, and the Debian build of
// RocksDB 7.8 (assertions enabled) aborts on the next line written to a log file that has
// failed (WritableFileWriter::AssertFalseAndGetStatusForPrevError): the daemon must never die of
// its diagnostics. Thread-safe: RocksDB logs from its background threads.
class ForwardingLogger final : public rocksdb::Logger {
 public:
  explicit ForwardingLogger(logging::Logger logger)
      : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL), logger_(std::move(logger)) {}

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
  }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (logger_ == nullptr) return;
    const auto spd_level = level >= rocksdb::InfoLogLevel::ERROR_LEVEL &&
                                   level != rocksdb::InfoLogLevel::HEADER_LEVEL
                               ? spdlog::level::err
                           : level == rocksdb::InfoLogLevel::WARN_LEVEL ? spdlog::level::warn
                                                                        : spdlog::level::debug;
    if (!logger_->should_log(spd_level)) return;
    char line[1024];
    std::vsnprintf(line, sizeof line, format, ap);
    logger_->log(spd_level, "rocksdb: {}", line);
  }

 private:
  logging::Logger logger_;
};

// Keeps RocksDB from recovering from a full disk by itself. Its recovery (the SstFileManager)
// waits for as much free space as the largest write buffer (64 MiB), which a small volume never
// has, and while it waits DB::Resume() answers Busy: the database would stay read-only until
// restarted. Without it, the next Store::Write resumes the database itself once a write can fit.
class NoAutoRecovery final : public rocksdb::EventListener {
 public:
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status,
                            bool* auto_recovery) override {
    *auto_recovery = false;
  }
};

class RocksIterator final : public Iterator {
 public:
  explicit RocksIterator(std::unique_ptr<rocksdb::Iterator> it) : it_(std::move(it)) {}
  void Seek(std::string_view key) override { it_->Seek(ToSlice(key)); }
  void SeekToFirst() override { it_->SeekToFirst(); }
  void SeekToLast() override { it_->SeekToLast(); }
  bool Valid() const override { return it_->Valid(); }
  void Next() override { it_->Next(); }
  void Prev() override { it_->Prev(); }
  std::string_view key() const override {
    const auto k = it_->key();
    return {k.data(), k.size()};
  }
  std::string_view value() const override {
    const auto v = it_->value();
    return {v.data(), v.size()};
  }
  Status status() const override {
    const auto s = it_->status();
    if (s.ok()) return Status::Ok();
    return ToError(s, "iterator");
  }

 private:
  std::unique_ptr<rocksdb::Iterator> it_;
};

// Store::MultiGet and ReadView::MultiGet: one batched lookup per key, in order.
Result<std::vector<std::optional<std::string>>> MultiGetAt(rocksdb::DB* db,
                                                           const rocksdb::ReadOptions& options,
                                                           rocksdb::ColumnFamilyHandle* column,
                                                           std::span<const std::string> keys) {
  std::vector<rocksdb::Slice> slices;
  slices.reserve(keys.size());
  for (const auto& k : keys) slices.emplace_back(k);
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db->MultiGet(options, column, keys.size(), slices.data(), values.data(), statuses.data());
  std::vector<std::optional<std::string>> out(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].ok()) {
      out[i] = values[i].ToString();
    } else if (!statuses[i].IsNotFound()) {
      return ToError(statuses[i], "multiget");
    }
  }
  return out;
}

// Reads at one RocksDB snapshot, released with the view.
class RocksReadView final : public ReadView {
 public:
  RocksReadView(rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*>* handles)
      : db_(db), handles_(handles), snapshot_(db->GetSnapshot()) {
    options_.snapshot = snapshot_;
  }
  ~RocksReadView() override { db_->ReleaseSnapshot(snapshot_); }

  Result<std::optional<std::string>> Get(Column column, std::string_view key) override {
    std::string value;
    const auto s = db_->Get(options_, (*handles_)[static_cast<int>(column)], ToSlice(key), &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return ToError(s, "get");
    return std::optional<std::string>(std::move(value));
  }
  Result<std::vector<std::optional<std::string>>> MultiGet(
      Column column, std::span<const std::string> keys) override {
    return MultiGetAt(db_, options_, (*handles_)[static_cast<int>(column)], keys);
  }
  std::unique_ptr<Iterator> NewIterator(Column column) override {
    return std::make_unique<RocksIterator>(std::unique_ptr<rocksdb::Iterator>(
        db_->NewIterator(options_, (*handles_)[static_cast<int>(column)])));
  }

 private:
  rocksdb::DB* db_;
  std::vector<rocksdb::ColumnFamilyHandle*>* handles_;
  const rocksdb::Snapshot* snapshot_;
  rocksdb::ReadOptions options_;
};

class RocksStore final : public Store {
 public:
  RocksStore(std::unique_ptr<rocksdb::DB> db, std::vector<rocksdb::ColumnFamilyHandle*> handles,
             bool sync, bool read_only, std::string path)
      : db_(std::move(db)),
        handles_(std::move(handles)),
        read_only_(read_only),
        path_(std::move(path)) {
    write_options_.sync = sync;
  }

  ~RocksStore() override {
    if (resume_before_write_.load(std::memory_order_acquire) && !db_->Resume().ok()) {
      // A write failed for lack of space (on a full disk, SIGTERM while ingest is paused) and
      // the database cannot resume. Closing it would close the WAL file whose append failed,
      // which RocksDB's assertions (compiled into Debian's librocksdb) abort on. Every write
      // that succeeded is in the WAL already, so the database is left open as the process
      // ends: the next open recovers from the WAL, as after a crash, with nothing lost.
      (void)db_.release();
      return;
    }
    if (!read_only_) {
      // Memtables to tables: a store opened next (a read-only `report --log` above all) then
      // reads tables instead of replaying up to max_total_wal_size of WAL into memtables,
      // which took seconds per report on a large log. Best effort: the WAL has it all anyway.
      rocksdb::FlushOptions fo;
      fo.wait = true;
      (void)db_->Flush(fo, handles_);
    }
    for (auto* h : handles_) {
      (void)db_->DestroyColumnFamilyHandle(h);
    }
    (void)db_->Close();
  }

  Status Write(WriteBatch& batch) override;

  Result<std::optional<std::string>> Get(Column column, std::string_view key) override {
    std::string value;
    const auto s = db_->Get(rocksdb::ReadOptions(), Handle(column), ToSlice(key), &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return ToError(s, "get");
    return std::optional<std::string>(std::move(value));
  }

  Result<std::vector<std::optional<std::string>>> MultiGet(
      Column column, std::span<const std::string> keys) override {
    return MultiGetAt(db_.get(), rocksdb::ReadOptions(), Handle(column), keys);
  }

  std::unique_ptr<Iterator> NewIterator(Column column) override {
    return std::make_unique<RocksIterator>(std::unique_ptr<rocksdb::Iterator>(
        db_->NewIterator(rocksdb::ReadOptions(), Handle(column))));
  }

  std::unique_ptr<ReadView> NewReadView() override {
    return std::make_unique<RocksReadView>(db_.get(), &handles_);
  }

  Status FlushAndCompact() override {
    rocksdb::FlushOptions fo;
    fo.wait = true;
    for (auto* h : handles_) {
      if (auto s = db_->Flush(fo, h); !s.ok()) return ToError(s, "flush");
    }
    rocksdb::CompactRangeOptions co;
    co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    for (auto* h : handles_) {
      if (auto s = db_->CompactRange(co, h, nullptr, nullptr); !s.ok()) {
        return ToError(s, "compact");
      }
    }
    return Status::Ok();
  }

  rocksdb::ColumnFamilyHandle* Handle(Column c) const { return handles_[static_cast<size_t>(c)]; }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  bool read_only_ = false;
  std::string path_;
  rocksdb::WriteOptions write_options_;
  // Set by a write that failed for lack of space, cleared by the next that succeeds: that one
  // first asks RocksDB to leave the read-only state the failure may have put it in.
  std::atomic<bool> resume_before_write_{false};
};

}  // namespace

struct WriteBatch::Impl {
  // Operations are recorded and applied in RocksStore::Write, because the column family
  // handles belong to the store and a batch is built before it meets one. They are recorded
  // back to back in one buffer (per operation: column, kind, key size, value size, key, value)
  // rather than as two strings each: an ingest batch of thousands of events then costs no
  // allocation per operation, and Write() sizes RocksDB's batch once.
  struct Header {
    uint8_t column;
    uint8_t is_delete;
    uint32_t key_size;
    uint32_t value_size;
  };
  std::string ops;
  int count = 0;

  void Add(Column column, bool is_delete, std::string_view key, std::string_view value) {
    const Header h{static_cast<uint8_t>(column), static_cast<uint8_t>(is_delete ? 1 : 0),
                   static_cast<uint32_t>(key.size()), static_cast<uint32_t>(value.size())};
    ops.append(reinterpret_cast<const char*>(&h), sizeof h);
    ops.append(key);
    ops.append(value);
    ++count;
  }
  // Calls fn(column, is_delete, key, value) for every operation, in order.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (size_t at = 0; at < ops.size();) {
      Header h;
      std::memcpy(&h, ops.data() + at, sizeof h);
      at += sizeof h;
      const std::string_view key(ops.data() + at, h.key_size);
      at += h.key_size;
      const std::string_view value(ops.data() + at, h.value_size);
      at += h.value_size;
      fn(static_cast<Column>(h.column), h.is_delete != 0, key, value);
    }
  }
};

WriteBatch::WriteBatch() : impl_(std::make_unique<Impl>()) {}
WriteBatch::~WriteBatch() = default;
WriteBatch::WriteBatch(WriteBatch&&) noexcept = default;
WriteBatch& WriteBatch::operator=(WriteBatch&&) noexcept = default;

void WriteBatch::Put(Column column, std::string_view key, std::string_view value) {
  impl_->Add(column, false, key, value);
}

void WriteBatch::Delete(Column column, std::string_view key) { impl_->Add(column, true, key, {}); }

int WriteBatch::Count() const { return impl_->count; }

Status RocksStore::Write(WriteBatch& batch) {
  const WriteBatch::Impl& ops = batch.impl();
  // RocksDB's record per operation: a type and column byte and two varint lengths (at most
  // 1 + 5 + 5 + 5 bytes) around the same key and value; the batch's header is 12 bytes.
  rocksdb::WriteBatch wb(ops.ops.size() + 16 * static_cast<size_t>(ops.count) + 12);
  rocksdb::Status failed;
  ops.ForEach([&](Column column, bool is_delete, std::string_view key, std::string_view value) {
    if (!failed.ok()) return;
    failed = is_delete ? wb.Delete(Handle(column), ToSlice(key))
                       : wb.Put(Handle(column), ToSlice(key), ToSlice(value));
  });
  if (!failed.ok()) return ToError(failed, "batch");
  if (resume_before_write_.load(std::memory_order_acquire)) {
    // A failed WAL append or flush for lack of space is a hard background error: RocksDB turns
    // read-only and answers every write with it until resumed (it does not resume by itself,
    // see NoAutoRecovery). Resume() flushes the memtables, switches to a new WAL and makes the
    // database writable; without space it fails and the write below returns the stored error
    // again. Either way nothing is lost: a write that failed was not applied, and its caller
    // writes it again.
    (void)db_->Resume();
  }
  const auto s = db_->Write(write_options_, &wb);
  if (!s.ok()) {
    if (s.IsNoSpace()) resume_before_write_.store(true, std::memory_order_release);
    return ToError(s, "write to " + path_);
  }
  resume_before_write_.store(false, std::memory_order_release);
  return Status::Ok();
}

Result<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = !options.read_only;
  db_options.create_missing_column_families = !options.read_only;
  // Two background jobs: one flush and one compaction at a time on a two-core machine.
  db_options.max_background_jobs = 2;
  db_options.bytes_per_sync = 1 << 20;
  db_options.keep_log_file_num = 5;
  // The small columns (offsets, meta, projections) are written with every batch but rarely
  // fill a memtable, which would pin every WAL file and make restarts replay gigabytes.
  // Capping the WAL forces those columns to flush, so restarts stay quick.
  db_options.max_total_wal_size = 256 << 20;
  // Recovery after power loss: drop a torn WAL tail and keep the consistent prefix; the lost
  // batches are re-read from Kafka because their offsets travel in the same batch.
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  db_options.info_log = std::make_shared<ForwardingLogger>(options.logger);
  // A full disk: the writers retry and Write() resumes the database (see NoAutoRecovery).
  db_options.listeners.push_back(std::make_shared<NoAutoRecovery>());

  // 128 MiB for the whole store (the table factories keep it alive with the DB).
  const std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(128 << 20);
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (int i = 0; i < kColumnCount; ++i) {
    descriptors.emplace_back(kColumnNames[i], ColumnOptions(static_cast<Column>(i), cache));
  }
  if (!options.read_only) {
    std::error_code ec;
    std::filesystem::create_directories(options.path, ec);
    if (ec) return Error("cannot create state directory " + options.path + ": " + ec.message());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  const auto s =
      options.read_only
          ? rocksdb::DB::OpenForReadOnly(db_options, options.path, descriptors, &handles, &raw)
          : rocksdb::DB::Open(db_options, options.path, descriptors, &handles, &raw);
  if (!s.ok() && s.IsIOError() && s.ToString().find("lock file") != std::string::npos) {
    // RocksDB's LOCK: one writer per state directory, usually a running daemon.
    return Error("the state directory " + options.path +
                 " is in use by another process (a running teamhealth daemon?): " + s.ToString());
  }
  if (!s.ok()) return ToError(s, "cannot open store at " + options.path);
  return std::unique_ptr<Store>(std::make_unique<RocksStore>(
      std::unique_ptr<rocksdb::DB>(raw), std::move(handles), options.sync_writes, options.read_only,
      options.path));
}

}  // namespace teamhealth::storage
