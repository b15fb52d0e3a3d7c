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

struct Handlers {
  std::function<std::string()> metrics;  // body of /metrics
  std::function<bool()> ready;           // /readyz: 200 when true, 503 otherwise
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
  // `listen` is host:port; port 0 binds a free port (read it back with port()).
  static Result<std::unique_ptr<Server>> Start(const std::string& listen, Handlers handlers,
                                               logging::Logger logger);
  virtual int port() const = 0;
};

}  // namespace teamhealth::http
