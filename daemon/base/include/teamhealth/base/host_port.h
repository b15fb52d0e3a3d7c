#pragma once

#include <string>
#include <string_view>

#include "teamhealth/base/result.h"

namespace teamhealth {

// A listen address: `host:port`, `[v6]:port`; port 0 means "pick a free port".
struct HostPort {
  std::string host;  // without brackets
  int port = 0;      // 0..65535

  // Whether only this machine can connect (127.0.0.0/8, ::1, localhost).
  bool IsLoopback() const;
};

// Parses a listen address. Errors start with `what` (the config key) and quote the text.
Result<HostPort> ParseHostPort(std::string_view text, std::string_view what);

}  // namespace teamhealth
