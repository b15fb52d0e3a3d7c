#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "attr_name.h"
#include "event.pb.h"
#include "person_fields.h"

namespace teamhealth::schema {

// The canonical types the projections branch on, decoded once per event so that a projection
// compares a byte instead of a string. kOther is every other type (they are still readable as
// strings through EventView::type()).
enum class EventType : uint8_t {
  kOther,
  kChatMessage,
  kWorkItemCreated,
  kWorkItemStatusChanged,
  kWorkItemAssigned,
  kWorkItemCommented,
  kPullRequestOpened,
  kPullRequestMerged,
  kPullRequestClosed,
  kPullRequestReviewRequested,
  kIncidentTriggered,
  kIncidentAcknowledged,
  kIncidentResolved,
  kIncidentEscalated,
  kIncidentReassigned,
  kOncallShift,
  kPersonTimeOff,
  kPulseResponse,
  kDirectory,  // every directory.* type
};
EventType TypeOf(std::string_view type);

// A type's family, what its name starts with (`incident.` for every incident type, known to
// EventType or not), decoded once per event like the type.
enum class TypeFamily : uint8_t { kOther, kWorkItem, kPullRequest, kIncident, kDirectory };
TypeFamily FamilyOf(std::string_view type);

// The subject kinds of a work activity (docs/design.md section 7.3), decoded once per event
// like EventType; kOther is every other kind.
enum class SubjectKind : uint8_t { kOther, kWorkItem, kPullRequest, kIncident };
SubjectKind SubjectKindOf(std::string_view kind);

// The pipeline's number for a resolved person key (projections::DirectoryView::Intern);
// kNoPersonId when not stamped.
using PersonId = uint32_t;
inline constexpr PersonId kNoPersonId = UINT32_MAX;

// A read-only view of one canonical event (docs/design.md section 10, "projections read a
// compact fixed-layout record"): the fields of schema::Event as string views into bytes that
// someone else owns — the stored record it was decoded from (eventlog::DecodeView, no protobuf
// message is built) or a schema::Event (ViewOf). Its accessors are named as the message's, so
// the projections read either the same way. The view is meant to be reused from one event to
// the next: decoding into it again reuses its vectors, so a replay allocates nothing per event.
//
// A view is valid while the bytes it points into are; copying it copies the views, not the
// bytes. `origin` is not part of the view (no projection reads it).
class EventView {
 public:
  class List {
   public:
    std::span<const std::string_view> values() const { return values_; }

   private:
    friend class EventView;
    std::span<const std::string_view> values_;
  };
  // One attribute value: the oneof of schema::Value.
  class Value {
   public:
    enum class Kind : uint8_t { kNotSet, kNull, kString, kInt, kDouble, kBool, kList };
    Kind kind() const { return kind_; }
    bool has_null_value() const { return kind_ == Kind::kNull; }
    bool has_string_value() const { return kind_ == Kind::kString; }
    bool has_int_value() const { return kind_ == Kind::kInt; }
    bool has_double_value() const { return kind_ == Kind::kDouble; }
    bool has_bool_value() const { return kind_ == Kind::kBool; }
    bool has_list_value() const { return kind_ == Kind::kList; }
    std::string_view string_value() const { return kind_ == Kind::kString ? text_ : ""; }
    int64_t int_value() const { return kind_ == Kind::kInt ? int_ : 0; }
    double double_value() const { return kind_ == Kind::kDouble ? double_ : 0; }
    bool bool_value() const { return kind_ == Kind::kBool && int_ != 0; }
    const List& list_value() const { return list_; }

   private:
    friend class EventView;
    Kind kind_ = Kind::kNotSet;
    std::string_view text_;
    int64_t int_ = 0;
    double double_ = 0;
    List list_;
    // While decoding: where this value's items start in EventView::items_, and how many.
    uint32_t first_item_ = 0, item_count_ = 0;
  };
  class Attr {
   public:
    std::string_view name() const { return name_; }
    const Value& value() const { return value_; }

   private:
    friend class EventView;
    std::string_view name_;
    Value value_;
  };
  struct Subject {
    std::string_view kind_, id_, key_, project_, service_, title_;
    std::string_view kind() const { return kind_; }
    std::string_view id() const { return id_; }
    std::string_view key() const { return key_; }
    std::string_view project() const { return project_; }
    std::string_view service() const { return service_; }
    std::string_view title() const { return title_; }
  };

