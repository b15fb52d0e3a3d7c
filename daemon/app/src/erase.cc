#include <cstdio>

#include "commands.h"
#include "directory.h"
#include "teamhealth/config/config.h"
#include "teamhealth/eventlog/event_log.h"
#include "teamhealth/storage/store.h"

namespace teamhealth::app {

int Erase(const Args& args) {
  if (args.Has("help") || !args.Has("config") || args.positional.size() != 1) {
    std::fputs(
        "usage: teamhealth erase --config FILE HANDLE\n"
        "  Forgets a person of the directory: deletes the mapping from their identities to\n"
        "  their pseudonym, so their past events become anonymous while team aggregates stay.\n"
        "  Stop the daemon first (the state directory is opened for writing), then remove the\n"
        "  person from the config.\n",
        args.Has("help") ? stdout : stderr);
    return args.Has("help") ? 0 : 2;
  }
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
