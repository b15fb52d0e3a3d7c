#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "teamhealth/base/result.h"
#include "teamhealth/config/config.h"
#include "teamhealth/logging/logging.h"

namespace teamhealth::http {

// What a request may see (docs/design.md section 6). A viewer reads team-level results; an
// admin also per-person ones. On a loopback listener without tokens every request is an admin
// (anyone on the machine can read the state directory anyway); on any other listener without
// tokens the API and /metrics answer 403.
enum class Role { kNone, kViewer, kAdmin };

// What the listener serves. The callbacks are invoked from HTTP worker threads and must be
// thread-safe.
struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. Retry-After
};

// An error answer of the API: `{"error": message}`.
ApiResponse JsonError(int status, const std::string& message);

// /readyz: 200 when ready, 503 otherwise; the reason says what it waits for (or, when ready,
// what is degraded).
struct ReadyState {
  bool ready = false;
  std::string reason;
};

// A request under Handlers::raw_prefix as it arrived, any method: for endpoints that must see the
// exact bytes of the body (webhook signatures) and choose every answer themselves.
struct RawRequest {
  std::string method;
  std::string path;  // decoded
  std::vector<std::pair<std::string, std::string>> headers;  // names as sent
  std::string_view body;
  // The body was longer than ListenerOptions::max_request_bytes and was not read (`body` is
  // empty): the handler only chooses the answer (a 413 of its own words, counted).
  bool too_large = false;
};

struct Handlers {
  std::function<std::string()> metrics;  // body of /metrics
  std::function<ReadyState()> ready;     // /readyz
  // GET /api/v1/<endpoint>?<query>: endpoint name, query parameters (each at most once; a
  // repeated one is refused before this is called) and the caller's role (never kNone).
  std::function<ApiResponse(const std::string& endpoint,
                            const std::map<std::string, std::string>& query, Role role)>
      api;
  // GET / and GET /teams/<team>: HTML pages for a person in a browser. The path (decoded),
  // the query parameters (each at most once) and the caller's role (at least kViewer). Unset:
  // those paths answer 404.
  std::function<ApiResponse(const std::string& path,
                            const std::map<std::string, std::string>& query, Role role)>
      page;
  // Who may read /metrics: kAdmin when it carries per-person series.
  Role metrics_role = Role::kViewer;
  // Every method on paths starting with `raw_prefix` (e.g. "/hooks/"), without bearer tokens:
  // the handler authenticates the request itself. Unset: no such paths.
  std::string raw_prefix;
  std::function<ApiResponse(const RawRequest&)> raw;
};

// The [http] section as the listener uses it.
struct ListenerOptions {
  std::string section = "http";  // the config section errors name ("gateway.listen: ...")
  std::string listen;            // host:port
  std::string tls_cert, tls_key;
  std::string viewer_token_file, admin_token_file;
  size_t max_request_bytes = 64 * 1024;
  size_t max_request_headers = 64;

  static ListenerOptions From(const config::HttpConfig& http);
};

// What Start would refuse, checked without binding (for `check-config`): the token files are
// readable tokens, the TLS certificate and key load, match and have not expired.
Status CheckListener(const ListenerOptions& options);

// One HTTP(S) listener for /metrics, /healthz, /readyz, /api/v1/ and the pages (/, /teams/), serving on its own threads
// until destroyed. Owns its threads; Handlers must stay valid until it is destroyed.
class Server {
 public:
  virtual ~Server() = default;
  // Port 0 binds a free port (read it back with port()). A port in use is an error naming the
  // address: the socket is not shared (no SO_REUSEPORT), so a second daemon on the same port
  // fails instead of splitting the scrapes.
  static Result<std::unique_ptr<Server>> Start(const ListenerOptions& options, Handlers handlers,
                                               logging::Logger logger);
  virtual int port() const = 0;
};

}  // namespace teamhealth::http
