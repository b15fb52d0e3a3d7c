#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// How each vendor signs a webhook, checked over the raw body (docs/design.md section 12; the
// formats and where they are documented are in daemon/gateway/README.md). Pure functions: no
// I/O, the clock passed in, so every rule is unit-tested with fixed times.
namespace teamhealth::gateway {

enum class Vendor { kGithub, kSlack, kPagerduty, kJira, kLinear, kOpsgenie };

// "github" -> kGithub, ...; nullopt for anything else.
std::optional<Vendor> VendorFromName(std::string_view name);
std::string_view VendorName(Vendor vendor);

// HTTP headers as received: names as sent, looked up case-insensitively.
using Headers = std::vector<std::pair<std::string, std::string>>;
std::optional<std::string_view> FindHeader(const Headers& headers, std::string_view name);

// The header Opsgenie's webhook integration is configured to send with the shared token
// (Opsgenie does not sign bodies; its webhook integration adds custom headers).
inline constexpr std::string_view kOpsgenieTokenHeader = "X-Teamhealth-Token";
// Slack: a request whose X-Slack-Request-Timestamp is further than this from now is refused.
inline constexpr int64_t kSlackMaxSkewSeconds = 5 * 60;
// Linear: a body whose webhookTimestamp (ms) is further than this from now is refused.
inline constexpr int64_t kLinearMaxSkewMillis = 60 * 1000;

struct Verification {
  enum class Verdict {
    kValid,
    kMissing,    // the signature (or timestamp) header is absent
    kMalformed,  // present but not in the vendor's format
    kMismatch,   // well-formed, but not this body under this secret
    kStale,      // signed correctly, but the timestamp is outside the window (a replay)
  };
  Verdict verdict = Verdict::kMismatch;
  // What was wrong, naming the header or field: never a secret, signature or body byte.
  std::string detail;

  bool ok() const { return verdict == Verdict::kValid; }
};

// Whether `body` with `headers` was signed by `vendor` under `secret`, at `now_ms` (Unix
// milliseconds). Signatures are compared in constant time (secrets::Equal).
Verification Verify(Vendor vendor, std::string_view secret, const Headers& headers,
                    std::string_view body, int64_t now_ms);

// The headers a vendor would send with `body` signed under `secret` at `now_ms` (tests, the
// load script's twin in Python, replaying captured bodies against a local gateway).
Headers SignatureHeaders(Vendor vendor, std::string_view secret, std::string_view body,
                         int64_t now_ms);

}  // namespace teamhealth::gateway
