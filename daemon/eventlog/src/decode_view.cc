// A stored event as a schema::EventView, straight from its wire format (see event_log.h):
// no protobuf message is built and nothing is allocated once the view is warm. Mirrors what
// protobuf's parser does with the same bytes; tests/eventlog/decode_view_test.cc and the fuzz
// target fuzz_decode_view compare the two.
//
// It reads the bytes through a bare pointer pair rather than protobuf's CodedInputStream
// (which ReadIndexFields uses): a replay decodes every event of the log, and the stream's
// per-record set-up, limits and tag fallbacks cost about three times what the fields do
// (callgrind, replay_bench: ~4,200 instructions per event through the stream).
#include <bit>
#include <cstring>
#include <limits>
#include <string>

#include "teamhealth/eventlog/event_log.h"

namespace teamhealth::eventlog {
namespace {

// Field numbers and wire types: schemas/event_wire.h (the encoder's too).
namespace event = schema::wire::event;
namespace subject = schema::wire::subject;
namespace attr = schema::wire::attr;
namespace value = schema::wire::value;
namespace origin = schema::wire::origin;
constexpr uint32_t kListValues = schema::wire::list::kValues;
using enum schema::wire::WireType;
// Protobuf's default recursion limit: embedded messages and groups, together.
constexpr int kMaxDepth = 100;

// One message's bytes; every read checks the end and fails rather than run past it.
class Reader {
 public:
  explicit Reader(std::string_view bytes)
      : p_(reinterpret_cast<const uint8_t*>(bytes.data())), end_(p_ + bytes.size()) {}

  bool done() const { return p_ == end_; }

  // Up to ten bytes, as protobuf reads a varint (bits past 64 are dropped).
  bool Varint(uint64_t& v) {
    if (p_ != end_ && *p_ < 0x80) {  // booleans, small numbers: one byte
      v = *p_++;
      return true;
    }
    v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (p_ == end_) return false;
      const uint8_t b = *p_++;
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (b < 0x80) return true;
    }
    return false;
  }

  // A varint of at most five bytes, as protobuf's parser reads tags and lengths.
  bool Varint5(uint64_t& v) {
    if (p_ != end_ && *p_ < 0x80) {  // almost every tag and length here: one byte
      v = *p_++;
      return true;
    }
    v = 0;
    for (int i = 0; i < 5 && p_ != end_; ++i) {
      const uint8_t b = *p_++;
      v |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
      if (b < 0x80) return true;
    }
    return false;
  }

  // The next tag; false for what protobuf refuses: a tag longer than five bytes, field
  // number 0. As protobuf's parser does, the fifth byte's bits past 32 are dropped.
  bool Tag(uint32_t& number, uint32_t& type) {
    uint64_t wide = 0;
    if (!Varint5(wide)) return false;
    const auto tag = static_cast<uint32_t>(wide);
    number = tag >> 3;
    type = tag & 7;
    return number != 0;
  }

  // A length-delimited field's bytes, as a view into the record. The length is read as
  // protobuf's parser reads it: at most five bytes, under 2 GiB less its 16 slop bytes.
  bool Bytes(std::string_view& out) {
    uint64_t size = 0;
    if (!Varint5(size)) return false;
    constexpr uint64_t kMaxSize = std::numeric_limits<int32_t>::max() - 16;
    if (size > kMaxSize || size > static_cast<uint64_t>(end_ - p_)) return false;
    out = std::string_view(reinterpret_cast<const char*>(p_), size);
    p_ += size;
    return true;
  }

  bool String(std::string_view& out) { return Bytes(out) && schema::IsValidUtf8(out); }

  bool Fixed64(uint64_t& v) {
    if (end_ - p_ < 8) return false;
    std::memcpy(&v, p_, 8);  // the wire is little-endian, as is every target we build
    p_ += 8;
    return true;
  }

  // A field this reader does not read, as protobuf skips an unknown field. A group is read
  // to its matching end tag, one level deeper.
  bool Skip(uint32_t number, uint32_t type, int depth) {
    uint64_t v = 0;
    std::string_view bytes;
    switch (type) {
      case kVarint: return Varint(v);
      case kFixed64: return Fixed64(v);
      case kBytes: return Bytes(bytes);
      case kFixed32:
        if (end_ - p_ < 4) return false;
        p_ += 4;
        return true;
      case kStartGroup: {
        if (depth + 1 > kMaxDepth) return false;
        uint32_t n = 0, t = 0;
        while (Tag(n, t)) {
          if (t == kEndGroup) return n == number;
          if (!Skip(n, t, depth + 1)) return false;
        }
        return false;
      }
      default: return false;  // an end group outside a group, or wire types 6 and 7
    }
  }

