// The compact column (docs/design.md section 10: "projections read a compact fixed-layout
// record ... without parsing whole events"): the log's events again, in chunks of consecutive
// sequences, each event a flat record of fixed-width lengths and numbers that reads back into a
// schema::EventView with no varint walk, no nested message and no UTF-8 check (the indexer
// wrote it from a record DecodeView accepted, and RocksDB checksums every block). It is built
// behind the log by the indexer, like the time and subject indexes, with its own checkpoint
// (indexes.cc); EventLog::ForEachView reads it up to that checkpoint and the log after it.
//
// A chunk is records one after the other. A record (little-endian):
//   u64 seq, i64 occurred_at_ms, u32 schema_version,
//   u8 type code, u8 type family, u8 subject kind, u8 0, u32 attribute count,
//   10 strings: id, source, type, actor, subject kind, id, key, project, service, title,
//   per attribute: u8 name code (schema::AttrName), the name as a string only when that code is
//   0 (a name AttrNameOf does not know), u8 value kind, then the value: nothing (unset, null),
//   a string, i64, the double's 8 bytes, u8 (bool), or u32 item count and that many strings.
// A string is a u16 length and its bytes; a length of 0xFFFF is followed by the real one (u32).
// The codes are schema's enums (a view read back knows its attributes' codes, so a projection
// finds them in one load): changing them, the schema version, or this layout changes
// kCompactFormat (compact.cc pins them), and a log whose column has another format writes it
// again.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "event_view.h"
#include "teamhealth/base/result.h"
#include "teamhealth/base/types.h"

namespace teamhealth::eventlog {

// 2: attribute names as codes.
inline constexpr uint8_t kCompactFormat = 2;

// A chunk holds at most this many records, or the record that takes it past this many bytes.
inline constexpr size_t kCompactChunkRecords = 256;
inline constexpr size_t kCompactChunkBytes = 64 * 1024;

// Appends `e`'s record (at sequence `seq`) to `chunk`.
void AppendCompact(Sequence seq, const schema::EventView& e, std::string& chunk);

// Reads a chunk's records in order into a reused view (string views into the chunk: valid while
// the chunk's bytes are). Refuses bytes that do not hold whole records, and codes that are
// out of range, with an error naming the byte; never reads outside the chunk.
class CompactReader {
 public:
  explicit CompactReader(std::string_view chunk)
      : p_(chunk.data()), end_(p_ + chunk.size()), begin_(p_) {}
  // The next record into `seq` and `out`: true, or false at the end of the chunk.
  Result<bool> Next(Sequence& seq, schema::EventView& out);

 private:
  const char* p_;
  const char* end_;
  const char* begin_;
};

}  // namespace teamhealth::eventlog
