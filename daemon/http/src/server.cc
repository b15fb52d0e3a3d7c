#include "teamhealth/http/server.h"

#include <httplib.h>

#include <thread>

namespace teamhealth::http {
namespace {

class HttplibServer final : public Server {
 public:
  HttplibServer(Handlers handlers, logging::Logger logger)
      : handlers_(std::move(handlers)), logger_(std::move(logger)) {
    server_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(handlers_.metrics(), "text/plain; version=0.0.4; charset=utf-8");
    });
    server_.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("ok\n", "text/plain");
    });
    server_.Get(R"(/api/v1/([a-z_]+))",
                [this](const httplib::Request& req, httplib::Response& res) {
                  if (!handlers_.api) {
                    res.status = 404;
                    return;
                  }
                  std::map<std::string, std::string> query;
                  for (const auto& [k, v] : req.params) query[k] = v;
                  const ApiResponse r =
                      handlers_.api(req.matches[1], query, req.get_header_value("Authorization"));
                  res.status = r.status;
                  res.set_content(r.body, r.content_type.c_str());
                });
    server_.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
      const ReadyState state = handlers_.ready();
      if (state.ready) {
        res.set_content(state.reason.empty() ? "ready\n" : "ready; " + state.reason + "\n",
                        "text/plain");
      } else {
        res.status = 503;
        res.set_content("not ready: " + state.reason + "\n", "text/plain");
      }
    });
    // cpp-httplib's default also sets SO_REUSEPORT, which lets two processes bind one port
    // and share its connections: only SO_REUSEADDR (restart while old connections linger).
    server_.set_socket_options([](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, reinterpret_cast<const void*>(&yes), sizeof yes);
    });
  }

  ~HttplibServer() override {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  Status Bind(const std::string& host, int port) {
    if (port == 0) {
      port_ = server_.bind_to_any_port(host);
    } else {
      port_ = server_.bind_to_port(host, port) ? port : -1;
    }
    if (port_ < 0) {
      return Error("http.listen: cannot bind " + host + ":" + std::to_string(port) +
                   " (address in use, or not an address of this host)");
    }
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    return Status::Ok();
  }

  int port() const override { return port_; }

 private:
  Handlers handlers_;
  logging::Logger logger_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = -1;
};

}  // namespace

Result<std::unique_ptr<Server>> Server::Start(const std::string& listen, Handlers handlers,
                                              logging::Logger logger) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) return Error("http.listen: must be host:port");
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string port_text = listen.substr(colon + 1);
  int port = -1;
  if (!port_text.empty() && port_text.size() <= 5 &&
      port_text.find_first_not_of("0123456789") == std::string::npos) {
    port = std::stoi(port_text);
  }
  if (port < 0 || port > 65535) {
    return Error("http.listen: " + listen + ": the port must be a number from 0 to 65535");
  }
  auto server = std::make_unique<HttplibServer>(std::move(handlers), logger);
  if (auto s = server->Bind(host, port); !s) return s.error();
  logger->info("Serving HTTP. address={}:{}", host, server->port());
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace teamhealth::http
