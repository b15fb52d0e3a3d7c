// Each vendor's webhook signature. Where each format is documented: ../README.md.
//
//   github     X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>
//   jira       X-Hub-Signature: sha256=<hex HMAC-SHA256(secret, body)> (WebSub, Jira Cloud)
//   slack      X-Slack-Signature: v0=<hex HMAC-SHA256(secret, "v0:" + ts + ":" + body)>,
//              ts = X-Slack-Request-Timestamp (Unix seconds) within 5 minutes of now
//   pagerduty  X-PagerDuty-Signature: v1=<hex>[,v1=<hex>...]; any one matching is enough (a
//              secret being rotated signs with both)
//   linear     Linear-Signature: <hex HMAC-SHA256(secret, body)>; the signed body's
//              webhookTimestamp (Unix ms) within 60 s of now
//   opsgenie   X-Teamhealth-Token: <the shared token> (Opsgenie signs nothing)
#include "teamhealth/gateway/verify.h"

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>

#include "teamhealth/secrets/secrets.h"

namespace teamhealth::gateway {
namespace {

using Verdict = Verification::Verdict;

Verification Fail(Verdict verdict, std::string detail) { return {verdict, std::move(detail)}; }

bool IsHex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return std::isxdigit(static_cast<unsigned char>(c)) != 0;
         });
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string HexHmac(std::string_view secret, std::string_view data) {
  return secrets::Hex(secrets::HmacSha256(secret, data));
}

// `<prefix><64 hex digits>` in header `name`, compared with the HMAC of `signed_data`.
Verification CheckPrefixed(const Headers& headers, std::string_view name, std::string_view prefix,
                           std::string_view secret, std::string_view signed_data) {
  const auto value = FindHeader(headers, name);
  if (!value) return Fail(Verdict::kMissing, "no " + std::string(name) + " header");
  const std::string_view v = Trim(*value);
  if (!v.starts_with(prefix) || !IsHex64(v.substr(prefix.size()))) {
    return Fail(Verdict::kMalformed,
                std::string(name) + " is not " + std::string(prefix) + "<64 hex digits>");
  }
  if (!secrets::Equal(Lower(v.substr(prefix.size())), HexHmac(secret, signed_data))) {
    return Fail(Verdict::kMismatch, std::string(name) + " does not match the body");
  }
  return {Verdict::kValid, ""};
}

Verification CheckSlack(std::string_view secret, const Headers& headers, std::string_view body,
                        int64_t now_ms) {
  const auto ts = FindHeader(headers, "X-Slack-Request-Timestamp");
  if (!ts) return Fail(Verdict::kMissing, "no X-Slack-Request-Timestamp header");
  const std::string_view t = Trim(*ts);
  int64_t seconds = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), seconds);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size() || seconds < 0) {
    return Fail(Verdict::kMalformed, "X-Slack-Request-Timestamp is not Unix seconds");
  }
  std::string basestring = "v0:";
  basestring.append(t).append(":").append(body);
  auto v = CheckPrefixed(headers, "X-Slack-Signature", "v0=", secret, basestring);
  if (!v.ok()) return v;
  if (std::abs(now_ms / 1000 - seconds) > kSlackMaxSkewSeconds) {
    return Fail(Verdict::kStale, "X-Slack-Request-Timestamp is more than 5 minutes from now");
  }
  return v;
}

Verification CheckPagerduty(std::string_view secret, const Headers& headers,
                            std::string_view body) {
  const auto value = FindHeader(headers, "X-PagerDuty-Signature");
  if (!value) return Fail(Verdict::kMissing, "no X-PagerDuty-Signature header");
  const std::string expected = HexHmac(secret, body);
  // Every v1 entry is compared (no early exit), so the time taken does not say which matched.
  bool any = false, matched = false;
  std::string_view rest = *value;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string_view entry = Trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (!entry.starts_with("v1=")) continue;  // other schemes a later version may add
    const std::string_view hex = entry.substr(3);
    if (!IsHex64(hex)) continue;
    any = true;
    matched = secrets::Equal(Lower(hex), expected) || matched;
  }
  if (!any) return Fail(Verdict::kMalformed, "X-PagerDuty-Signature has no v1=<64 hex digits>");
  if (!matched) return Fail(Verdict::kMismatch, "no X-PagerDuty-Signature v1 value matches");
  return {Verdict::kValid, ""};
}