  EventView() = default;
  // A view of a message (ViewOf), implicit so that whatever reads views reads a message too
  // (tests, and paths that hold messages). It must not outlive `e`: never bind a view to a
  // temporary message beyond the full expression that made it.
  EventView(const Event& e);  // NOLINT(google-explicit-constructor)
  // A copy views the same bytes; its lists view its own copy of the items, so resolving the
  // copy's references leaves the original as it was.
  EventView(const EventView& other) { *this = other; }
  EventView& operator=(const EventView& other);
  // A move keeps the vectors' buffers, so the lists' spans stay valid (and an ingest batch,
  // which holds a view, moves without copying its events).
  EventView(EventView&&) noexcept = default;
  EventView& operator=(EventView&&) noexcept = default;

  uint32_t schema_version() const { return schema_version_; }
  std::string_view id() const { return id_; }
  std::string_view source() const { return source_; }
  std::string_view type() const { return type_; }
  EventType type_code() const { return type_code_; }
  TypeFamily type_family() const { return type_family_; }
  SubjectKind subject_kind() const { return subject_kind_; }
  int64_t occurred_at_ms() const { return occurred_at_ms_; }
  std::string_view actor() const { return actor_; }
  // The id the pipeline gave the resolved actor (PersonId), or kNoPersonId: a view decoded or
  // made from a message has none until a Pipeline applies it.
  PersonId actor_id() const { return actor_id_; }
  void set_actor_id(PersonId id) { actor_id_ = id; }
  const Subject& subject() const { return subject_; }
  // The subject's key (source, subject kind and subject id, joined by '\x1f', which none of them
  // holds): what projections key their state of a subject by. The pipeline sets it once per
  // event that has a subject (projections::Pipeline), so that no projection builds and hashes
  // its own; empty on a view no pipeline applied.
  std::string_view subject_key() const { return subject_key_; }
  void set_subject_key(std::string_view key) { subject_key_ = key; }
  std::span<const Attr> attrs() const { return attrs_; }

  // The attribute named `name`, or nullptr (attributes are few: a linear scan).
  const Value* FindAttr(std::string_view name) const;
  // The same by code: the first attribute of that name, as by name. A view the compact column
  // gave knows its attributes' codes, and finds one in one indexed load; any other view searches
  // by name (numbering its names first cost more than the few searches a replay makes).
  const Value* FindAttr(AttrName name) const {
    if (!slots_ready_) return FindAttr(NameOf(name));
    const uint32_t slot = slots_[static_cast<size_t>(name)];
    return slot == 0 ? nullptr : &attrs_[slot - 1].value_;
  }

  // Resolution (the pipeline's person step) rewrites person references to views of keys it
  // owns; the same references, in the same order, as ForEachPersonRef over a message.
  // `fn(std::string_view&)` may replace the view. Drops the actor's id (actor_id).
  template <typename Fn>
  void ForEachPersonRef(Fn&& fn);

  // Decoding, for the decoders (ViewOf and eventlog::DecodeView) only: Reset(), then setters
  // and AddAttr/AddListItem in wire order, then Finish().
  void Reset();
  void set_schema_version(uint32_t v) { schema_version_ = v; }
  void set_id(std::string_view v) { id_ = v; }
  void set_source(std::string_view v) { source_ = v; }
  void set_type(std::string_view v) { type_ = v; }
  void set_occurred_at_ms(int64_t v) { occurred_at_ms_ = v; }
  void set_actor(std::string_view v) {
    actor_ = v;
    actor_id_ = kNoPersonId;
  }
  Subject& mutable_subject() { return subject_; }
  // A new attribute, unset; then at most one of the value setters, or list items.
  void AddAttr(std::string_view name);
  // The same by a known name's code (not kUnknown), for a decoder whose record stored it: a
  // decoder that adds every known name so, and others by a name AttrNameOf does not know, may
  // finish with FinishWithCodes(..., /*attrs_numbered=*/true).
  void AddAttr(AttrName name);
  void SetNull();
  void SetString(std::string_view v);
  void SetInt(int64_t v);
  void SetDouble(double v);
  void SetBool(bool v);
  // A list; AddListItem appends to it. Set again while the value is a list, it continues
  // that list (protobuf's merge). Items of one attribute must be added before the next
  // attribute is.
  void SetList();
  void AddListItem(std::string_view v);
  void set_attr_name(std::string_view name) {
    attrs_.back().name_ = name;
    slots_ready_ = false;
  }
  // Orders the attributes by name, equal names in the order added (for a builder: the stored
  // order; decoders keep the wire's). Before Finish().
  void SortAttrsByName();
  // Fixes the lists' spans, the type code and the subject kind.
  void Finish();
  // Finish() with the codes given: for a decoder whose record stored the codes Finish() gave
  // (eventlog's compact records), so that the type is not matched against every name again.
  void FinishWithCodes(EventType type, TypeFamily family, SubjectKind kind, bool attrs_numbered) {
    type_code_ = type;
    type_family_ = family;
    subject_kind_ = kind;
    slots_ready_ = attrs_numbered;
    FixLists();
  }

