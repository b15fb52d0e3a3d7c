// `teamhealth import`: history files into the event log, through ingest's per-record step
// (ingest::AddRecord) and EventLog::Append, so that a file's records become exactly what the
// same records consumed from Kafka become (docs/design.md section 8, "Import").

#include <simdjson.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "commands.h"
#include "teamhealth/projections/pipeline.h"
#include "teamhealth/projections/registry.h"
#include "teamhealth/projector/fact_index.h"
#include "record_lines.h"
#include "state.h"
#include "teamhealth/config/config.h"
#include "teamhealth/eventlog/indexer.h"
#include "teamhealth/ingest/records.h"
#include "teamhealth/logging/logging.h"
#include "teamhealth/sources/source.h"

namespace teamhealth::app {
namespace {

constexpr const char* kImportUsage =
    R"(usage: teamhealth import --config FILE --source S [--input KIND] [--progress] [--no-facts]
                        FILE...
  Appends history files to the event log of the config's state directory through the same
  normalisers, pseudonymisation and dedup as Kafka ingest: importing a file again appends
  nothing (its events count as duplicates). Stop the daemon first: the state directory is
  opened for writing as `serve` opens it (storage.identity_key_file is required) and the
  config's directory is recorded before the first record.
  --source S    jira, github, linear, slack, pagerduty, opsgenie or canonical; or auto: each
                FILE's source is its name up to the first dot (<source>.jsonl, as
                `teamhealth generate --out` names them)
  --input KIND  how each FILE is read (default auto):
                  records  one Kafka record per line, {"headers":{...},"body":<payload>}
                           (what `teamhealth generate --out` writes)
                  lines    one payload per line (for canonical: canonical JSON lines)
                  payload  the whole file is one payload
                  auto     by the first non-empty line: a JSON object with a "body" key:
                           records; any other complete JSON object: lines; else payload
  --progress    draw the progress line (records, bytes, rate) also when stderr is not a
                terminal (on a terminal it is drawn by default)
  --no-facts    append only: do not build the metric facts afterwards (importing a history
                in several runs, only the last needs to build them; `serve` builds them at
                start too)
  A bad record is reported on stderr as FILE:LINE: REASON: DETAIL (FILE: REASON: DETAIL for
  a whole-file payload), quarantined by reference, and the rest goes on. Last, a summary on
  stderr: records, appended, duplicates, quarantined, ignored, seconds and events/s (events
  appended or found duplicate, per second).
  Exit status: 0; 1 if a record was quarantined or the import failed (what was appended
  stays: import again to add the rest); 2 for a usage error (an unknown option, source or
  input kind, a missing or unreadable FILE).
)";

// Records per write: a few thousand amortise the fsync (storage.sync_writes) and the dedup
// lookups, as a Kafka batch does, while a batch's events stay a few MiB of memory.
constexpr size_t kBatchRecords = 4000;

enum class InputKind { kAuto, kRecords, kLines, kPayload };

Result<InputKind> ParseInputKind(const std::string& name) {
  if (name == "auto") return InputKind::kAuto;
  if (name == "records") return InputKind::kRecords;
  if (name == "lines") return InputKind::kLines;
  if (name == "payload") return InputKind::kPayload;
  return Error("--input " + name + ": expected records, lines, payload or auto");
}

// One file to import, checked before the state directory is opened.
struct InputFile {
  std::string path;  // as given: what messages name
  // Where its records come from, stored in each event's origin and quarantine record in place
  // of the Kafka coordinates: topic "import:<absolute path>", partition -1 (no Kafka partition
  // is negative), offset the 1-based line number (0 for a whole-file payload). The body is
  // never stored; its XXH3-128 in a quarantine record identifies the line's content.
  std::string origin;
  sources::Source* source = nullptr;
  uint64_t size = 0;
  // The file's modification time: the Kafka record timestamp's stand-in, the event time of
  // last resort for a payload without any time of its own (as the bridge's write time is).
  int64_t mtime_ms = 0;
};

constexpr int32_t kNoPartition = -1;

