// Prints normalise throughput (MB/s and events/s on one core) of each implemented source over
// realistic records. A program, not a test: compare figures from the same run.
//   build/tests/bench/normalize_bench [--records N]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "teamhealth/sources/source.h"

namespace {

std::vector<std::string> CanonicalRecords(int n) {
  std::vector<std::string> out;
  out.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    std::string r = R"({"id":"canonical:bench-)" + std::to_string(i) +
                    R"(","source":"canonical","type":"chat.message","occurred_at":"2026-03-02T22:14:)" +
                    std::to_string(10 + i % 50) +
                    R"(.120Z","actor":"slack:U0)" + std::to_string(i % 977) +
                    R"(","subject":{"kind":"channel","id":"C0)" + std::to_string(i % 131) +
                    R"(","title":"payments-incident-war-room-for-the-checkout-latency-regression"},)"
                    R"("attrs":{"channel_type":"channel","thread":true,"mentions":["slack:U024BE7LH",)"
                    R"("slack:U0G9QF9C6","slack:U1ABCDEF1"],"recipients":[],"bot":false,"edited":false,)"
                    R"("fields":["labels","sprint","fixVersions","components","customfield_10020"]}})";
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int n = 200000;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--records") == 0) n = std::atoi(argv[i + 1]);
  }
  auto registry = teamhealth::sources::MakeSourceRegistry();
  auto* source = registry->Find("canonical");
  const auto records = CanonicalRecords(n);
  size_t bytes = 0;
  for (const auto& r : records) bytes += r.size();
  teamhealth::sources::NormalizeResult out;
  size_t events = 0;
  for (int round = 0; round < 2; ++round) {  // round 0 warms up
    events = 0;
    const auto start = std::chrono::steady_clock::now();
    for (const auto& r : records) {
      teamhealth::sources::RawRecord rec;
      rec.topic = "bench";
      rec.value = r;
      out.Clear();
      source->Normalize(rec, out);
      events += out.events.size();
    }
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (round == 1) {
      std::printf("source=canonical records=%d avg_bytes=%zu events=%zu seconds=%.3f "
                  "MB_per_s=%.1f events_per_s=%.0f\n",
                  n, bytes / records.size(), events, s, bytes / s / 1e6, events / s);
    }
  }
  return events == records.size() ? 0 : 1;
}
