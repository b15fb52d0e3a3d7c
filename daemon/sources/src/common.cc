#include "common.h"

#include <algorithm>
#include <charconv>

#include "teamhealth/base/hash.h"

namespace teamhealth::sources {

std::string_view PaddedBuffer::Assign(std::string_view body) {
  const size_t needed = body.size() + simdjson::SIMDJSON_PADDING;
  if (buf_.size() < needed) buf_.resize(std::max(needed, buf_.size() * 2));
  std::copy(body.begin(), body.end(), buf_.begin());
  return std::string_view(buf_.data(), body.size());
}

void JsonSource::DoNormalize(const RawRecord& record, NormalizeResult& out) {
  if (record.value.empty()) return out.Reject(Reason::kEmpty, "empty record value");
  const std::string_view body = buffer_.Assign(record.value);
  simdjson::ondemand::document doc;
  Object object;
  if (parser_.iterate(body.data(), body.size(), buffer_.capacity()).get(doc)) {
    out.Reject(Reason::kInvalidJson, "not JSON");
  } else if (doc.get_object().get(object)) {
    out.Reject(Reason::kInvalidJson, "not a JSON object");
  } else {
    Read(object, record, out);
    const char* rest = nullptr;
    if (out.rejection) {
      // Read stopped early: what follows was not looked at (step 7 decides).
    } else if (doc.current_location().get(rest) == simdjson::SUCCESS) {
      out.Reject(Reason::kInvalidJson, "trailing content after the object");
    } else {
      Map(record, out);
      RejectImpossibleTimes(out);  // before step 7, which must see the final outcome
    }
  }
  if (!out.rejection || out.rejection->reason == Reason::kInvalidJson) return;
  simdjson::dom::element root;
  if (validator_.parse(body.data(), body.size(), false).get(root)) {
    out.Reject(Reason::kInvalidJson, "malformed JSON");
  }
}

namespace {

// Appends `<source>:<native>` to an empty `out` (one allocation at most).
void AssignRef(std::string_view source, std::string_view native, std::string& out,
               size_t extra = 0) {
  out.reserve(source.size() + 1 + native.size() + extra);
  out.append(source).push_back(':');
  out.append(native);
}

}  // namespace

bool KeyInPlace(simdjson::ondemand::raw_json_string raw, std::string_view& key) {
  // Stage 1 has validated the document: the closing quote is there.
  const char* begin = raw.raw();
  const char* end = begin;
  for (; *end != '"'; ++end) {
    if (*end == '\\') return false;
  }
  key = std::string_view(begin, static_cast<size_t>(end - begin));
  return true;
}

std::string PersonRef(std::string_view source, std::string_view native) {
  std::string out;
  if (!native.empty()) AssignRef(source, native, out);
  return out;
}

std::string StableHash(std::initializer_list<std::string_view> fields) {
  constexpr size_t kMaxLengthDigits = 20;
  size_t size = 0;
  for (auto f : fields) size += kMaxLengthDigits + 1 + f.size();
  std::string joined;  // one allocation: "<length>:<field>" for each field
  joined.reserve(size);
  for (auto f : fields) {
    char digits[kMaxLengthDigits];
    const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, f.size());
    joined.append(digits, end).push_back(':');
    joined.append(f);
  }
  return ContentHash(joined);
}

std::optional<EpochMillis> ParseEpochSecondsString(std::string_view text) {
  const auto dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  if (whole.empty()) return std::nullopt;
  int64_t seconds = 0;
  auto [p, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), seconds);
  if (ec != std::errc() || p != whole.data() + whole.size() || seconds < 0) return std::nullopt;
  int64_t millis = 0;
  if (dot != std::string_view::npos) {
    const std::string_view frac = text.substr(dot + 1);
    if (frac.empty()) return std::nullopt;
    int digits = 0;
    for (char c : frac) {
      if (c < '0' || c > '9') return std::nullopt;
      if (digits < 3) millis = millis * 10 + (c - '0');
      ++digits;
    }
    for (int i = digits; i < 3; ++i) millis *= 10;
  } else if (whole.size() >= 16) {
    // Slack's app_mention example writes event_ts as microseconds without a dot.
    return EpochAnyUnitToMillis(seconds);
  }
  constexpr int64_t kMaxSeconds = 253402300799;  // 9999-12-31T23:59:59Z
  if (seconds > kMaxSeconds) return std::nullopt;
  return seconds * 1000 + millis;
}

