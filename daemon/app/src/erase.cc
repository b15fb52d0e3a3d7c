#include <cstdio>

#include "commands.h"
#include "directory.h"
#include "teamhealth/config/config.h"
#include "teamhealth/eventlog/event_log.h"
#include "teamhealth/storage/store.h"

namespace teamhealth::app {

namespace {

constexpr const char* kEraseUsage =
    "usage: teamhealth erase --config FILE HANDLE\n"
    "  Forgets a person of the directory: deletes the mapping from their identities to\n"
    "  their pseudonym, so their past events become anonymous while team aggregates stay.\n"
    "  Stop the daemon first (the state directory is opened for writing), then remove the\n"
    "  person from the config.\n";

}  // namespace

int Erase(const Args& args);

Command EraseCommand() {
  return {.name = "erase",
          .usage = kEraseUsage,
          .spec = {.options = {"config"},
                   .required = {"config"},
                   .positional = "HANDLE",
                   .min_positional = 1,
                   .max_positional = 1},
          .run = Erase};
}

int Erase(const Args& args) {
  auto config = config::LoadConfigFile(args.Get("config"));
  if (!config) {
    std::fprintf(stderr, "%s: %s\n", args.Get("config").c_str(), config.error().message().c_str());
    return 1;
  }
  const std::string& handle = args.positional[0];
  std::vector<std::string> identities;
  for (const auto& p : config->directory.people) {
    if (p.handle == handle) identities = p.identities;
  }
  // The identities column is keyed (docs/design.md section 6): the key finds the mappings.
  if (config->storage.identity_key_file.empty()) {
    std::fprintf(stderr, "erase: storage.identity_key_file is not set in %s\n",
                 args.Get("config").c_str());
    return 1;
  }
  auto key = eventlog::IdentityKey::FromFile(config->storage.identity_key_file,
                                             config->storage.dir);
  if (!key) {
    std::fprintf(stderr, "erase: %s\n", key.error().message().c_str());
    return 1;
  }
  auto store = storage::Store::Open({config->storage.dir, false, true});
  if (!store) {
    std::fprintf(stderr, "erase: %s\n", store.error().message().c_str());
    return 1;
  }
  auto log = eventlog::EventLog::Open(**store, {.identity_key = std::move(*key)});
  if (!log) {
    std::fprintf(stderr, "erase: %s\n", log.error().message().c_str());
    return 1;
  }
  if (const uint64_t keyed = (*log)->identities_keyed_at_open(); keyed > 0) {
    std::fprintf(stderr, "erase: keyed the identities column first (once). identities=%llu\n",
                 static_cast<unsigned long long>(keyed));
  }
  auto erased = (*log)->Erase(handle, identities, NowMillis());
  if (!erased) {
    std::fprintf(stderr, "erase: %s\n", erased.error().message().c_str());
    return 1;
  }
  if (!*erased) {
    std::fprintf(stderr, "erase: no person \"%s\" in the log\n", handle.c_str());
    return 1;
  }
  std::printf("erased %s: their identities no longer map to their pseudonym\n", handle.c_str());
  return 0;
}

}  // namespace teamhealth::app
