#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "teamhealth/base/result.h"
#include "teamhealth/logging/logging.h"

namespace teamhealth::http {

// What the listener serves. The callbacks are invoked from HTTP worker threads and must be
// thread-safe.
struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

// /readyz: 200 when ready, 503 otherwise; the reason says what it waits for (or, when ready,
// what is degraded).
struct ReadyState {
  bool ready = false;
  std::string reason;
};

struct Handlers {
  std::function<std::string()> metrics;  // body of /metrics
  std::function<ReadyState()> ready;     // /readyz
  // GET /api/v1/<endpoint>?<query>: endpoint name, query parameters, Authorization header.
  std::function<ApiResponse(const std::string& endpoint,
                            const std::map<std::string, std::string>& query,
                            const std::string& authorization)>
      api;
};

// One HTTP listener for /metrics, /healthz and /readyz, serving on its own threads until
// destroyed. Owns its threads; Handlers must stay valid until it is destroyed.
class Server {
 public:
  virtual ~Server() = default;
  // `listen` is host:port; port 0 binds a free port (read it back with port()). A port in use
  // is an error naming the address: the socket is not shared (no SO_REUSEPORT), so a second
  // daemon on the same port fails instead of splitting the scrapes.
  static Result<std::unique_ptr<Server>> Start(const std::string& listen, Handlers handlers,
                                               logging::Logger logger);
  virtual int port() const = 0;
};

}  // namespace teamhealth::http