struct Totals {
  uint64_t records = 0;
  uint64_t bytes = 0;
  uint64_t appended = 0;
  uint64_t duplicates = 0;
  uint64_t quarantined = 0;
  uint64_t ignored = 0;
};

uint64_t Sum(const std::map<std::string, uint64_t>& by_source) {
  uint64_t n = 0;
  for (const auto& [source, count] : by_source) n += count;
  return n;
}

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The progress line on stderr: redrawn in place on a terminal (at most 5 times a second), one
// line a second otherwise (--progress into a file). Cleared before any other message.
class Progress final {
 public:
  Progress(bool enabled, uint64_t total_bytes)
      : enabled_(enabled), tty_(isatty(STDERR_FILENO) == 1), total_bytes_(total_bytes) {}

  void Update(const Totals& totals, Clock::time_point start) {
    if (!enabled_) return;
    const auto now = Clock::now();
    if (now - last_ < (tty_ ? std::chrono::milliseconds(200) : std::chrono::seconds(1))) return;
    last_ = now;
    const double seconds = std::max(SecondsSince(start), 1e-3);
    std::fprintf(stderr, "%simport: %llu records, %.1f/%.1f MiB, %.0f records/s%s",
                 tty_ ? "\r" : "", static_cast<unsigned long long>(totals.records),
                 static_cast<double>(totals.bytes) / (1 << 20),
                 static_cast<double>(total_bytes_) / (1 << 20),
                 static_cast<double>(totals.records) / seconds, tty_ ? "\033[K" : "\n");
    drawn_ = tty_;
  }
  void Clear() {
    if (drawn_) std::fputs("\r\033[K", stderr);
    drawn_ = false;
  }

 private:
  const bool enabled_;
  const bool tty_;
  const uint64_t total_bytes_;
  Clock::time_point last_ = Clock::now();  // so an import shorter than a redraw draws none
  bool drawn_ = false;
};

// Feeds records to ingest::AddRecord and appends a batch every kBatchRecords records.
// Borrows the log and the progress line.
class Importer final {
 public:
  Importer(eventlog::EventLog& log, int64_t max_record_bytes, Progress& progress)
      : log_(log), max_record_bytes_(max_record_bytes), progress_(progress) {}

  // Imports one file read as `kind` (kAuto: detected); an error only when the log cannot be
  // written or the file read.
  Status Import(const InputFile& file, InputKind kind);
  // Appends what is batched.
  Status Flush();
  const Totals& totals() const { return totals_; }
  Clock::time_point start() const { return start_; }

 private:
  Status ImportLines(const InputFile& file, std::FILE* in, bool records);
  Status ImportPayload(const InputFile& file);
  // One record of `file`, found at `where` (FILE:LINE or FILE).
  Status Add(const InputFile& file, const sources::RawRecord& record, const std::string& where);
  // A line of a records file that is not a record: quarantined without a normaliser.
  Status AddBadLine(const InputFile& file, const sources::RawRecord& record,
                    const sources::Rejection& rejection, const std::string& where);
  Status Counted(const std::string& where);
  void Report(const std::string& where, const schema::QuarantineRecord& q, bool stored);

  eventlog::EventLog& log_;
  const int64_t max_record_bytes_;
  Progress& progress_;
  eventlog::IngestBatch batch_;
  size_t batch_records_ = 0;
  sources::NormalizeResult scratch_;
  Totals totals_;
  Clock::time_point start_ = Clock::now();
  std::string last_where_;  // the last record batched, for a failed write's message
  std::vector<std::string> bad_where_;  // where each of batch_.quarantined was read
};

// The input kind of a file whose first non-empty line is `line` (see kImportUsage).
InputKind DetectKind(std::string_view line) {
  if (line.empty()) return InputKind::kLines;  // nothing but blank lines: nothing to import
  const simdjson::padded_string padded(line);
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (parser.parse(padded).get_object().get(object)) {
    return InputKind::kPayload;  // not a whole JSON object on one line: pretty-printed
  }
  simdjson::dom::element body;
  return object["body"].get(body) ? InputKind::kLines : InputKind::kRecords;
}

// The line without its line break (LF or CRLF).
std::string_view Chomp(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  return line;
}

