#include "teamhealth/secrets/secrets.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace teamhealth::secrets {

Result<std::string> ReadFile(const std::string& path, const std::string& what, size_t max_bytes) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Error(what + ": cannot read it (" + std::strerror(errno) + ")");
  std::string secret;
  char buf[4096];
  size_t n = 0;
  while (secret.size() <= max_bytes && (n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    secret.append(buf, n);
  }
  OPENSSL_cleanse(buf, sizeof buf);
  const bool failed = std::ferror(f) != 0;
  const int read_errno = errno;
  std::fclose(f);
  if (failed) {
    Wipe(secret);
    return Error(what + ": cannot read it (" + std::strerror(read_errno) + ")");
  }
  if (secret.empty()) return Error(what + ": the file is empty");
  if (secret.size() > max_bytes) {
    Wipe(secret);
    return Error(what + ": larger than " + std::to_string(max_bytes) +
                 " bytes, not a secret file of this kind");
  }
  return secret;
}

Result<std::string> ReadToken(const std::string& path, const std::string& what,
                              size_t min_chars) {
  auto text = ReadFile(path, what, 4096);
  if (!text) return text.error();
  std::string token = std::move(*text);
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' ||
                            token.back() == ' ' || token.back() == '\t')) {
    token.pop_back();
  }
  for (const char c : token) {
    if (c <= ' ' || c > '~') {
      Wipe(token);
      return Error(what + ": a token is one line of printable ASCII without spaces");
    }
  }
  if (token.size() < min_chars) {
    const size_t size = token.size();
    Wipe(token);
    return Error(what + ": the token has " + std::to_string(size) + " characters, fewer than " +
                 std::to_string(min_chars) + "; create one with `openssl rand -hex 32 > FILE`");
  }
  return token;
}

bool Equal(std::string_view a, std::string_view b) {
  unsigned char da[SHA256_DIGEST_LENGTH], db[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(a.data()), a.size(), da);
  SHA256(reinterpret_cast<const unsigned char*>(b.data()), b.size(), db);
  return CRYPTO_memcmp(da, db, sizeof da) == 0;
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out,
           &len) == nullptr) {
    // Only a broken libcrypto fails here; a silent fallback would weaken every caller.
    std::fprintf(stderr, "HMAC-SHA256 failed in libcrypto\n");
    std::abort();
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * bytes.size(), '0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kDigits[b >> 4];
    out[2 * i + 1] = kDigits[b & 0xf];
  }
  return out;
}

void Wipe(std::string& s) {
  OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

}  // namespace teamhealth::secrets
