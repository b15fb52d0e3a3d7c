#include "event_wire.h"

#include <bit>
#include <cstring>
#include <stdexcept>

namespace teamhealth::schema {
namespace {

// Field numbers of event.proto; every one is below 16, so each tag is one byte.
namespace event {
constexpr uint32_t kSchemaVersion = 1, kId = 2, kSource = 3, kType = 4, kOccurredAt = 5,
                   kActor = 6, kSubject = 7, kAttrs = 8, kOrigin = 9;
}
namespace value {
constexpr uint32_t kNull = 1, kString = 2, kInt = 3, kDouble = 4, kBool = 5, kList = 6;
}
constexpr uint32_t kVarint = 0, kFixed64 = 1, kBytes = 2;

constexpr char Tag(uint32_t number, uint32_t type) { return static_cast<char>(number << 3 | type); }

size_t VarintSize(uint64_t v) {
  // 1 + floor(log2(v | 1) / 7): 7 bits per byte.
  return static_cast<size_t>(9 * (63 - std::countl_zero(v | 1)) + 73) / 64;
}

void PutVarint(std::string& out, uint64_t v) {
  char buf[10];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out.append(buf, n);
}

// A length-delimited field of `size` bytes, tag and length included.
size_t FieldSize(size_t size) { return 1 + VarintSize(size) + size; }

void PutBytes(std::string& out, uint32_t number, std::string_view s) {
  out.push_back(Tag(number, kBytes));
  PutVarint(out, s.size());
  out.append(s);
}

// A proto3 string: left out when empty.
void PutString(std::string& out, uint32_t number, std::string_view s) {
  if (!s.empty()) PutBytes(out, number, s);
}
size_t StringSize(std::string_view s) { return s.empty() ? 0 : FieldSize(s.size()); }

size_t SubjectSize(const EventView::Subject& s) {
  return StringSize(s.kind()) + StringSize(s.id()) + StringSize(s.key()) +
         StringSize(s.project()) + StringSize(s.service()) + StringSize(s.title());
}

size_t ListSize(const EventView::List& list) {
  size_t n = 0;
  for (const auto item : list.values()) n += FieldSize(item.size());
  return n;
}

// The Value message's bytes (the oneof: exactly one field, even when it holds its default).
size_t ValueSize(const EventView::Value& v) {
  using Kind = EventView::Value::Kind;
  switch (v.kind()) {
    case Kind::kNotSet: return 0;
    case Kind::kNull: return 2;
    case Kind::kString: return FieldSize(v.string_value().size());
    case Kind::kInt: return 1 + VarintSize(static_cast<uint64_t>(v.int_value()));
    case Kind::kDouble: return 9;
    case Kind::kBool: return 2;
    case Kind::kList: return FieldSize(ListSize(v.list_value()));
  }
  return 0;
}

void PutValue(std::string& out, const EventView::Value& v) {
  using Kind = EventView::Value::Kind;
  switch (v.kind()) {
    case Kind::kNotSet: break;
    case Kind::kNull:
      out.push_back(Tag(value::kNull, kVarint));
      out.push_back(1);
      break;
    case Kind::kString: PutBytes(out, value::kString, v.string_value()); break;
    case Kind::kInt:
      out.push_back(Tag(value::kInt, kVarint));
      PutVarint(out, static_cast<uint64_t>(v.int_value()));
      break;
    case Kind::kDouble: {
      out.push_back(Tag(value::kDouble, kFixed64));
      char buf[8];
      const auto bits = std::bit_cast<uint64_t>(v.double_value());
      std::memcpy(buf, &bits, 8);  // the wire is little-endian, as is every target we build
      out.append(buf, 8);
      break;
    }
    case Kind::kBool:
      out.push_back(Tag(value::kBool, kVarint));
      out.push_back(v.bool_value() ? 1 : 0);
      break;
    case Kind::kList:
      out.push_back(Tag(value::kList, kBytes));
      PutVarint(out, ListSize(v.list_value()));
      for (const auto item : v.list_value().values()) PutBytes(out, 1, item);
      break;
  }
}

size_t OriginSize(const OriginView& o) {
  return StringSize(o.topic) +
         (o.partition != 0 ? 1 + VarintSize(static_cast<uint64_t>(int64_t{o.partition})) : 0) +
         (o.offset != 0 ? 1 + VarintSize(static_cast<uint64_t>(o.offset)) : 0);
}

static_assert(std::endian::native == std::endian::little);

}  // namespace

size_t EncodeEvent(const EventView& v, const OriginView& origin, std::string& out) {
  const size_t start = out.size();
  if (v.schema_version() != 0) {
    out.push_back(Tag(event::kSchemaVersion, kVarint));
    PutVarint(out, v.schema_version());
  }
  // An empty id is left out, as any empty proto3 string.
  const size_t id_at = v.id().empty() ? 0 : out.size() + 1 + VarintSize(v.id().size()) - start;
  PutString(out, event::kId, v.id());
  PutString(out, event::kSource, v.source());
  PutString(out, event::kType, v.type());
  if (v.occurred_at_ms() != 0) {
    out.push_back(Tag(event::kOccurredAt, kVarint));
    PutVarint(out, static_cast<uint64_t>(v.occurred_at_ms()));
  }
  PutString(out, event::kActor, v.actor());
  const auto& s = v.subject();
  if (const size_t n = SubjectSize(s); n > 0) {
    out.push_back(Tag(event::kSubject, kBytes));
    PutVarint(out, n);
    PutString(out, 1, s.kind());
    PutString(out, 2, s.id());
    PutString(out, 3, s.key());
    PutString(out, 4, s.project());
    PutString(out, 5, s.service());
    PutString(out, 6, s.title());
  }
  for (const auto& a : v.attrs()) {
    const size_t value_size = ValueSize(a.value());
    out.push_back(Tag(event::kAttrs, kBytes));
    PutVarint(out, StringSize(a.name()) + FieldSize(value_size));
    PutString(out, 1, a.name());
    out.push_back(Tag(2, kBytes));
    PutVarint(out, value_size);
    PutValue(out, a.value());
  }
  if (const size_t n = OriginSize(origin); n > 0) {
    out.push_back(Tag(event::kOrigin, kBytes));
    PutVarint(out, n);
    PutString(out, 1, origin.topic);
    if (origin.partition != 0) {
      out.push_back(Tag(2, kVarint));
      PutVarint(out, static_cast<uint64_t>(int64_t{origin.partition}));
    }
    if (origin.offset != 0) {
      out.push_back(Tag(3, kVarint));
      PutVarint(out, static_cast<uint64_t>(origin.offset));
    }
  }
  return id_at;
}

void EncodedEvents::Append(const EventView& v, const OriginView& origin) {
  Entry e;
  e.begin = bytes_.size();
  e.id_at = static_cast<uint32_t>(EncodeEvent(v, origin, bytes_));
  e.id_size = static_cast<uint32_t>(v.id().size());
  e.size = static_cast<uint32_t>(bytes_.size() - e.begin);
  e.occurred_at_ms = v.occurred_at_ms();
  entries_.push_back(e);
}

void EncodedEvents::Append(const Event& e) {
  ViewOf(e, scratch_);
  Append(scratch_, {e.origin().topic(), e.origin().partition(), e.origin().offset()});
}

void EncodedEvents::AppendAll(const EncodedEvents& other) {
  const size_t shift = bytes_.size();
  bytes_.append(other.bytes_);
  // No reserve: a batch appends one record's events at a time, and reserving the exact size
  // each time would copy the entries on every call.
  for (Entry e : other.entries_) {
    e.begin += shift;
    entries_.push_back(e);
  }
}

const Event& EncodedEvents::operator[](size_t i) const {
  if (parsed_.size() < entries_.size()) parsed_.resize(entries_.size());
  if (!parsed_[i]) {
    auto e = std::make_shared<Event>();
    // Our own encoding of a view: it parses (tests/schemas/event_wire_test.cc).
    e->ParseFromArray(bytes(i).data(), static_cast<int>(bytes(i).size()));
    parsed_[i] = std::move(e);
  }
  return *parsed_[i];
}

const Event& EncodedEvents::at(size_t i) const {
  if (i >= size()) throw std::out_of_range("EncodedEvents::at");
  return (*this)[i];
}

}  // namespace teamhealth::schema