bool Blank(std::string_view line) {
  return line.find_first_not_of(" \t") == std::string_view::npos;
}

Status Importer::Import(const InputFile& file, InputKind kind) {
  if (kind == InputKind::kPayload) return ImportPayload(file);
  std::FILE* in = std::fopen(file.path.c_str(), "rb");
  if (in == nullptr) return Error(file.path + ": cannot open: " + std::strerror(errno));
  char* buffer = nullptr;
  size_t capacity = 0;
  if (kind == InputKind::kAuto) {
    std::string_view first;
    for (ssize_t n; (n = getline(&buffer, &capacity, in)) != -1;) {
      first = Chomp(std::string_view(buffer, static_cast<size_t>(n)));
      if (!Blank(first)) break;
      first = {};
    }
    kind = DetectKind(first);
    std::rewind(in);
  }
  std::free(buffer);
  Status s = kind == InputKind::kPayload ? ImportPayload(file)
                                         : ImportLines(file, in, kind == InputKind::kRecords);
  std::fclose(in);
  return s;
}

Status Importer::ImportLines(const InputFile& file, std::FILE* in, bool records) {
  char* buffer = nullptr;
  size_t capacity = 0;
  int64_t line_no = 0;
  Status status = Status::Ok();
  std::vector<sources::RecordHeader> headers;
  for (ssize_t n; status && (n = getline(&buffer, &capacity, in)) != -1;) {
    ++line_no;
    totals_.bytes += static_cast<uint64_t>(n);
    const std::string_view text = Chomp(std::string_view(buffer, static_cast<size_t>(n)));
    if (Blank(text)) continue;
    sources::RawRecord record{.topic = file.origin,
                              .partition = kNoPartition,
                              .offset = line_no,
                              .timestamp_ms = file.mtime_ms,
                              .value = text};
    const std::string where = file.path + ":" + std::to_string(line_no);
    if (!records) {
      status = Add(file, record, where);
      continue;
    }
    sources::Reason reason = sources::Reason::kInvalidJson;
    auto parsed = ParseRecordLine(text, &reason);
    if (!parsed) {
      status = AddBadLine(file, record, {reason, "record line: " + parsed.error().message()},
                          where);
      continue;
    }
    headers.clear();
    for (const auto& [name, value] : parsed->headers) headers.push_back({name, value});
    record.value = parsed->body;
    record.headers = headers;
    status = Add(file, record, where);
  }
  const bool failed = std::ferror(in) != 0;
  std::free(buffer);
  if (!status) return status;
  if (failed) return Error(file.path + ": read error after line " + std::to_string(line_no));
  return Status::Ok();
}

Status Importer::ImportPayload(const InputFile& file) {
  std::FILE* in = std::fopen(file.path.c_str(), "rb");
  if (in == nullptr) return Error(file.path + ": cannot open: " + std::strerror(errno));
  std::string body(file.size, '\0');
  const size_t got = std::fread(body.data(), 1, body.size(), in);
  std::fclose(in);
  if (got != body.size()) return Error(file.path + ": read error (the file changed?)");
  totals_.bytes += got;
  const sources::RawRecord record{.topic = file.origin,
                                  .partition = kNoPartition,
                                  .offset = 0,
                                  .timestamp_ms = file.mtime_ms,
                                  .value = body};
  return Add(file, record, file.path);
}

Status Importer::Add(const InputFile& file, const sources::RawRecord& record,
                     const std::string& where) {
  if (ingest::AddRecord(record, file.source, max_record_bytes_, scratch_, batch_) ==
      ingest::RecordOutcome::kQuarantined) {
    bad_where_.push_back(where);
  }
  return Counted(where);
}

Status Importer::AddBadLine(const InputFile& file, const sources::RawRecord& record,
                            const sources::Rejection& rejection, const std::string& where) {
  ingest::AddQuarantined(record, file.source->name(), rejection, batch_);
  bad_where_.push_back(where);
  return Counted(where);
}

Status Importer::Counted(const std::string& where) {
  ++totals_.records;
  last_where_ = where;
  progress_.Update(totals_, start_);
  return ++batch_records_ >= kBatchRecords ? Flush() : Status::Ok();
}

