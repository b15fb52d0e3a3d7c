// A stored event as a schema::EventView, straight from its wire format (see event_log.h):
// no protobuf message is built and nothing is allocated once the view is warm. Mirrors what
// protobuf's parser does with the same bytes; tests/eventlog/decode_view_test.cc and the fuzz
// target fuzz_decode_view compare the two.
#include <bit>
#include <limits>
#include <string>

#include "teamhealth/eventlog/event_log.h"
#include "wire.h"

namespace teamhealth::eventlog {
namespace {

using namespace wire;  // NOLINT: the shared wire helpers

// Field numbers of schemas/event.proto.
namespace event {
constexpr int kSchemaVersion = 1, kId = 2, kSource = 3, kType = 4, kOccurredAt = 5, kActor = 6,
              kSubject = 7, kAttrs = 8;
}
namespace subject {
constexpr int kKind = 1, kId = 2, kKey = 3, kProject = 4, kService = 5, kTitle = 6;
}
namespace attr {
constexpr int kName = 1, kValue = 2;
}
namespace value {
constexpr int kNull = 1, kString = 2, kInt = 3, kDouble = 4, kBool = 5, kList = 6;
}
constexpr int kListValues = 1;

constexpr auto kVarint = WFL::WIRETYPE_VARINT;
constexpr auto kBytes = WFL::WIRETYPE_LENGTH_DELIMITED;
constexpr auto kFixed64 = WFL::WIRETYPE_FIXED64;

bool ReadSubject(CodedInputStream& in, std::string_view record, schema::EventView& out) {
  auto& s = out.mutable_subject();
  return ReadMessage(in, record, [&](uint32_t tag) {
    if (WFL::GetTagWireType(tag) == kBytes) {
      switch (WFL::GetTagFieldNumber(tag)) {
        case subject::kKind: return ReadString(in, record, s.kind_);
        case subject::kId: return ReadString(in, record, s.id_);
        case subject::kKey: return ReadString(in, record, s.key_);
        case subject::kProject: return ReadString(in, record, s.project_);
        case subject::kService: return ReadString(in, record, s.service_);
        case subject::kTitle: return ReadString(in, record, s.title_);
        default: break;
      }
    }
    return WFL::SkipField(&in, tag);
  });
}

bool ReadValue(CodedInputStream& in, std::string_view record, schema::EventView& out) {
  return ReadMessage(in, record, [&](uint32_t tag) {
    uint64_t v = 0;
    std::string_view text;
    if (IsTag(tag, value::kNull, kVarint)) {
      if (!in.ReadVarint64(&v)) return false;
      out.SetNull();
      return true;
    }
    if (IsTag(tag, value::kString, kBytes)) {
      if (!ReadString(in, record, text)) return false;
      out.SetString(text);
      return true;
    }
    if (IsTag(tag, value::kInt, kVarint)) {
      if (!in.ReadVarint64(&v)) return false;
      out.SetInt(static_cast<int64_t>(v));
      return true;
    }
    if (IsTag(tag, value::kDouble, kFixed64)) {
      if (!in.ReadLittleEndian64(&v)) return false;
      out.SetDouble(std::bit_cast<double>(v));
      return true;
    }
    if (IsTag(tag, value::kBool, kVarint)) {
      if (!in.ReadVarint64(&v)) return false;
      out.SetBool(v != 0);
      return true;
    }
    if (IsTag(tag, value::kList, kBytes)) {
      out.SetList();
      return ReadMessage(in, record, [&](uint32_t item_tag) {
        if (!IsTag(item_tag, kListValues, kBytes)) return WFL::SkipField(&in, item_tag);
        if (!ReadString(in, record, text)) return false;
        out.AddListItem(text);
        return true;
      });
    }
    return WFL::SkipField(&in, tag);
  });
}

bool ReadAttr(CodedInputStream& in, std::string_view record, schema::EventView& out) {
  out.AddAttr({});
  return ReadMessage(in, record, [&](uint32_t tag) {
    if (IsTag(tag, attr::kName, kBytes)) {
      std::string_view name;
      if (!ReadString(in, record, name)) return false;
      out.set_attr_name(name);
      return true;
    }
    if (IsTag(tag, attr::kValue, kBytes)) return ReadValue(in, record, out);
    return WFL::SkipField(&in, tag);
  });
}

}  // namespace

Status DecodeView(std::string_view record, schema::EventView& out) {
  out.Reset();
  if (record.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return Error("corrupt event record");
  }
  CodedInputStream in(reinterpret_cast<const uint8_t*>(record.data()),
                      static_cast<int>(record.size()));
  uint32_t version = 0;
  uint32_t tag = 0;
  bool ok = true;
  std::string_view text;
  while (ok && NextTag(in, tag) && tag != 0) {
    const int number = WFL::GetTagFieldNumber(tag);
    const auto type = WFL::GetTagWireType(tag);
    if (number == event::kSchemaVersion && type == kVarint) {
      ok = in.ReadVarint32(&version);
    } else if (number == event::kOccurredAt && type == kVarint) {
      uint64_t v = 0;
      ok = in.ReadVarint64(&v);
      out.set_occurred_at_ms(static_cast<int64_t>(v));
    } else if (type == kBytes && number >= event::kId && number <= event::kActor &&
               number != event::kOccurredAt) {
      ok = ReadString(in, record, text);
      if (number == event::kId) out.set_id(text);
      if (number == event::kSource) out.set_source(text);
      if (number == event::kType) out.set_type(text);
      if (number == event::kActor) out.set_actor(text);
    } else if (number == event::kSubject && type == kBytes) {
      ok = ReadSubject(in, record, out);
    } else if (number == event::kAttrs && type == kBytes) {
      ok = ReadAttr(in, record, out);
    } else {
      ok = WFL::SkipField(&in, tag);
    }
  }
  if (!ok || tag != 0 || !in.ConsumedEntireMessage()) return Error("corrupt event record");
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
