#include <cstdio>
#include <limits>

#include "commands.h"
#include "teamhealth/base/json_writer.h"
#include "teamhealth/eventlog/event_log.h"
#include "teamhealth/projector/fact_index.h"
#include "teamhealth/sources/event_json.h"
#include "teamhealth/storage/store.h"

namespace teamhealth::app {
namespace {

constexpr const char* kInspectUsage =
    "usage: teamhealth inspect events|quarantine|offsets|counters|facts --state-dir DIR\n"
    "         [--from SEQ] [--limit N] [--with-origin]\n"
    "  Prints the log's contents as JSON lines (read-only; the daemon may be running).\n"
    "  events: every event from sequence SEQ on (default 1), at most N of them (default 0:\n"
    "  all); --with-origin wraps each in {\"seq\",\"origin\",\"event\"}. quarantine: the\n"
    "  quarantined records by reference. offsets: the next offset of every partition.\n"
    "  counters: the cumulative counts by source. facts: the metric facts' size (keys and\n"
    "  bytes of facts, gauges, chunks, snapshots) and how far they are built. --from, --limit and\n"
    "  --with-origin are for events only.\n";

struct EventsOptions {
  uint64_t from = 1;
  uint64_t limit = 0;  // 0: no limit
  bool with_origin = false;
};

int Events(eventlog::EventLog& log, const EventsOptions& options) {
  const uint64_t from = options.from;
  uint64_t limit = options.limit;
  const bool with_origin = options.with_origin;
  std::string line;
  auto s = log.ForEach(Sequence(from), [&](Sequence seq, const schema::Event& e) {
    line.clear();
    if (with_origin) {
      line += "{\"seq\":" + std::to_string(seq.value()) + ",\"origin\":";
      JsonWriter w(line);
      w.BeginObject()
          .Key("topic")
          .String(e.origin().topic())
          .Key("partition")
          .Int(e.origin().partition())
          .Key("offset")
          .Int(e.origin().offset())
          .EndObject();
      line += ",\"event\":";
      sources::AppendEventJson(e, line);
      line += "}";
    } else {
      sources::AppendEventJson(e, line);
    }
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stdout);
    return limit == 0 || --limit > 0;
  });
  if (!s) {
    std::fprintf(stderr, "inspect events: %s\n", s.error().message().c_str());
    return 1;
  }
  return 0;
}

int Quarantine(eventlog::EventLog& log) {
  auto s = log.ForEachQuarantined([](uint64_t seq, const schema::QuarantineRecord& q) {
    std::string line;
    JsonWriter w(line);
    w.BeginObject()
        .Key("seq")
        .Int(static_cast<int64_t>(seq))
        .Key("topic")
        .String(q.topic())
        .Key("partition")
        .Int(q.partition())
        .Key("offset")
        .Int(q.offset())
        .Key("source")
        .String(q.source())
        .Key("reason")
        .String(q.reason())
        .Key("detail")
        .String(q.detail())
        .Key("content_hash")
        .String(q.content_hash())
        .EndObject();
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stdout);
    return true;
  });
  if (!s) {
    std::fprintf(stderr, "inspect quarantine: %s\n", s.error().message().c_str());
    return 1;
  }
  return 0;
}

int Offsets(eventlog::EventLog& log) {
  auto offsets = log.Offsets();
  if (!offsets) {
    std::fprintf(stderr, "inspect offsets: %s\n", offsets.error().message().c_str());
    return 1;
  }
  for (const auto& [tp, next] : *offsets) {
    std::string line;
    JsonWriter(line)
        .BeginObject()
        .Key("topic")
        .String(tp.topic)
        .Key("partition")
        .Int(tp.partition.value())
        .Key("next_offset")
        .Int(next.value())
        .EndObject();
    std::printf("%s\n", line.c_str());
  }
  return 0;
}

int CounterLines(const eventlog::EventLog& log) {
  const auto& c = log.counters();
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Key("last_sequence").Int(static_cast<int64_t>(log.LastSequence().value()));
  auto by_source = [&w](const char* name, const std::map<std::string, uint64_t>& m) {
    w.Key(name).BeginObject();
    for (const auto& [k, v] : m) w.Key(k).Int(static_cast<int64_t>(v));
    w.EndObject();
  };
  by_source("ingested", c.ingested);
  by_source("duplicate", c.duplicate);
  by_source("ignored", c.ignored);
  w.Key("quarantined").BeginObject();
  for (const auto& [k, v] : c.quarantined) {
    w.Key(k.first + "/" + k.second).Int(static_cast<int64_t>(v));
  }
  w.EndObject().EndObject();
  std::printf("%s\n", out.c_str());
  return 0;
}