 private:
  void FixLists();

  uint32_t schema_version_ = 0;
  std::string_view id_, source_, type_, actor_;
  PersonId actor_id_ = kNoPersonId;
  EventType type_code_ = EventType::kOther;
  TypeFamily type_family_ = TypeFamily::kOther;
  SubjectKind subject_kind_ = SubjectKind::kOther;
  int64_t occurred_at_ms_ = 0;
  Subject subject_;
  std::string_view subject_key_;
  std::vector<Attr> attrs_;
  // Every list's items, one list after the other. Both vectors keep their capacity across
  // Reset(): their elements are views, so reuse allocates nothing.
  std::vector<std::string_view> items_;
  // By AttrName, 1 + the index of the first attribute of that name, or 0: valid while
  // slots_ready_ (a decoder that stored the codes filled it).
  std::array<uint32_t, kAttrNameCount> slots_{};
  bool slots_ready_ = false;
};

// The decoders' setters, inline: a replay calls them for every attribute of every event.
inline void EventView::Reset() {
  schema_version_ = 0;
  id_ = source_ = type_ = actor_ = {};
  actor_id_ = kNoPersonId;
  type_code_ = EventType::kOther;
  type_family_ = TypeFamily::kOther;
  subject_kind_ = SubjectKind::kOther;
  occurred_at_ms_ = 0;
  subject_ = {};
  subject_key_ = {};
  attrs_.clear();
  items_.clear();
  slots_.fill(0);
  slots_ready_ = false;
}

inline void EventView::AddAttr(std::string_view name) { attrs_.emplace_back().name_ = name; }

inline void EventView::AddAttr(AttrName name) {
  attrs_.emplace_back().name_ = NameOf(name);
  uint32_t& slot = slots_[static_cast<size_t>(name)];
  if (slot == 0) slot = static_cast<uint32_t>(attrs_.size());
}

inline void EventView::SetNull() { attrs_.back().value_.kind_ = Value::Kind::kNull; }

inline void EventView::SetString(std::string_view v) {
  Value& value = attrs_.back().value_;
  value.kind_ = Value::Kind::kString;
  value.text_ = v;
}

inline void EventView::SetInt(int64_t v) {
  Value& value = attrs_.back().value_;
  value.kind_ = Value::Kind::kInt;
  value.int_ = v;
}

inline void EventView::SetDouble(double v) {
  Value& value = attrs_.back().value_;
  value.kind_ = Value::Kind::kDouble;
  value.double_ = v;
}

inline void EventView::SetBool(bool v) {
  Value& value = attrs_.back().value_;
  value.kind_ = Value::Kind::kBool;
  value.int_ = v ? 1 : 0;
}

inline void EventView::SetList() {
  Value& value = attrs_.back().value_;
  // A list set again in the same value continues it, as protobuf merges a repeated message
  // field (its items are still the last ones: one attribute is decoded at a time).
  if (value.kind_ == Value::Kind::kList) return;
  value.kind_ = Value::Kind::kList;
  value.first_item_ = static_cast<uint32_t>(items_.size());
  value.item_count_ = 0;
}

inline void EventView::AddListItem(std::string_view v) {
  items_.push_back(v);
  ++attrs_.back().value_.item_count_;
}

// A view of `e` (valid while `e` is unchanged and alive), into a reused view.
void ViewOf(const Event& e, EventView& out);
// The message a view shows (origin left empty): for what keeps events beyond the view's bytes.
Event ToMessage(const EventView& v);

template <typename Fn>
void EventView::ForEachPersonRef(Fn&& fn) {
  actor_id_ = kNoPersonId;  // the actor may be rewritten: its id no longer holds
  if (!actor_.empty()) fn(actor_);
  for (Attr& attr : attrs_) {
    if (!IsPersonAttr(type_, attr.name_)) continue;
    Value& v = attr.value_;
    if (v.kind_ == Value::Kind::kString) {
      if (!v.text_.empty()) fn(v.text_);
    } else if (v.kind_ == Value::Kind::kList) {
      for (uint32_t k = 0; k < v.item_count_; ++k) {
        std::string_view& item = items_[v.first_item_ + k];
        if (!item.empty()) fn(item);
      }
    }
  }
}

}  // namespace teamhealth::schema
