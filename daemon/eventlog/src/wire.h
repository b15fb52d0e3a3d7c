#pragma once

// Reading a stored event's protobuf wire format through CodedInputStream, for
// ReadIndexFields: it mirrors what protobuf's parser does with the same bytes for the fields it
// reads, and skips the rest as the parser skips unknown fields. (DecodeView, read on every
// replay, has its own pointer reader: decode_view.cc says why.)
#include <cstdint>
#include <string_view>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/stubs/common.h>
#include <google/protobuf/wire_format_lite.h>

namespace teamhealth::eventlog::wire {

using google::protobuf::io::CodedInputStream;
using WFL = google::protobuf::internal::WireFormatLite;

inline bool IsTag(uint32_t tag, int number, WFL::WireType type) {
  return tag == WFL::MakeTag(number, type);
}

// The next tag, 0 at the end of the message (or of the current limit). False for what
// protobuf's parser refuses: a 0 tag, field number 0, an end-group tag outside a group.
inline bool NextTag(CodedInputStream& in, uint32_t& tag) {
  tag = in.ReadTag();
  if (tag == 0) return in.ConsumedEntireMessage();
  return WFL::GetTagFieldNumber(tag) != 0 &&
         WFL::GetTagWireType(tag) != WFL::WIRETYPE_END_GROUP;
}

// A length-delimited field's bytes, as a view into `record`.
inline bool ReadBytes(CodedInputStream& in, std::string_view record, std::string_view& out) {
  uint32_t size = 0;
  if (!in.ReadVarint32(&size)) return false;
  const int at = in.CurrentPosition();
  if (!in.Skip(static_cast<int>(size))) return false;
  out = record.substr(static_cast<size_t>(at), size);
  return true;
}

inline bool ReadString(CodedInputStream& in, std::string_view record, std::string_view& out) {
  return ReadBytes(in, record, out) &&
         google::protobuf::internal::IsStructurallyValidUTF8(out.data(),
                                                             static_cast<int>(out.size()));
}

// One embedded message: its length, then each field's tag to `field(tag)`, which reads the
// field and returns whether it was well-formed (SkipField for fields it does not read). The
// parser's recursion limit applies to unknown groups inside; one level for the message.
template <typename Field>
bool ReadMessage(CodedInputStream& in, std::string_view record, Field&& field) {
  uint32_t size = 0;
  if (!in.ReadVarint32(&size)) return false;
  if (size > record.size() - static_cast<size_t>(in.CurrentPosition())) return false;
  if (!in.IncrementRecursionDepth()) return false;
  const auto limit = in.PushLimit(static_cast<int>(size));
  bool ok = true;
  uint32_t tag = 0;
  while (ok && NextTag(in, tag) && tag != 0) ok = field(tag);
  ok = ok && tag == 0 && in.ConsumedEntireMessage();
  in.PopLimit(limit);
  in.DecrementRecursionDepth();
  return ok;
}

}  // namespace teamhealth::eventlog::wire
