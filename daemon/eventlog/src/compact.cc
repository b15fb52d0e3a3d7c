// The compact column's records (compact.h): written by the indexer from views DecodeView gave,
// read back by replays. Reading is a walk of fixed-width fields, each bounded by the chunk's end.
#include "teamhealth/eventlog/compact.h"

#include <bit>
#include <cstring>
#include <string>

#include "teamhealth/eventlog/event_log.h"

namespace teamhealth::eventlog {
namespace {

using schema::EventView;
using Kind = EventView::Value::Kind;

// The last enumerator of each code a record stores: a byte past it is a corrupt record.
constexpr uint8_t kLastType = static_cast<uint8_t>(schema::EventType::kDirectory);
constexpr uint8_t kLastFamily = static_cast<uint8_t>(schema::TypeFamily::kDirectory);
constexpr uint8_t kLastSubjectKind = static_cast<uint8_t>(schema::SubjectKind::kIncident);
constexpr uint8_t kLastValueKind = static_cast<uint8_t>(Kind::kList);
constexpr uint8_t kLastAttrName = static_cast<uint8_t>(schema::kAttrNameCount - 1);
// A record keeps what decoding derived: the codes schema::TypeOf, FamilyOf and SubjectKindOf
// gave, the attribute names' codes (schema::AttrNameOf), and the schema version DecodeView
// upcast to. Changing any of them (a new enumerator, a new name for a code, a new schema
// version) makes the stored records stale: change kCompactFormat with them, and these pins, so
// that logs write their column again.
static_assert(kLastType == 18 && kLastFamily == 4 && kLastSubjectKind == 3 &&
                  kLastValueKind == 6 && kLastAttrName == 33,
              "the compact records' codes changed: change kCompactFormat too");
static_assert(kCompactFormat == 2, "the pins above are format 2's");
static_assert(kSchemaVersion == 1, "a new schema version: change kCompactFormat too");
// A string's u16 length that says the real length follows as a u32.
constexpr uint16_t kLongString = 0xFFFF;

// Records are little-endian, read and written with memcpy (as DecodeView reads fixed-width
// protobuf fields).
static_assert(std::endian::native == std::endian::little,
              "the compact records are read and written as the host's little-endian numbers");

// A record is written in two walks of its fields (WriteRecord): one that counts its bytes, then
// one that copies them into space sized once. The indexer writes every event of the log, and
// appending piece by piece to a string cost ~1,800 instructions per event (callgrind,
// eventlog_bench).
class Sizer {
 public:
  template <typename T>
  void Put(T) {
    size += sizeof(T);
  }
  void String(std::string_view s) {
    size += sizeof(uint16_t) + (s.size() < kLongString ? 0 : sizeof(uint32_t)) + s.size();
  }
  size_t size = 0;
};

class Writer {
 public:
  explicit Writer(char* out) : out_(out) {}
  template <typename T>
  [[gnu::always_inline]] void Put(T v) {
    std::memcpy(out_, &v, sizeof(T));
    out_ += sizeof(T);
  }
  [[gnu::always_inline]] void String(std::string_view s) {
    if (s.size() < kLongString) {
      Put<uint16_t>(static_cast<uint16_t>(s.size()));
    } else {
      Put<uint16_t>(kLongString);
      Put<uint32_t>(static_cast<uint32_t>(s.size()));
    }
    if (!s.empty()) std::memcpy(out_, s.data(), s.size());
    out_ += s.size();
  }

