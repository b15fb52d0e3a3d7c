// What one small event costs to build, before any JSON: the floor under normalize_bench's
// events/s on small payloads (issue 13). Builds the chat.message a Slack message normalises to
// (7 attributes, 2 mentions; 237 bytes stored) three ways, per CPU-second of this thread:
//   heap:   a schema::Event built with the generated setters, serialised, destroyed (what
//           sources + eventlog do per event today: ~38 heap allocations);
//   arena:  the same on a protobuf Arena reset every 1,000 events (a batch), serialised;
//   reuse:  the same into one message cleared before each event, serialised;
//   wire:   the same bytes written straight into a reused buffer, checked equal to the heap
//           variant's serialisation.
//   build-release/tests/bench/event_build_bench [--events 2000000]
#include <google/protobuf/arena.h>
#include <time.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "event.pb.h"

namespace {

using teamhealth::schema::Event;

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

void Fill(Event& e) {
  e.set_id("slack:msg:C0OPS:1712000200.000100");
  e.set_source("slack");
  e.set_type("chat.message");
  e.set_occurred_at_ms(1712000200000);
  e.set_actor("slack:U0BOB");
  e.mutable_subject()->set_kind("channel");
  e.mutable_subject()->set_id("C0OPS");
  auto add = [&](const char* name) {
    auto* a = e.add_attrs();
    a->set_name(name);
    return a->mutable_value();
  };
  add("bot")->set_bool_value(false);
  add("channel_type")->set_string_value("channel");
  add("edited")->set_bool_value(false);
  auto* mentions = add("mentions")->mutable_list_value();
  mentions->add_values("slack:U024BE7LH");
  mentions->add_values("slack:U0G9QF9C6");
  add("recipients")->mutable_list_value();
  add("thread")->set_bool_value(false);
  e.mutable_origin()->set_topic("bench");
}

// Protobuf wire format by hand. Nested messages reserve one length byte: every one here is
// under 128 bytes (a real writer would size them first or patch a varint).
class Wire {
 public:
  explicit Wire(std::string& out) : out_(out) {}
  void Varint(uint64_t v) {
    for (; v >= 0x80; v >>= 7) out_.push_back(static_cast<char>(v | 0x80));
    out_.push_back(static_cast<char>(v));
  }
  void Tag(int field, int wire_type) { Varint(static_cast<uint64_t>(field << 3 | wire_type)); }
  void Str(int field, std::string_view v) {
    if (v.empty()) return;
    Tag(field, 2);
    Varint(v.size());
    out_.append(v);
  }
  void Int(int field, int64_t v) {
    if (v == 0) return;
    Tag(field, 0);
    Varint(static_cast<uint64_t>(v));
  }
  void Bool(int field, bool v) {  // a oneof member: written even when false
    Tag(field, 0);
    out_.push_back(static_cast<char>(v));
  }
  template <typename Body>
  void Message(int field, Body body) {
    Tag(field, 2);
    const size_t at = out_.size();
    out_.push_back(0);
    body();
    out_[at] = static_cast<char>(out_.size() - at - 1);
  }

 private:
  std::string& out_;
};

void WriteWire(std::string& out) {
  out.clear();
  Wire w(out);
  w.Str(2, "slack:msg:C0OPS:1712000200.000100");
  w.Str(3, "slack");
  w.Str(4, "chat.message");
  w.Int(5, 1712000200000);
  w.Str(6, "slack:U0BOB");
  w.Message(7, [&] {
    w.Str(1, "channel");
    w.Str(2, "C0OPS");
  });
  auto attr = [&](const char* name, auto value) {
    w.Message(8, [&] {
      w.Str(1, name);
      w.Message(2, value);
    });
  };
  attr("bot", [&] { w.Bool(5, false); });
  attr("channel_type", [&] { w.Str(2, "channel"); });
  attr("edited", [&] { w.Bool(5, false); });
  attr("mentions", [&] {
    w.Message(6, [&] {
      w.Str(1, "slack:U024BE7LH");
      w.Str(1, "slack:U0G9QF9C6");
    });
  });
  attr("recipients", [&] { w.Message(6, [] {}); });
  attr("thread", [&] { w.Bool(5, false); });
  w.Message(9, [&] { w.Str(1, "bench"); });
}

template <typename Build>
void Measure(const char* name, int events, Build build) {
  const double start = ThreadCpuSeconds();
  for (int i = 0; i < events; ++i) build(i);
  const double s = ThreadCpuSeconds() - start;
  std::printf("%-6s ns_per_event=%-6.0f events_per_s=%.0f\n", name, s / events * 1e9, events / s);
}

}  // namespace

int main(int argc, char** argv) {
  int events = 2'000'000;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--events") == 0) events = std::atoi(argv[i + 1]);
  }
  Event reference;
  Fill(reference);
  std::string bytes;
  WriteWire(bytes);
  if (bytes != reference.SerializeAsString()) {
    std::fprintf(stderr, "wire bytes differ from the protobuf serialisation\n");
    return 1;
  }
  Measure("heap", events, [&](int) {
    Event e;
    Fill(e);
    bytes.clear();
    e.AppendToString(&bytes);
  });
  google::protobuf::ArenaOptions options;
  options.start_block_size = options.max_block_size = 1 << 20;
  google::protobuf::Arena arena(options);
  Measure("arena", events, [&](int i) {
    auto* e = google::protobuf::Arena::CreateMessage<Event>(&arena);
    Fill(*e);
    bytes.clear();
    e->AppendToString(&bytes);
    if (i % 1000 == 999) arena.Reset();
  });
  // One message cleared and filled again: Clear() keeps its strings' buffers and the
  // repeated fields' elements, so a warm message allocates (almost) nothing.
  Event reused;
  Measure("reuse", events, [&](int) {
    reused.Clear();
    Fill(reused);
    bytes.clear();
    reused.AppendToString(&bytes);
  });
  Measure("wire", events, [&](int) { WriteWire(bytes); });
  return 0;
}