void Importer::Report(const std::string& where, const schema::QuarantineRecord& q,
                      bool stored) {
  progress_.Clear();
  // The reason and the detail, never the body (details never quote payload text).
  std::fprintf(stderr, "%s: %s: %s%s\n", where.c_str(), q.reason().c_str(), q.detail().c_str(),
               stored ? "" : " (already quarantined)");
}

Status Importer::Flush() {
  if (batch_records_ == 0) return Status::Ok();
  auto outcome = log_.Append(batch_);
  if (!outcome) {
    return Error("cannot append to the event log: " + outcome.error().message() +
                 "; nothing of the records up to " + last_where_ +
                 " since the last write was appended (import again to add them)");
  }
  // Bad records are reported once the log says whether they are new (a re-import's are not).
  for (size_t i = 0; i < bad_where_.size(); ++i) {
    Report(bad_where_[i], batch_.quarantined[i], outcome->quarantine_stored[i]);
  }
  bad_where_.clear();
  totals_.appended += Sum(outcome->delta.ingested);
  totals_.duplicates += Sum(outcome->delta.duplicate);
  totals_.ignored += Sum(outcome->delta.ignored);
  for (const auto& [key, count] : outcome->delta.quarantined) totals_.quarantined += count;
  batch_ = eventlog::IngestBatch{};
  batch_records_ = 0;
  return Status::Ok();
}

// The source of `path` under --source auto: its file name up to the first dot.
std::string SourceFromFileName(const std::string& path) {
  const std::string name = std::filesystem::path(path).filename().string();
  return name.substr(0, name.find('.'));
}

// The origin (a record's topic) of a file's records: `import:<absolute path>`. A record's topic
// must be UTF-8 and a file name need not be: then every byte from 0x80 (and `%`) is written
// `%XX`, the same for the same file every time.
std::string ImportOrigin(const std::string& path) {
  if (schema::IsValidUtf8(path)) return "import:" + path;
  std::string out = "import:";
  for (const char ch : path) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x80 && c != '%') {
      out.push_back(ch);
      continue;
    }
    char hex[4];
    std::snprintf(hex, sizeof hex, "%%%02X", c);
    out.append(hex);
  }
  return out;
}

