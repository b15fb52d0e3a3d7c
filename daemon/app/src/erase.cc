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
  auto store = storage::Store::Open({config->storage.dir, false, true});
  if (!store) {
    std::fprintf(stderr, "erase: %s\n", store.error().message().c_str());
    return 1;
  }
  auto log = eventlog::EventLog::Open(**store);
  if (!log) {
    std::fprintf(stderr, "erase: %s\n", log.error().message().c_str());
    return 1;
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