Verification CheckLinear(std::string_view secret, const Headers& headers, std::string_view body,
                         int64_t now_ms) {
  auto v = CheckPrefixed(headers, "Linear-Signature", "", secret, body);
  if (!v.ok()) return v;
  // Only now is the timestamp in the body authentic.
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  int64_t ts = 0;
  if (parser.parse(body.data(), body.size()).get(root) != simdjson::SUCCESS ||
      root["webhookTimestamp"].get_int64().get(ts) != simdjson::SUCCESS) {
    return Fail(Verdict::kMalformed, "the body has no numeric webhookTimestamp");
  }
  if (std::abs(now_ms - ts) > kLinearMaxSkewMillis) {
    return Fail(Verdict::kStale, "webhookTimestamp is more than 60 s from now");
  }
  return v;
}

Verification CheckToken(std::string_view secret, const Headers& headers) {
  const auto value = FindHeader(headers, kOpsgenieTokenHeader);
  if (!value) return Fail(Verdict::kMissing, "no " + std::string(kOpsgenieTokenHeader) + " header");
  if (!secrets::Equal(Trim(*value), secret)) {
    return Fail(Verdict::kMismatch, std::string(kOpsgenieTokenHeader) + " is not the token");
  }
  return {Verdict::kValid, ""};
}

}  // namespace

std::optional<Vendor> VendorFromName(std::string_view name) {
  for (const Vendor v : {Vendor::kGithub, Vendor::kSlack, Vendor::kPagerduty, Vendor::kJira,
                         Vendor::kLinear, Vendor::kOpsgenie}) {
    if (VendorName(v) == name) return v;
  }
  return std::nullopt;
}

std::string_view VendorName(Vendor vendor) {
  switch (vendor) {
    case Vendor::kGithub: return "github";
    case Vendor::kSlack: return "slack";
    case Vendor::kPagerduty: return "pagerduty";
    case Vendor::kJira: return "jira";
    case Vendor::kLinear: return "linear";
    case Vendor::kOpsgenie: return "opsgenie";
  }
  return "unknown";
}

std::optional<std::string_view> FindHeader(const Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return std::string_view(v);
    }
  }
  return std::nullopt;
}

Verification Verify(Vendor vendor, std::string_view secret, const Headers& headers,
                    std::string_view body, int64_t now_ms) {
  switch (vendor) {
    case Vendor::kGithub:
      return CheckPrefixed(headers, "X-Hub-Signature-256", "sha256=", secret, body);
    case Vendor::kJira: return CheckPrefixed(headers, "X-Hub-Signature", "sha256=", secret, body);
    case Vendor::kSlack: return CheckSlack(secret, headers, body, now_ms);
    case Vendor::kPagerduty: return CheckPagerduty(secret, headers, body);
    case Vendor::kLinear: return CheckLinear(secret, headers, body, now_ms);
    case Vendor::kOpsgenie: return CheckToken(secret, headers);
  }
  return Fail(Verdict::kMismatch, "unknown vendor");
}

Headers SignatureHeaders(Vendor vendor, std::string_view secret, std::string_view body,
                         int64_t now_ms) {
  switch (vendor) {
    case Vendor::kGithub: return {{"X-Hub-Signature-256", "sha256=" + HexHmac(secret, body)}};
    case Vendor::kJira: return {{"X-Hub-Signature", "sha256=" + HexHmac(secret, body)}};
    case Vendor::kSlack: {
      const std::string ts = std::to_string(now_ms / 1000);
      std::string basestring = "v0:" + ts + ":";
      basestring.append(body);
      return {{"X-Slack-Request-Timestamp", ts},
              {"X-Slack-Signature", "v0=" + HexHmac(secret, basestring)}};
    }
    case Vendor::kPagerduty: return {{"X-PagerDuty-Signature", "v1=" + HexHmac(secret, body)}};
    case Vendor::kLinear: return {{"Linear-Signature", HexHmac(secret, body)}};
    case Vendor::kOpsgenie: return {{std::string(kOpsgenieTokenHeader), std::string(secret)}};
  }
  return {};
}

}  // namespace teamhealth::gateway