  // The embedded message of a length-delimited field, one level deeper.
  bool Message(Reader& inner, int depth) {
    std::string_view bytes;
    if (depth + 1 > kMaxDepth || !Bytes(bytes)) return false;
    inner = Reader(bytes);
    return true;
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

static_assert(std::endian::native == std::endian::little,
              "Reader::Fixed64 reads the wire's little-endian bytes as they are");

// Reads every field of a message: `field(number, type)` reads one (or skips it) and returns
// false when it is malformed. False on the first malformed tag or field.
template <typename Field>
bool ForEachField(Reader& in, Field field) {
  uint32_t number = 0, type = 0;
  while (!in.done()) {
    if (!in.Tag(number, type) || !field(number, type)) return false;
  }
  return true;
}

bool ReadSubject(Reader& in, schema::EventView& out, int depth) {
  auto& s = out.mutable_subject();
  return ForEachField(in, [&](uint32_t number, uint32_t type) {
    std::string_view* field = nullptr;
    if (type == kBytes) {
      switch (number) {
        case subject::kKind: field = &s.kind_; break;
        case subject::kId: field = &s.id_; break;
        case subject::kKey: field = &s.key_; break;
        case subject::kProject: field = &s.project_; break;
        case subject::kService: field = &s.service_; break;
        case subject::kTitle: field = &s.title_; break;
        default: break;
      }
    }
    return field ? in.String(*field) : in.Skip(number, type, depth);
  });
}

bool ReadList(Reader& in, schema::EventView& out, int depth) {
  return ForEachField(in, [&](uint32_t number, uint32_t type) {
    if (number != kListValues || type != kBytes) return in.Skip(number, type, depth);
    std::string_view item;
    if (!in.String(item)) return false;
    out.AddListItem(item);
    return true;
  });
}

bool ReadValue(Reader& in, schema::EventView& out, int depth) {
  return ForEachField(in, [&](uint32_t number, uint32_t type) {
    uint64_t v = 0;
    std::string_view text;
    bool ok = true;
    if (number == value::kNull && type == kVarint) {
      ok = in.Varint(v);
      out.SetNull();
    } else if (number == value::kString && type == kBytes) {
      ok = in.String(text);
      out.SetString(text);
    } else if (number == value::kInt && type == kVarint) {
      ok = in.Varint(v);
      out.SetInt(static_cast<int64_t>(v));
    } else if (number == value::kDouble && type == kFixed64) {
      ok = in.Fixed64(v);
      out.SetDouble(std::bit_cast<double>(v));
    } else if (number == value::kBool && type == kVarint) {
      ok = in.Varint(v);
      out.SetBool(v != 0);
    } else if (number == value::kList && type == kBytes) {
      Reader list(std::string_view{});
      out.SetList();
      ok = in.Message(list, depth) && ReadList(list, out, depth + 1);
    } else {
      ok = in.Skip(number, type, depth);
    }
    return ok;
  });
}

bool ReadAttr(Reader& in, schema::EventView& out, int depth) {
  out.AddAttr({});
  return ForEachField(in, [&](uint32_t number, uint32_t type) {
    if (number == attr::kName && type == kBytes) {
      std::string_view name;
      if (!in.String(name)) return false;
      out.set_attr_name(name);
      return true;
    }
    if (number == attr::kValue && type == kBytes) {
      Reader value(std::string_view{});
      return in.Message(value, depth) && ReadValue(value, out, depth + 1);
    }
    return in.Skip(number, type, depth);
  });
}

bool ReadOrigin(Reader& in, schema::OriginView& out, int depth) {
  return ForEachField(in, [&](uint32_t number, uint32_t type) {
    uint64_t v = 0;
    if (number == origin::kTopic && type == kBytes) return in.String(out.topic);
    if ((number == origin::kPartition || number == origin::kOffset) && type == kVarint) {
      if (!in.Varint(v)) return false;
      if (number == origin::kPartition) out.partition = static_cast<int32_t>(v);
      if (number == origin::kOffset) out.offset = static_cast<int64_t>(v);
      return true;
    }
    return in.Skip(number, type, depth);
  });
}

bool ReadEvent(Reader& in, schema::EventView& out, uint32_t& version,
               schema::OriginView* origin) {
  return ForEachField(in, [&](uint32_t number, uint32_t type) {
    uint64_t v = 0;
    std::string_view text;
    bool ok = true;
    if (type == kVarint && (number == event::kSchemaVersion || number == event::kOccurredAt)) {
      ok = in.Varint(v);
      if (number == event::kSchemaVersion) version = static_cast<uint32_t>(v);
      if (number == event::kOccurredAt) out.set_occurred_at_ms(static_cast<int64_t>(v));
    } else if (type == kBytes && number >= event::kId && number <= event::kActor &&
               number != event::kOccurredAt) {
      ok = in.String(text);
      if (number == event::kId) out.set_id(text);
      if (number == event::kSource) out.set_source(text);
      if (number == event::kType) out.set_type(text);
      if (number == event::kActor) out.set_actor(text);
    } else if (type == kBytes && (number == event::kSubject || number == event::kAttrs)) {
      Reader inner(std::string_view{});
      ok = in.Message(inner, 0) && (number == event::kSubject ? ReadSubject(inner, out, 1)
                                                              : ReadAttr(inner, out, 1));
    } else if (origin != nullptr && type == kBytes && number == event::kOrigin) {
      Reader inner(std::string_view{});
      ok = in.Message(inner, 0) && ReadOrigin(inner, *origin, 1);
    } else {
      ok = in.Skip(number, type, 0);
    }
    return ok;
  });
}

}  // namespace

Status DecodeView(std::string_view record, schema::EventView& out, schema::OriginView* origin) {
  out.Reset();
  if (origin != nullptr) *origin = {};
  if (record.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return Error("corrupt event record");
  }
  Reader in(record);
  uint32_t version = 0;
  if (!ReadEvent(in, out, version, origin)) return Error("corrupt event record");
  if (version > kSchemaVersion) {
    return Error("event " + std::string(out.id()) + " has schema version " +
                 std::to_string(version) + ", newer than this build's " +
                 std::to_string(kSchemaVersion));
  }
  // Version 1 is the first; upcasts from older versions go here, as in Decode().
  out.set_schema_version(kSchemaVersion);
  out.Finish();
  return Status::Ok();
}

}  // namespace teamhealth::eventlog
