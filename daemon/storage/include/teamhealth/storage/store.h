#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "teamhealth/base/result.h"
#include "teamhealth/logging/logging.h"

namespace teamhealth::storage {

// The column families of the store (docs/design.md section 3). Each is a separate keyspace with
// options tuned for how it is read; see store.cc for the reasons behind each choice.
enum class Column {
  kLog,          // seq (u64 BE) -> serialized Event; append-only
  kDedup,        // event id -> seq; point lookups
  kOffsets,      // topic \0 partition (i32 BE) -> next offset (i64 BE)
  kQuarantine,   // quarantine seq (u64 BE) -> serialized QuarantineRecord
  kIdentities,   // source identity <-> pseudonym
  kIndexes,      // secondary indexes: tag byte + key + seq -> empty; the compact column's
                 // chunks: tag byte + first seq -> records (eventlog/compact.h)
  kProjections,  // projection state and checkpoints
  kMeta,         // schema version, persistent counters
};
inline constexpr int kColumnCount = 8;

struct StoreOptions {
  std::string path;         // directory; created if missing (unless read_only)
  bool read_only = false;   // open without taking the lock (inspection while serving)
  bool sync_writes = true;  // fsync the WAL on every Write(): durable batches
  // Where RocksDB's own log goes (its warnings and errors at warn and error, the rest at
  // debug); none: it is dropped. Never a file in `path`: see storage.cc.
  logging::Logger logger;
};

// A set of writes applied atomically by Store::Write. Not thread-safe.
class WriteBatch final {
 public:
  WriteBatch();
  ~WriteBatch();
  WriteBatch(WriteBatch&&) noexcept;
  WriteBatch& operator=(WriteBatch&&) noexcept;

  void Put(Column column, std::string_view key, std::string_view value);
  void Delete(Column column, std::string_view key);
  int Count() const;

  // Opaque outside the storage module.
  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// A forward/backward cursor over one column. Borrows the Store, which must outlive it.
class Iterator {
 public:
  virtual ~Iterator() = default;
  virtual void Seek(std::string_view key) = 0;
  virtual void SeekToFirst() = 0;
  virtual void SeekToLast() = 0;
  virtual bool Valid() const = 0;
  virtual void Next() = 0;
  virtual void Prev() = 0;
  // Valid until the iterator moves.
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
  // Non-OK if the scan stopped because of an I/O error rather than the end of the data.
  virtual Status status() const = 0;
};

// A consistent view of the whole store as of its creation (a RocksDB snapshot): reads through
// it see no write made after it, so several reads agree with each other while a writer goes
// on. Borrows the Store, which must outlive it.
class ReadView {
 public:
  virtual ~ReadView() = default;
  virtual Result<std::optional<std::string>> Get(Column column, std::string_view key) = 0;
  // One lookup per key, in order; batched for speed (Store::MultiGet at the view's snapshot).
  virtual Result<std::vector<std::optional<std::string>>> MultiGet(
      Column column, std::span<const std::string> keys) = 0;
  virtual std::unique_ptr<Iterator> NewIterator(Column column) = 0;
};

// The RocksDB database: the only code that sees RocksDB. Thread-safe for concurrent reads and
// writes (RocksDB's guarantees); one process may open a path for writing at a time.
class Store {
 public:
  virtual ~Store() = default;

  static Result<std::unique_ptr<Store>> Open(const StoreOptions& options);

  // Applies `batch` atomically, or not at all. A full disk is an error of kind
  // ErrorKind::kNoSpace naming the store's path; the write can be retried once space is freed
  // (the next Write first resumes the database from the read-only state RocksDB enters on a
  // failed WAL append or flush).
  virtual Status Write(WriteBatch& batch) = 0;
  virtual Result<std::optional<std::string>> Get(Column column, std::string_view key) = 0;
  // One lookup per key, in order; batched for speed.
  virtual Result<std::vector<std::optional<std::string>>> MultiGet(
      Column column, std::span<const std::string> keys) = 0;
  virtual std::unique_ptr<Iterator> NewIterator(Column column) = 0;
  virtual std::unique_ptr<ReadView> NewReadView() = 0;
  // Flushes memtables to SST files and compacts every column completely: used after an
  // erase so that deleted identities physically disappear.
  virtual Status FlushAndCompact() = 0;
};

}  // namespace teamhealth::storage