 private:
  char* out_;
};

// `e`'s record at `seq`, field by field, into `out` (the layout: compact.h).
template <typename Out>
[[gnu::always_inline]] inline void WriteRecord(Sequence seq, const EventView& e, Out& out) {
  out.template Put<uint64_t>(seq.value());
  out.template Put<uint64_t>(static_cast<uint64_t>(e.occurred_at_ms()));
  out.template Put<uint32_t>(e.schema_version());
  out.template Put<uint8_t>(static_cast<uint8_t>(e.type_code()));
  out.template Put<uint8_t>(static_cast<uint8_t>(e.type_family()));
  out.template Put<uint8_t>(static_cast<uint8_t>(e.subject_kind()));
  out.template Put<uint8_t>(0);
  out.template Put<uint32_t>(static_cast<uint32_t>(e.attrs().size()));
  const auto& s = e.subject();
  for (const std::string_view v : {e.id(), e.source(), e.type(), e.actor(), s.kind(), s.id(),
                                   s.key(), s.project(), s.service(), s.title()}) {
    out.String(v);
  }
  for (const auto& a : e.attrs()) {
    const schema::AttrName code = schema::AttrNameOf(a.name());
    out.template Put<uint8_t>(static_cast<uint8_t>(code));
    if (code == schema::AttrName::kUnknown) out.String(a.name());
    const auto& v = a.value();
    out.template Put<uint8_t>(static_cast<uint8_t>(v.kind()));
    switch (v.kind()) {
      case Kind::kNotSet:
      case Kind::kNull: break;
      case Kind::kString: out.String(v.string_value()); break;
      case Kind::kInt: out.template Put<uint64_t>(static_cast<uint64_t>(v.int_value())); break;
      case Kind::kDouble:
        out.template Put<uint64_t>(std::bit_cast<uint64_t>(v.double_value()));
        break;
      case Kind::kBool: out.template Put<uint8_t>(v.bool_value() ? 1 : 0); break;
      case Kind::kList: {
        const auto items = v.list_value().values();
        out.template Put<uint32_t>(static_cast<uint32_t>(items.size()));
        for (const std::string_view item : items) out.String(item);
        break;
      }
    }
  }
}

// Reads of one record, each checking the chunk's end first. Inline, on a pointer the caller
// keeps in a local: a replay reads ~15 strings per event, and out of line (through a pointer
// in memory) the reads cost a third of decoding.
template <typename T>
[[gnu::always_inline]] inline bool Get(const char*& p, const char* end, T& v) {
  if (static_cast<size_t>(end - p) < sizeof(T)) return false;
  std::memcpy(&v, p, sizeof(T));
  p += sizeof(T);
  return true;
}

[[gnu::always_inline]] inline bool GetString(const char*& p, const char* end,
                                             std::string_view& s) {
  uint16_t short_size;
  if (!Get(p, end, short_size)) return false;
  size_t size = short_size;
  if (short_size == kLongString) [[unlikely]] {
    uint32_t long_size;
    if (!Get(p, end, long_size)) return false;
    size = long_size;
  }
  if (static_cast<size_t>(end - p) < size) return false;
  s = std::string_view(p, size);
  p += size;
  return true;
}

}  // namespace

void AppendCompact(Sequence seq, const EventView& e, std::string& chunk) {
  Sizer sizer;
  WriteRecord(seq, e, sizer);
  const size_t at = chunk.size();
  chunk.resize(at + sizer.size);
  Writer writer(chunk.data() + at);
  WriteRecord(seq, e, writer);
}

Result<bool> CompactReader::Next(Sequence& seq, EventView& out) {
  const char* p = p_;
  const char* const end = end_;
  if (p == end) return false;
  auto corrupt = [this](const char* what) {
    return Error("corrupt compact chunk: " + std::string(what) + " in the record at byte " +
                 std::to_string(p_ - begin_));
  };
  uint64_t s, at;
  uint32_t version;
  uint8_t type, family, kind, zero;
  uint32_t attrs;
  if (!Get(p, end, s) || !Get(p, end, at) || !Get(p, end, version) || !Get(p, end, type) ||
      !Get(p, end, family) || !Get(p, end, kind) || !Get(p, end, zero) || !Get(p, end, attrs)) {
    return corrupt("truncated header");
  }
  if (type > kLastType || family > kLastFamily || kind > kLastSubjectKind || zero != 0) {
    return corrupt("code out of range");
  }
  out.Reset();
  out.set_schema_version(version);
  out.set_occurred_at_ms(static_cast<int64_t>(at));
  std::string_view id, source, type_name, actor;
  EventView::Subject& subject = out.mutable_subject();
  if (!GetString(p, end, id) || !GetString(p, end, source) || !GetString(p, end, type_name) ||
      !GetString(p, end, actor) || !GetString(p, end, subject.kind_) ||
      !GetString(p, end, subject.id_) || !GetString(p, end, subject.key_) ||
      !GetString(p, end, subject.project_) || !GetString(p, end, subject.service_) ||
      !GetString(p, end, subject.title_)) {
    return corrupt("truncated string");
  }
  out.set_id(id);
  out.set_source(source);
  out.set_type(type_name);
  out.set_actor(actor);
  for (uint32_t i = 0; i < attrs; ++i) {
    uint8_t code;
    if (!Get(p, end, code)) return corrupt("truncated attribute");
    if (code > kLastAttrName) return corrupt("attribute name code out of range");
    if (code != 0) {
      out.AddAttr(static_cast<schema::AttrName>(code));
    } else {
      std::string_view name;
      if (!GetString(p, end, name)) return corrupt("truncated attribute");
      // A known name is stored by its code only: read by name, the view's numbering of its
      // attributes (FinishWithCodes below) would miss it.
      if (schema::AttrNameOf(name) != schema::AttrName::kUnknown) {
        return corrupt("known attribute name stored as text");
      }
      out.AddAttr(name);
    }
    uint8_t value_kind;
    if (!Get(p, end, value_kind)) return corrupt("truncated attribute");
    if (value_kind > kLastValueKind) return corrupt("value kind out of range");
    bool ok = true;
    switch (static_cast<Kind>(value_kind)) {
      case Kind::kNotSet: break;
      case Kind::kNull: out.SetNull(); break;
      case Kind::kString: {
        std::string_view v;
        ok = GetString(p, end, v);
        out.SetString(v);
        break;
      }
      case Kind::kInt: {
        uint64_t v = 0;
        ok = Get(p, end, v);
        out.SetInt(static_cast<int64_t>(v));
        break;
      }
      case Kind::kDouble: {
        uint64_t v = 0;
        ok = Get(p, end, v);
        out.SetDouble(std::bit_cast<double>(v));
        break;
      }
      case Kind::kBool: {
        uint8_t v = 0;
        ok = Get(p, end, v) && v <= 1;
        out.SetBool(v != 0);
        break;
      }
      case Kind::kList: {
        uint32_t n = 0;
        ok = Get(p, end, n);
        out.SetList();
        std::string_view item;
        for (uint32_t k = 0; ok && k < n; ++k) {
          ok = GetString(p, end, item);
          if (ok) out.AddListItem(item);
        }
        break;
      }
    }
    if (!ok) return corrupt("truncated or invalid value");
  }
  out.FinishWithCodes(static_cast<schema::EventType>(type), static_cast<schema::TypeFamily>(family),
                      static_cast<schema::SubjectKind>(kind), /*attrs_numbered=*/true);
  seq = Sequence(s);
  p_ = p;
  return true;
}

}  // namespace teamhealth::eventlog