int Facts(storage::Store& store, uint64_t last_sequence) {
  auto stats = projector::FactStats(store);
  if (!stats) {
    std::fprintf(stderr, "inspect facts: %s\n", stats.error().message().c_str());
    return 1;
  }
  std::string line;
  JsonWriter w(line);
  w.BeginObject()
      .Key("facts").Int(static_cast<int64_t>(stats->facts))
      .Key("fact_blobs").Int(static_cast<int64_t>(stats->fact_blobs))
      .Key("fact_bytes").Int(static_cast<int64_t>(stats->fact_bytes))
      .Key("gauge_days").Int(static_cast<int64_t>(stats->gauge_days))
      .Key("gauge_blobs").Int(static_cast<int64_t>(stats->gauge_blobs))
      .Key("gauge_bytes").Int(static_cast<int64_t>(stats->gauge_bytes))
      .Key("chunks").Int(static_cast<int64_t>(stats->chunks))
      .Key("chunk_bytes").Int(static_cast<int64_t>(stats->chunk_bytes))
      .Key("snapshots").Int(static_cast<int64_t>(stats->snapshots))
      .Key("snapshot_bytes").Int(static_cast<int64_t>(stats->snapshot_bytes))
      .Key("checkpoint_bytes").Int(static_cast<int64_t>(stats->checkpoint_bytes))
      .Key("state_bytes").BeginArray();
  for (const uint64_t bytes : stats->state_bytes) w.Int(static_cast<int64_t>(bytes));
  w.EndArray()
      .Key("seen_sequence").Int(static_cast<int64_t>(stats->seen_sequence))
      .Key("last_sequence").Int(static_cast<int64_t>(last_sequence))
      .Key("position").String(stats->position == 0 ? "" : FormatRfc3339(stats->position))
      .EndObject();
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stdout);
  return 0;
}

int Inspect(const Args& args) {
  const std::string& what = args.positional[0];
  if (what != "events" && what != "quarantine" && what != "offsets" && what != "counters" &&
      what != "facts") {
    return UsageError(
        args, "unknown WHAT \"" + what +
                              "\": expected events, quarantine, offsets, counters or facts");
  }
  EventsOptions events;
  if (what == "events") {
    const auto from = NumberOption(args, "from", 0, std::numeric_limits<int64_t>::max(), 1);
    if (!from) return UsageError(args, from.error().message());
    const auto limit = NumberOption(args, "limit", 0, std::numeric_limits<int64_t>::max(), 0);
    if (!limit) return UsageError(args, limit.error().message());
    events = {*from, *limit, args.Has("with-origin")};
  } else {
    for (const char* only_events : {"from", "limit", "with-origin"}) {
      if (args.Has(only_events)) {
        return UsageError(args, std::string("--") + only_events + " is for `inspect events` only");
      }
    }
  }
  auto store = storage::Store::Open({args.Get("state-dir"), true, false});
  if (!store) {
    std::fprintf(stderr, "inspect: %s\n", store.error().message().c_str());
    return 1;
  }
  auto log = eventlog::EventLog::Open(**store);
  if (!log) {
    std::fprintf(stderr, "inspect: %s\n", log.error().message().c_str());
    return 1;
  }
  if (what == "events") return Events(**log, events);
  if (what == "quarantine") return Quarantine(**log);
  if (what == "offsets") return Offsets(**log);
  if (what == "facts") return Facts(**store, (*log)->LastSequence().value());
  return CounterLines(**log);
}

}  // namespace

Command InspectCommand() {
  return {.name = "inspect",
          .usage = kInspectUsage,
          .spec = {.options = {"state-dir", "from", "limit"},
                   .flags = {"with-origin"},
                   .required = {"state-dir"},
                   .positional = "WHAT (events, quarantine, offsets, counters or facts)",
                   .min_positional = 1,
                   .max_positional = 1},
          .run = Inspect};
}

}  // namespace teamhealth::app
