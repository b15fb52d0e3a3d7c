#include "teamhealth/base/host_port.h"

namespace teamhealth {

bool HostPort::IsLoopback() const {
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

Result<HostPort> ParseHostPort(std::string_view text, std::string_view what) {
  const std::string quoted = std::string(what) + ": \"" + std::string(text) + "\": ";
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Error(quoted + "must be host:port (e.g. 127.0.0.1:9810)");
  }
  HostPort out;
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return Error(quoted + "an IPv6 host goes in brackets, e.g. [::1]:9810");
  }
  if (host.empty()) return Error(quoted + "the host is empty");
  out.host = std::string(host);
  const std::string_view port = text.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos) {
    return Error(quoted + "the port must be a number from 0 to 65535");
  }
  out.port = std::stoi(std::string(port));
  if (out.port > 65535) return Error(quoted + "the port must be a number from 0 to 65535");
  return out;
}

}  // namespace teamhealth
