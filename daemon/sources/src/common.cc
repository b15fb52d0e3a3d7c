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

// Appends `<source>:<native>` to `out`, the one spelling of a reference. `source` may view
// `out` itself (std::string::append copes with that).
void AppendRef(std::string_view source, std::string_view native, std::string& out) {
  out.append(source).push_back(':');
  out.append(native);
}

}  // namespace

std::string PersonRef(std::string_view source, std::string_view native) {
  std::string out;
  if (native.empty()) return out;
  out.reserve(source.size() + 1 + native.size());
  AppendRef(source, native, out);
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

EventBuilder::EventBuilder(std::string_view source, std::string_view dedup_id,
                           std::string_view type) {
  // Room for a small event's strings: one allocation for most.
  text_.reserve(256);
  source_ = Put(source);
  id_ = PutRef(dedup_id);
  type_ = Put(type);
}

EventBuilder::Range EventBuilder::Put(std::string_view s) {
  const Range r{static_cast<uint32_t>(text_.size()), static_cast<uint32_t>(s.size())};
  text_.append(s);
  return r;
}

EventBuilder::Range EventBuilder::PutRef(std::string_view native) {
  const auto at = static_cast<uint32_t>(text_.size());
  AppendRef(View(source_), native, text_);
  return {at, static_cast<uint32_t>(text_.size() - at)};
}

EventBuilder& EventBuilder::Suffix(int n) {
  char digits[16];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  // The id again with its suffix, at the end (append copes with a source inside the string).
  const auto at = static_cast<uint32_t>(text_.size());
  text_.append(text_.data() + id_.at, id_.size);
  text_.push_back('#');
  text_.append(digits, end);
  id_ = {at, static_cast<uint32_t>(text_.size() - at)};
  return *this;
}

EventBuilder& EventBuilder::At(EpochMillis ms) {
  at_ = ms;
  return *this;
}

EventBuilder& EventBuilder::Actor(std::string_view native_id) {
  actor_ = native_id.empty() ? Range{} : PutRef(native_id);
  return *this;
}

EventBuilder& EventBuilder::Subject(std::string_view kind, std::string_view id) {
  subject_[0] = Put(kind);
  subject_[1] = Put(id);
  return *this;
}

EventBuilder& EventBuilder::SubjectKey(std::string_view key) {
  subject_[2] = Put(key);
  return *this;
}

EventBuilder& EventBuilder::SubjectProject(std::string_view project) {
  subject_[3] = Put(project);
  return *this;
}

EventBuilder& EventBuilder::SubjectService(std::string_view service) {
  subject_[4] = Put(service);
  return *this;
}

EventBuilder& EventBuilder::SubjectTitle(std::string_view title) {
  subject_[5] = Put(title);
  return *this;
}

EventBuilder::AttrRecord& EventBuilder::AddAttr(std::string_view name, Kind kind) {
  AttrRecord& a = attrs_.emplace_back();
  a.name = Put(name);
  a.kind = kind;
  a.first = static_cast<uint32_t>(items_.size());
  return a;
}

EventBuilder& EventBuilder::Attr(std::string_view name, std::string_view value) {
  const Range text = Put(value);
  AddAttr(name, Kind::kString).text = text;
  return *this;
}

EventBuilder& EventBuilder::AttrInt(std::string_view name, int64_t value) {
  AddAttr(name, Kind::kInt).number = value;
  return *this;
}

EventBuilder& EventBuilder::AttrBool(std::string_view name, bool value) {
  AddAttr(name, Kind::kBool).number = value ? 1 : 0;
  return *this;
}

EventBuilder& EventBuilder::AttrNull(std::string_view name) {
  AddAttr(name, Kind::kNull);
  return *this;
}

EventBuilder& EventBuilder::AttrList(std::string_view name,
                                     const std::vector<std::string>& values) {
  AddAttr(name, Kind::kList);
  for (const auto& v : values) items_.push_back(Put(v));
  attrs_.back().count = static_cast<uint32_t>(values.size());
  return *this;
}

EventBuilder& EventBuilder::AttrOpt(std::string_view name,
                                    std::optional<std::string_view> value) {
  return value ? Attr(name, *value) : AttrNull(name);
}

EventBuilder& EventBuilder::AttrPerson(std::string_view name, std::string_view native_id) {
  if (native_id.empty()) return AttrNull(name);
  const Range ref = PutRef(native_id);
  AddAttr(name, Kind::kString).text = ref;
  return *this;
}

EventBuilder& EventBuilder::AttrPersons(std::string_view name,
                                        std::span<const std::string> native_ids) {
  AddAttr(name, Kind::kList);
  for (const auto& n : native_ids) AddPerson(n);
  return *this;
}

EventBuilder& EventBuilder::AttrPersons(std::string_view name,
                                        std::span<const std::string_view> native_ids) {
  AddAttr(name, Kind::kList);
  for (const auto n : native_ids) AddPerson(n);
  return *this;
}

void EventBuilder::AddPerson(std::string_view native_id) {
  if (native_id.empty()) return;
  items_.push_back(PutRef(native_id));
  ++attrs_.back().count;
}

void EventBuilder::Build(const RawRecord& record, NormalizeResult& out) const {
  if (out.rejection) return;
  thread_local schema::EventView view;  // reused: its vectors keep their capacity
  view.Reset();
  view.set_id(View(id_));
  view.set_source(View(source_));
  view.set_type(View(type_));
  view.set_occurred_at_ms(at_);
  view.set_actor(View(actor_));
  view.mutable_subject() = {View(subject_[0]), View(subject_[1]), View(subject_[2]),
                            View(subject_[3]), View(subject_[4]), View(subject_[5])};
  for (const AttrRecord& a : attrs_) {
    view.AddAttr(View(a.name));
    switch (a.kind) {
      case Kind::kNotSet: break;
      case Kind::kNull: view.SetNull(); break;
      case Kind::kString: view.SetString(View(a.text)); break;
      case Kind::kInt: view.SetInt(a.number); break;
      case Kind::kDouble: break;  // no vendor attribute is a double
      case Kind::kBool: view.SetBool(a.number != 0); break;
      case Kind::kList:
        view.SetList();
        for (uint32_t k = 0; k < a.count; ++k) view.AddListItem(View(items_[a.first + k]));
        break;
    }
  }
  view.SortAttrsByName();  // equal names in the order added
  view.Finish();
  // Every string of the event views text_: one pass over it instead of a check per string
  // (the check per string was a twentieth of a small Slack record's time).
  const schema::OriginView origin{record.topic, record.partition, record.offset};
  if (!(schema::IsAscii(text_) ? out.events.AppendAsciiStrings(view, origin)
                               : out.events.Append(view, origin))) {
    out.Reject(Reason::kInvalidField, "a string that is not UTF-8 (a header or the topic)");
  }
}

void EmitAll(std::vector<EventBuilder>& events, const RawRecord& record, NormalizeResult& out) {
  if (events.empty()) {
    out.ignored = true;
    return;
  }
  const bool several = events.size() > 1;
  for (size_t i = 0; i < events.size(); ++i) {
    if (several) events[i].Suffix(static_cast<int>(i + 1));
    events[i].Build(record, out);
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