// Checks one FILE argument and resolves its source; the error names the file.
Result<InputFile> CheckInputFile(const std::string& path, const std::string& source_option,
                                 const sources::SourceRegistry& registry) {
  InputFile file;
  file.path = path;
  const std::string source_name =
      source_option == "auto" ? SourceFromFileName(path) : source_option;
  file.source = registry.Find(source_name);
  if (file.source == nullptr || source_name == "directory") {
    return Error(path + ": cannot tell its source from the file name (--source auto expects "
                        "<source>.jsonl); give --source");
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Error(path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return Error(path + ": not a regular file");
  if (::access(path.c_str(), R_OK) != 0) return Error(path + ": " + std::strerror(errno));
  std::error_code ec;
  const auto absolute = std::filesystem::absolute(path, ec);
  file.origin = ImportOrigin(ec ? path : absolute.lexically_normal().string());
  file.size = static_cast<uint64_t>(st.st_size);
  file.mtime_ms = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
  return file;
}

void PrintSummary(size_t files, const Totals& t, double seconds) {
  const double events = static_cast<double>(t.appended + t.duplicates);
  std::fprintf(stderr,
               "import: files=%zu records=%llu appended=%llu duplicates=%llu quarantined=%llu "
               "ignored=%llu seconds=%.2f events_per_s=%.0f\n",
               files, static_cast<unsigned long long>(t.records),
               static_cast<unsigned long long>(t.appended),
               static_cast<unsigned long long>(t.duplicates),
               static_cast<unsigned long long>(t.quarantined),
               static_cast<unsigned long long>(t.ignored), seconds,
               seconds > 0 ? events / seconds : 0.0);
}

int Import(const Args& args) {
  const std::string source_option = args.Get("source");
  auto kind = ParseInputKind(args.Get("input", "auto"));
  if (!kind) return UsageError(args, kind.error().message());
  // Known names are checked before the files, so a misspelt source is named as such.
  auto probe = sources::MakeSourceRegistry();
  if (source_option != "auto" &&
      (probe->Find(source_option) == nullptr || source_option == "directory")) {
    return UsageError(args, "--source " + source_option +
                                ": unknown source (jira, github, linear, slack, pagerduty, "
                                "opsgenie, canonical or auto)");
  }
  std::vector<InputFile> files;
  uint64_t total_bytes = 0;
  for (const auto& path : args.positional) {
    auto file = CheckInputFile(path, source_option, *probe);
    if (!file) return UsageError(args, file.error().message());
    total_bytes += file->size;
    files.push_back(std::move(*file));
  }
  const std::string config_path = args.Get("config");
  auto config = config::LoadConfigFile(config_path);
  if (!config) {
    std::fprintf(stderr, "%s: %s\n", config_path.c_str(), config.error().message().c_str());
    return 1;
  }
  const logging::Loggers loggers(config->logging.level);
  auto opened = OpenWritableLog(*config, loggers);
  if (!opened) {
    std::fprintf(stderr, "teamhealth import: %s\n", opened.error().message().c_str());
    return 1;
  }
  // The daemon's normalisers with the daemon's settings (directory events refused, as on a
  // Kafka topic: the directory comes only from the config).
  auto registry = sources::MakeSourceRegistry({config->sources.status_categories});
  for (auto& file : files) file.source = registry->Find(file.source->name());
  Progress progress(args.Has("progress") || isatty(STDERR_FILENO) == 1, total_bytes);
  Importer importer(*opened->log, config->kafka.max_record_bytes, progress);
  Status status = Status::Ok();
  {
    // The time and subject indexes follow on a thread of their own, as in `serve`; what they
    // have not reached when the files are appended is indexed before the facts read it.
    eventlog::Indexer indexer(*opened->log);
    Status indexer_status;
    std::atomic<bool> stop_indexer{false}, indexer_failed{false};
    std::thread indexer_thread([&] {
      pthread_setname_np(pthread_self(), "indexer");
      indexer_status = indexer.Run(stop_indexer);
      if (!indexer_status) indexer_failed.store(true);
    });
    for (const auto& file : files) {
      if (indexer_failed.load()) break;  // its error is the import's (below); no later file
      if (status = importer.Import(file, *kind); !status) break;
    }
    if (status) status = importer.Flush();
    stop_indexer.store(true);
    indexer.Wake();
    indexer_thread.join();
    if (status) status = indexer_status;
    if (status) {
      auto indexed = opened->log->IndexAll();
      if (!indexed) status = indexed.error();
    }
  }
  progress.Clear();
  const double import_seconds = SecondsSince(importer.start());
  if (status && !args.Has("no-facts")) {
    // The metric facts for the config's definitions, so that reports over the imported history
    // read facts rather than replaying (the daemon would build them at its next start).
    const auto facts_start = Clock::now();
    projector::FactBuilder facts(
        *opened->store, *opened->log,
        [&] {
          return std::make_unique<projections::Pipeline>(
              projections::MakeDirectoryView(config->directory),
              projections::MakeSettings(*config));
        },
        loggers.Get("facts"), {});
    status = facts.Start();
    if (status) status = facts.CatchUp();
    if (status && facts.position() > 0) {
      std::fprintf(stderr, "teamhealth import: metric facts built up to %s in %.1f s\n",
                   FormatRfc3339(facts.position()).c_str(), SecondsSince(facts_start));
    }
  }
  if (!status) std::fprintf(stderr, "teamhealth import: %s\n", status.error().message().c_str());
  PrintSummary(files.size(), importer.totals(), import_seconds);
  return !status || importer.totals().quarantined > 0 ? 1 : 0;
}

}  // namespace

Command ImportCommand() {
  return {.name = "import",
          .usage = kImportUsage,
          .spec = {.options = {"config", "source", "input"},
                   .flags = {"progress", "no-facts"},
                   .required = {"config", "source"},
                   .positional = "FILE",
                   .min_positional = 1,
                   .max_positional = std::numeric_limits<size_t>::max()},
          .run = Import};
}

}  // namespace teamhealth::app
