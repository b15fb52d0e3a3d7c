#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "teamhealth/base/result.h"

// Secrets: read from files (never from the config file itself), compared in constant time, never
// logged. The one place that reads a secret file, so every secret (identity key, API tokens,
// webhook signing secrets) is read, limited and reported the same way.
namespace teamhealth::secrets {

// The bytes of the file at `path`, exactly as stored. Refuses an empty file and one larger than
// `max_bytes` (a config or a log pointed at by mistake). Errors start with `what` (e.g.
// "http.admin_token_file /etc/teamhealth/admin.token") and never contain the file's bytes.
Result<std::string> ReadFile(const std::string& path, const std::string& what, size_t max_bytes);

// A text token (a bearer token, a shared header token, a signing secret): the file's content
// without trailing whitespace, so `echo "$TOKEN" > FILE` works. It must be one line of printable
// ASCII without spaces and at least `min_chars` long: a token a person could guess protects
// nothing.
Result<std::string> ReadToken(const std::string& path, const std::string& what,
                              size_t min_chars = 16);

// Whether a == b, in time that depends on neither content nor length (both are hashed with
// SHA-256 and the digests compared with CRYPTO_memcmp).
bool Equal(std::string_view a, std::string_view b);

// HMAC-SHA256 of `data` under `key`: 32 raw bytes.
std::string HmacSha256(std::string_view key, std::string_view data);

// Lowercase hex of `bytes`.
std::string Hex(std::string_view bytes);

// Overwrites `s` (OPENSSL_cleanse) and empties it.
void Wipe(std::string& s);

}  // namespace teamhealth::secrets
