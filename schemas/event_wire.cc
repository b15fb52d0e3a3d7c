#include "event_wire.h"

#include <bit>
#include <cassert>
#include <cstring>
#include <stdexcept>

#include <google/protobuf/stubs/common.h>

namespace teamhealth::schema {
namespace {

// Field numbers and wire types: event_wire.h.
namespace event = wire::event;
namespace subject = wire::subject;
namespace attr = wire::attr;
namespace value = wire::value;
namespace origin_field = wire::origin;
using wire::kBytes, wire::kFixed64, wire::kVarint;

constexpr char Tag(uint32_t number, uint32_t type) { return static_cast<char>(number << 3 | type); }

size_t VarintSize(uint64_t v) {
  // 1 + floor(log2(v | 1) / 7): 7 bits per byte.
  return static_cast<size_t>(9 * (63 - std::countl_zero(v | 1)) + 73) / 64;
}

// Writers into a buffer sized beforehand (EncodeEvent computes the event's size first, so the
// string grows once per event instead of checking its capacity per field).
char* PutVarint(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

// A length-delimited field of `size` bytes, tag and length included.
size_t FieldSize(size_t size) { return 1 + VarintSize(size) + size; }

char* PutBytes(char* p, uint32_t number, std::string_view s) {
  *p++ = Tag(number, kBytes);
  p = PutVarint(p, s.size());
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

// A proto3 string: left out when empty.
char* PutString(char* p, uint32_t number, std::string_view s) {
  return s.empty() ? p : PutBytes(p, number, s);
}
size_t StringSize(std::string_view s) { return s.empty() ? 0 : FieldSize(s.size()); }

// A varint field, left out when 0 (proto3).
char* PutVarintField(char* p, uint32_t number, uint64_t v) {
  if (v == 0) return p;
  *p++ = Tag(number, kVarint);
  return PutVarint(p, v);
}
size_t VarintFieldSize(uint64_t v) { return v == 0 ? 0 : 1 + VarintSize(v); }

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

char* PutValue(char* p, const EventView::Value& v) {
  using Kind = EventView::Value::Kind;
  switch (v.kind()) {
    case Kind::kNotSet: break;
    case Kind::kNull:
      *p++ = Tag(value::kNull, kVarint);
      *p++ = 1;
      break;
    case Kind::kString: p = PutBytes(p, value::kString, v.string_value()); break;
    case Kind::kInt:
      *p++ = Tag(value::kInt, kVarint);
      p = PutVarint(p, static_cast<uint64_t>(v.int_value()));
      break;
    case Kind::kDouble: {
      *p++ = Tag(value::kDouble, kFixed64);
      const auto bits = std::bit_cast<uint64_t>(v.double_value());
      std::memcpy(p, &bits, 8);  // the wire is little-endian, as is every target we build
      p += 8;
      break;
    }
    case Kind::kBool:
      *p++ = Tag(value::kBool, kVarint);
      *p++ = v.bool_value() ? 1 : 0;
      break;
    case Kind::kList:
      *p++ = Tag(value::kList, kBytes);
      p = PutVarint(p, ListSize(v.list_value()));
      for (const auto item : v.list_value().values()) p = PutBytes(p, wire::list::kValues, item);
      break;
  }
  return p;
}

// An attribute message's bytes: its name and its value message (always written: a view
// cannot tell an absent value from an empty one).
size_t AttrSize(const EventView::Attr& a) {
  return StringSize(a.name()) + FieldSize(ValueSize(a.value()));
}

// An int32 is written as the int64 it widens to: ten bytes when negative.
uint64_t Int32Bits(int32_t v) { return static_cast<uint64_t>(int64_t{v}); }

size_t OriginSize(const OriginView& o) {
  return StringSize(o.topic) + VarintFieldSize(Int32Bits(o.partition)) +
         VarintFieldSize(static_cast<uint64_t>(o.offset));
}

static_assert(std::endian::native == std::endian::little);

}  // namespace

bool IsValidUtf8NotAscii(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && static_cast<unsigned char>(s[i]) < 0x80) ++i;
  return i == s.size() || google::protobuf::internal::IsStructurallyValidUTF8(
                              s.data() + i, static_cast<int>(s.size() - i));
}

bool IsValidUtf8(const EventView& v, const OriginView& origin) {
  const auto& s = v.subject();
  for (const std::string_view text : {v.id(), v.source(), v.type(), v.actor(), s.kind(), s.id(),
                                      s.key(), s.project(), s.service(), s.title(),
                                      origin.topic}) {
    if (!IsValidUtf8(text)) return false;
  }
  for (const auto& a : v.attrs()) {
    if (!IsValidUtf8(a.name()) || !IsValidUtf8(a.value().string_value())) return false;
    for (const auto item : a.value().list_value().values()) {
      if (!IsValidUtf8(item)) return false;
    }
  }
  return true;
}

size_t EncodeEvent(const EventView& v, const OriginView& origin, std::string& out) {
  const auto& s = v.subject();
  const size_t subject_size = SubjectSize(s);
  const size_t origin_size = OriginSize(origin);
  size_t size = VarintFieldSize(v.schema_version()) + StringSize(v.id()) +
                StringSize(v.source()) + StringSize(v.type()) +
                VarintFieldSize(static_cast<uint64_t>(v.occurred_at_ms())) +
                StringSize(v.actor()) + (subject_size > 0 ? FieldSize(subject_size) : 0) +
                (origin_size > 0 ? FieldSize(origin_size) : 0);
  for (const auto& a : v.attrs()) size += FieldSize(AttrSize(a));

  const size_t start = out.size();
  out.resize(start + size);
  char* const begin = out.data() + start;
  char* p = PutVarintField(begin, event::kSchemaVersion, v.schema_version());
  // An empty id is left out, as any empty proto3 string.
  const size_t id_at =
      v.id().empty() ? 0 : static_cast<size_t>(p - begin) + 1 + VarintSize(v.id().size());
  p = PutString(p, event::kId, v.id());
  p = PutString(p, event::kSource, v.source());
  p = PutString(p, event::kType, v.type());
  p = PutVarintField(p, event::kOccurredAt, static_cast<uint64_t>(v.occurred_at_ms()));
  p = PutString(p, event::kActor, v.actor());
  if (subject_size > 0) {
    *p++ = Tag(event::kSubject, kBytes);
    p = PutVarint(p, subject_size);
    p = PutString(p, subject::kKind, s.kind());
    p = PutString(p, subject::kId, s.id());
    p = PutString(p, subject::kKey, s.key());
    p = PutString(p, subject::kProject, s.project());
    p = PutString(p, subject::kService, s.service());
    p = PutString(p, subject::kTitle, s.title());
  }
  for (const auto& a : v.attrs()) {
    *p++ = Tag(event::kAttrs, kBytes);
    p = PutVarint(p, AttrSize(a));
    p = PutString(p, attr::kName, a.name());
    *p++ = Tag(attr::kValue, kBytes);
    p = PutVarint(p, ValueSize(a.value()));
    p = PutValue(p, a.value());
  }
  if (origin_size > 0) {
    *p++ = Tag(event::kOrigin, kBytes);
    p = PutVarint(p, origin_size);
    p = PutString(p, origin_field::kTopic, origin.topic);
    p = PutVarintField(p, origin_field::kPartition, Int32Bits(origin.partition));
    p = PutVarintField(p, origin_field::kOffset, static_cast<uint64_t>(origin.offset));
  }
  assert(p == begin + size);  // the sizes above are the bytes written
  (void)begin;
  return id_at;
}

bool EncodedEvents::Append(const EventView& v, const OriginView& origin) {
  if (!IsValidUtf8(v, origin)) return false;
  AppendChecked(v, origin);
  return true;
}

bool EncodedEvents::AppendAsciiStrings(const EventView& v, const OriginView& origin) {
  if (!IsValidUtf8(origin.topic)) return false;
  assert(IsValidUtf8(v, origin));
  AppendChecked(v, origin);
  return true;
}

void EncodedEvents::AppendChecked(const EventView& v, const OriginView& origin) {
  Entry e;
  e.begin = bytes_.size();
  e.id_at = static_cast<uint32_t>(EncodeEvent(v, origin, bytes_));
  e.id_size = static_cast<uint32_t>(v.id().size());
  e.size = static_cast<uint32_t>(bytes_.size() - e.begin);
  e.occurred_at_ms = v.occurred_at_ms();
  entries_.push_back(e);
}

bool EncodedEvents::Append(const Event& e) {
  ViewOf(e, scratch_);
  return Append(scratch_, {e.origin().topic(), e.origin().partition(), e.origin().offset()});
}

void EncodedEvents::push_back(const Event& e) {
  if (!Append(e)) throw std::invalid_argument("event " + e.id() + ": a string is not UTF-8");
}

void EncodedEvents::AppendAll(const EncodedEvents& other) {
  assert(&other != this);
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
    // Our own encoding of a view with valid strings: it parses (EncodeEventTest in
    // tests/eventlog/decode_view_test.cc).
    if (!e->ParseFromArray(bytes(i).data(), static_cast<int>(bytes(i).size()))) {
      throw std::runtime_error("EncodedEvents: event " + std::to_string(i) + " does not parse");
    }
    parsed_[i] = std::move(e);
  }
  return *parsed_[i];
}

const Event& EncodedEvents::at(size_t i) const {
  if (i >= size()) throw std::out_of_range("EncodedEvents::at");
  return (*this)[i];
}

}  // namespace teamhealth::schema
