#include "teamhealth/eventlog/identity_key.h"

#include "teamhealth/secrets/secrets.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace teamhealth::eventlog {
namespace {

namespace fs = std::filesystem;

// Absolute, symlinks resolved as far as the path exists, no trailing separator.
fs::path Resolved(const std::string& p) {
  std::error_code ec;
  fs::path abs = fs::absolute(p, ec);
  if (ec) abs = p;
  fs::path out = fs::weakly_canonical(abs, ec);
  if (ec) out = abs.lexically_normal();
  if (!out.has_filename() && out.has_parent_path()) out = out.parent_path();
  return out;
}

// Whether `file` is `dir` or lies somewhere below it.
bool IsInside(const std::string& file, const std::string& dir) {
  const fs::path rel = Resolved(file).lexically_relative(Resolved(dir));
  return !rel.empty() && *rel.begin() != "..";
}

constexpr const char* kHowToCreate =
    "create one outside the state directory with `head -c 32 /dev/urandom > FILE; chmod 600 FILE`";

}  // namespace

Result<IdentityKey> IdentityKey::FromBytes(std::string secret, std::string origin) {
  if (secret.empty()) return Error(origin + ": the identity key is empty; " + kHowToCreate);
  if (secret.size() < kMinBytes) {
    return Error(origin + ": the identity key has " + std::to_string(secret.size()) +
                 " bytes, fewer than the " + std::to_string(kMinBytes) + " it needs; " +
                 kHowToCreate);
  }
  if (secret.size() > kMaxBytes) {
    return Error(origin + ": larger than " + std::to_string(kMaxBytes / 1024) +
                 " KiB, not an identity key file");
  }
  return IdentityKey(std::move(secret), std::move(origin));
}

Result<IdentityKey> IdentityKey::FromFile(const std::string& path, const std::string& state_dir) {
  const std::string what = "storage.identity_key_file " + path;
  if (path.empty()) {
    return Error("storage.identity_key_file: not set; " + std::string(kHowToCreate));
  }
  if (IsInside(path, state_dir)) {
    return Error(what + ": inside the state directory " + state_dir +
                 "; keep the key outside it, so that a copy of the state directory does not "
                 "carry the key that links pseudonyms to people");
  }
  auto secret = secrets::ReadFile(path, what, kMaxBytes);
  if (!secret) return Error(secret.error().message() + "; " + kHowToCreate);
  return FromBytes(std::move(*secret), what);
}

Status IdentityKey::CreateFileIfMissing(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return Status::Ok();
    return Error("cannot create the identity key file " + path + " (" + std::strerror(errno) + ")");
  }
  unsigned char secret[32];
  bool ok = RAND_bytes(secret, sizeof secret) == 1;
  ok = ok && ::write(fd, secret, sizeof secret) == static_cast<ssize_t>(sizeof secret);
  ok = ok && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  OPENSSL_cleanse(secret, sizeof secret);
  if (!ok) {
    ::unlink(path.c_str());
    return Error("cannot write the identity key file " + path + " (" + std::strerror(saved) + ")");
  }
  return Status::Ok();
}

IdentityKey::~IdentityKey() { OPENSSL_cleanse(secret_.data(), secret_.size()); }

std::string IdentityKey::Mac(std::string_view data) const {
  return secrets::Hex(secrets::HmacSha256(secret_, data));
}

Result<std::optional<IdentityKey>> LoadIdentityKey(const std::string& path,
                                                   const std::string& state_dir) {
  if (path.empty()) return std::optional<IdentityKey>();
  auto key = IdentityKey::FromFile(path, state_dir);
  if (!key) return key.error();
  return std::optional<IdentityKey>(std::move(*key));
}

}  // namespace teamhealth::eventlog
