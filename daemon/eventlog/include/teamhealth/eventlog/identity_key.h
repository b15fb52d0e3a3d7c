#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "teamhealth/base/result.h"

namespace teamhealth::eventlog {

// The secret that keys the hashes of the identities column (docs/design.md section 6): without
// it, a copy of the state directory does not say which pseudonym a guessed Slack or GitHub id
// has. It lives in a file outside the state directory (`storage.identity_key_file`); the file's
// bytes, exactly as stored, are the key. Its bytes are never logged or put in an error message;
// `origin()` (the file's path) is what messages name.
//
// A value type; copies hold their own copy of the secret, wiped when destroyed. Thread-safe for
// concurrent const use.
class IdentityKey final {
 public:
  // Keys shorter than this are refused: a key a person could guess protects nothing.
  static constexpr size_t kMinBytes = 16;
  // Larger files are refused as not being key files (a config or a log pointed at by mistake).
  static constexpr size_t kMaxBytes = 64 * 1024;

  // Reads the key file. Refuses a file that cannot be read, is empty, shorter than kMinBytes
  // or larger than kMaxBytes, and a file inside `state_dir` (a copy of the state directory
  // would carry the key that unlocks it). Errors name the file.
  static Result<IdentityKey> FromFile(const std::string& path, const std::string& state_dir);
  // A key from bytes (tests, tools); the same length rules. `origin` names it in messages.
  static Result<IdentityKey> FromBytes(std::string secret, std::string origin);
  // Writes a new random key (32 bytes from OpenSSL's CSPRNG, mode 0600) to `path` unless a file
  // is already there, which is kept as it is: `teamhealth demo` keeps the key of a kept state
  // directory across runs.
  static Status CreateFileIfMissing(const std::string& path);

  IdentityKey(const IdentityKey& other) = default;
  IdentityKey(IdentityKey&& other) noexcept = default;
  IdentityKey& operator=(const IdentityKey& other) = default;
  IdentityKey& operator=(IdentityKey&& other) noexcept = default;
  ~IdentityKey();

  // HMAC-SHA256 of `data` under the key, as 64 lowercase hex digits.
  std::string Mac(std::string_view data) const;
  // Where the key came from (a path, or the label given to FromBytes).
  const std::string& origin() const { return origin_; }

 private:
  IdentityKey(std::string secret, std::string origin)
      : secret_(std::move(secret)), origin_(std::move(origin)) {}

  std::string secret_;
  std::string origin_;
};

// The key of `storage.identity_key_file` for a state directory: none when `path` is empty (not
// configured), else IdentityKey::FromFile(path, state_dir).
Result<std::optional<IdentityKey>> LoadIdentityKey(const std::string& path,
                                                   const std::string& state_dir);

}  // namespace teamhealth::eventlog