EpochMillis EpochAnyUnitToMillis(int64_t v) {
  if (v >= 100'000'000'000'000'000) return v / 1'000'000;  // ns
  if (v >= 100'000'000'000'000) return v / 1'000;          // us
  if (v >= 100'000'000'000) return v;                      // ms
  return v * 1000;                                         // s
}

void SortAttrsByName(google::protobuf::RepeatedPtrField<schema::Attr>& attrs) {
  constexpr int kInsertionSortMax = 32;
  if (attrs.size() > kInsertionSortMax) {
    std::stable_sort(
        attrs.pointer_begin(), attrs.pointer_end(),
        [](const schema::Attr* a, const schema::Attr* b) { return a->name() < b->name(); });
    return;
  }
  for (int i = 1; i < attrs.size(); ++i) {
    for (int j = i; j > 0 && attrs.Get(j).name() < attrs.Get(j - 1).name(); --j) {
      attrs.SwapElements(j, j - 1);
    }
  }
}

EventBuilder::EventBuilder(std::string_view source, std::string_view dedup_id,
                           std::string_view type)
    : source_(source) {
  event_.mutable_source()->assign(source);
  AssignRef(source, dedup_id, *event_.mutable_id(), /*extra: room for a suffix, "#12"*/ 4);
  event_.mutable_type()->assign(type);
}

EventBuilder& EventBuilder::Suffix(int n) {
  char digits[16];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  event_.mutable_id()->append("#").append(digits, end);
  return *this;
}

EventBuilder& EventBuilder::At(EpochMillis ms) {
  event_.set_occurred_at_ms(ms);
  return *this;
}

EventBuilder& EventBuilder::Actor(std::string_view native_id) {
  event_.set_actor(PersonRef(source_, native_id));
  return *this;
}

EventBuilder& EventBuilder::Subject(std::string_view kind, std::string_view id) {
  schema::Subject* subject = event_.mutable_subject();
  subject->mutable_kind()->assign(kind);
  subject->mutable_id()->assign(id);
  return *this;
}

EventBuilder& EventBuilder::SubjectKey(std::string_view key) {
  event_.mutable_subject()->mutable_key()->assign(key);
  return *this;
}

EventBuilder& EventBuilder::SubjectProject(std::string_view project) {
  event_.mutable_subject()->mutable_project()->assign(project);
  return *this;
}

EventBuilder& EventBuilder::SubjectService(std::string_view service) {
  event_.mutable_subject()->mutable_service()->assign(service);
  return *this;
}

EventBuilder& EventBuilder::SubjectTitle(std::string_view title) {
  event_.mutable_subject()->mutable_title()->assign(title);
  return *this;
}

schema::Value* EventBuilder::AddAttr(std::string_view name) {
  schema::Attr* a = event_.add_attrs();
  a->mutable_name()->assign(name);
  return a->mutable_value();
}

EventBuilder& EventBuilder::Attr(std::string_view name, std::string_view value) {
  AddAttr(name)->mutable_string_value()->assign(value);
  return *this;
}

EventBuilder& EventBuilder::AttrInt(std::string_view name, int64_t value) {
  AddAttr(name)->set_int_value(value);
  return *this;
}

EventBuilder& EventBuilder::AttrBool(std::string_view name, bool value) {
  AddAttr(name)->set_bool_value(value);
  return *this;
}

EventBuilder& EventBuilder::AttrNull(std::string_view name) {
  AddAttr(name)->set_null_value(true);
  return *this;
}

EventBuilder& EventBuilder::AttrList(std::string_view name,
                                     const std::vector<std::string>& values) {
  auto* list = AddAttr(name)->mutable_list_value();
  list->mutable_values()->Reserve(static_cast<int>(values.size()));
  for (const auto& v : values) list->add_values(v);
  return *this;
}

EventBuilder& EventBuilder::AttrOpt(std::string_view name,
                                    const std::optional<std::string>& value) {
  return value ? Attr(name, *value) : AttrNull(name);
}

EventBuilder& EventBuilder::AttrPerson(std::string_view name, std::string_view native_id) {
  if (native_id.empty()) return AttrNull(name);
  AssignRef(source_, native_id, *AddAttr(name)->mutable_string_value());
  return *this;
}

EventBuilder& EventBuilder::AttrPersons(std::string_view name,
                                        std::span<const std::string> native_ids) {
  auto* list = AddAttr(name)->mutable_list_value();
  for (const auto& n : native_ids) AddPerson(n, *list);
  return *this;
}

EventBuilder& EventBuilder::AttrPersons(std::string_view name,
                                        std::span<const std::string_view> native_ids) {
  auto* list = AddAttr(name)->mutable_list_value();
  for (const auto n : native_ids) AddPerson(n, *list);
  return *this;
}

void EventBuilder::AddPerson(std::string_view native_id, schema::StringList& list) const {
  if (!native_id.empty()) AssignRef(source_, native_id, *list.add_values());
}

schema::Event EventBuilder::Build(const RawRecord& record) {
  SortAttrsByName(*event_.mutable_attrs());
  auto* origin = event_.mutable_origin();
  origin->mutable_topic()->assign(record.topic);
  origin->set_partition(record.partition);
  origin->set_offset(record.offset);
  return std::move(event_);
}

void EmitAll(std::vector<EventBuilder>& events, const RawRecord& record, NormalizeResult& out) {
  if (events.empty()) {
    out.ignored = true;
    return;
  }
  const bool several = events.size() > 1;
  for (size_t i = 0; i < events.size(); ++i) {
    if (several) events[i].Suffix(static_cast<int>(i + 1));
    out.events.push_back(events[i].Build(record));
  }
}

void StatusCategories::Learn(std::string_view key, std::string_view category) {
  std::lock_guard lock(mu_);
  auto it = learned_.find(key);
  if (it == learned_.end()) {
    learned_.emplace(std::string(key), std::string(category));
  } else if (it->second != category) {
    it->second = std::string(category);
  }
}

std::optional<std::string> StatusCategories::Lookup(std::string_view id_key,
                                                    std::string_view name_key) const {
  std::lock_guard lock(mu_);
  if (auto it = overrides_.find(id_key); it != overrides_.end()) return it->second;
  if (auto it = overrides_.find(name_key); it != overrides_.end()) {
    return it->second;
  }
  if (auto it = learned_.find(id_key); it != learned_.end()) return it->second;
  return std::nullopt;
}

std::optional<std::string> JiraCategory(std::string_view key) {
  if (key == "new") return "todo";
  if (key == "indeterminate") return "in_progress";
  if (key == "done") return "done";
  return std::nullopt;
}

}  // namespace teamhealth::sources
