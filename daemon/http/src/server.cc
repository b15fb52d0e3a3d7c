#include "teamhealth/http/server.h"

#include <httplib.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <thread>

#include "teamhealth/base/host_port.h"
#include "teamhealth/base/json_writer.h"
#include "teamhealth/secrets/secrets.h"

namespace teamhealth::http {
namespace {

// The bearer tokens of a listener, read once at start (a new token needs a restart).
class Tokens {
 public:
  static Result<Tokens> Load(const ListenerOptions& o, bool loopback) {
    Tokens t;
    for (auto [file, key, slot] : {std::tuple{&o.viewer_token_file, "viewer", &t.viewer_},
                                   std::tuple{&o.admin_token_file, "admin", &t.admin_}}) {
      if (file->empty()) continue;
      auto token =
          secrets::ReadToken(*file, o.section + "." + key + "_token_file " + *file);
      if (!token) return token.error();
      *slot = std::move(*token);
    }
    t.open_ = loopback && !t.viewer_ && !t.admin_;
    return t;
  }
  Tokens(Tokens&&) = default;
  ~Tokens() {
    if (viewer_) secrets::Wipe(*viewer_);
    if (admin_) secrets::Wipe(*admin_);
  }

  bool configured() const { return viewer_ || admin_; }
  bool open() const { return open_; }

  // The role of `authorization` ("Bearer <token>"). Both tokens are always compared, in constant
  // time, so the answer's timing does not say which one (if any) was close.
  Role Check(const std::string& authorization) const {
    if (open_) return Role::kAdmin;
    constexpr std::string_view kScheme = "Bearer ";
    if (authorization.size() <= kScheme.size() ||
        authorization.compare(0, kScheme.size(), kScheme) != 0) {
      return Role::kNone;
    }
    const std::string_view presented = std::string_view(authorization).substr(kScheme.size());
    const bool admin = admin_ && secrets::Equal(presented, *admin_);
    const bool viewer = viewer_ && secrets::Equal(presented, *viewer_);
    return admin ? Role::kAdmin : viewer ? Role::kViewer : Role::kNone;
  }

 private:
  Tokens() = default;
  std::optional<std::string> viewer_, admin_;
  bool open_ = false;
};

std::string OpenSslError() {
  char buf[256] = "unknown error";
  if (const unsigned long e = ERR_get_error(); e != 0) ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

Status CheckReadable(const std::string& path, const std::string& what) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Error(what + ": cannot read it (" + std::strerror(errno) + ")");
  std::fclose(f);
  return Status::Ok();
}

// Loads the certificate chain and key the way the TLS listener will, so that a bad file is an
// error naming it rather than a listener that fails every handshake.
Status CheckTls(const std::string& section, const std::string& cert, const std::string& key) {
  const std::string cert_what = section + ".tls_cert " + cert,
                    key_what = section + ".tls_key " + key;
  if (auto s = CheckReadable(cert, cert_what); !s) return s;
  if (auto s = CheckReadable(key, key_what); !s) return s;
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_server_method()),
                                                         SSL_CTX_free);
  if (!ctx) return Error("TLS: " + OpenSslError());
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), cert.c_str()) != 1) {
    return Error(cert_what + ": not a PEM certificate (" + OpenSslError() + ")");
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), key.c_str(), SSL_FILETYPE_PEM) != 1) {
    if (ERR_GET_REASON(ERR_peek_error()) == X509_R_KEY_VALUES_MISMATCH) {
      ERR_clear_error();
      return Error(key_what + ": does not match the certificate " + cert);
    }
    return Error(key_what + ": not a PEM private key (" + OpenSslError() + ")");
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1) {
    return Error(key_what + ": does not match the certificate " + cert);
  }
  if (X509* x = SSL_CTX_get0_certificate(ctx.get());
      x != nullptr && X509_cmp_current_time(X509_get0_notAfter(x)) < 0) {
    return Error(cert_what + ": the certificate has expired");
  }
  return Status::Ok();
}

class HttplibServer final : public Server {
 public:
  HttplibServer(std::unique_ptr<httplib::Server> server, Tokens tokens, Handlers handlers,
                size_t max_headers, std::string section, logging::Logger logger)
      : section_(std::move(section)),
        server_(std::move(server)),
        tokens_(std::move(tokens)),
        handlers_(std::move(handlers)),
        logger_(std::move(logger)) {
    server_->set_pre_routing_handler([max_headers](const httplib::Request& req,
                                                   httplib::Response& res) {
      if (req.headers.size() <= max_headers) return httplib::Server::HandlerResponse::Unhandled;
      res.status = 431;
      res.set_content("more than " + std::to_string(max_headers) + " request headers\n",
                      "text/plain");
      return httplib::Server::HandlerResponse::Handled;
    });
    server_->Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) {
      if (!Authorize(req, res, handlers_.metrics_role, "text/plain")) return;
      res.set_content(handlers_.metrics(), "text/plain; version=0.0.4; charset=utf-8");
    });
    server_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("ok\n", "text/plain");
    });
    server_->Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
      const ReadyState state = handlers_.ready();
      if (state.ready) {
        res.set_content(state.reason.empty() ? "ready\n" : "ready; " + state.reason + "\n",
                        "text/plain");
      } else {
        res.status = 503;
        res.set_content("not ready: " + state.reason + "\n", "text/plain");
      }
    });
    server_->Get(R"(/api/v1/([a-z_]+))", [this](const httplib::Request& req,
                                                httplib::Response& res) {
      if (!handlers_.api) {
        res.status = 404;
        return;
      }
      const auto role = Authorize(req, res, Role::kViewer, "application/json");
      if (!role) return;
      std::map<std::string, std::string> query;
      if (!UniqueParams(req, res, query, "application/json")) return;
      const ApiResponse r = handlers_.api(req.matches[1], query, *role);
      res.status = r.status;
      for (const auto& [k, v] : r.headers) res.set_header(k, v);
      res.set_content(r.body, r.content_type);
    });
    // The pages: the same viewer role as the API; errors as plain text.
    server_->Get(R"(/|/teams/[^/]+)", [this](const httplib::Request& req,
                                             httplib::Response& res) {
      if (!handlers_.page) {
        res.status = 404;
        return;
      }
      const auto role = Authorize(req, res, Role::kViewer, "text/plain");
      if (!role) return;
      std::map<std::string, std::string> query;
      if (!UniqueParams(req, res, query, "text/plain")) return;
      const ApiResponse r = handlers_.page(req.path, query, *role);
      res.status = r.status;
      for (const auto& [k, v] : r.headers) res.set_header(k, v);
      res.set_content(r.body, r.content_type);
    });
    if (handlers_.raw) RouteRaw();
    // cpp-httplib's default also sets SO_REUSEPORT, which lets two processes bind one port
    // and share its connections: only SO_REUSEADDR (restart while old connections linger).
    // TCP_NODELAY (inherited by accepted sockets): cpp-httplib writes a response's headers and
    // body separately, and with Nagle the body waited for the client's delayed ACK, ~40 ms on
    // every answer.
    server_->set_socket_options([](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, reinterpret_cast<const void*>(&yes), sizeof yes);
      ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const void*>(&yes), sizeof yes);
    });
  }

  ~HttplibServer() override {
    server_->stop();
    if (thread_.joinable()) thread_.join();
  }

  Status Bind(const HostPort& at) {
    if (at.port == 0) {
      port_ = server_->bind_to_any_port(at.host);
    } else {
      port_ = server_->bind_to_port(at.host, at.port) ? at.port : -1;
    }
    if (port_ < 0) {
      return Error(section_ + ".listen: cannot bind " + at.host + ":" + std::to_string(at.port) +
                   " (address in use, or not an address of this host)");
    }
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    return Status::Ok();
  }

  int port() const override { return port_; }

 private:
  static RawRequest Raw(const httplib::Request& req) {
    RawRequest raw{.method = req.method, .path = req.path, .headers = {}, .body = req.body};
    for (const auto& [k, v] : req.headers) {
      // cpp-httplib adds these itself; they did not come from the client.
      if (k == "REMOTE_ADDR" || k == "REMOTE_PORT" || k == "LOCAL_ADDR" || k == "LOCAL_PORT") {
        continue;
      }
      raw.headers.emplace_back(k, v);
    }
    return raw;
  }

  static void Answer(const ApiResponse& r, httplib::Response& res) {
    res.status = r.status;
    for (const auto& [k, v] : r.headers) res.set_header(k, v);
    res.set_content(r.body, r.content_type);
  }

  // Every method under raw_prefix goes to handlers_.raw. A body over max_request_bytes (or a
  // form-encoded one over cpp-httplib's own 8 KiB) is refused by cpp-httplib before routing
  // (413, the body not kept); the error handler lets the raw handler choose (and count) that
  // answer too.
  void RouteRaw() {
    const std::string pattern = handlers_.raw_prefix + "(.*)";
    auto handler = [this](const httplib::Request& req, httplib::Response& res) {
      Answer(handlers_.raw(Raw(req)), res);
    };
    server_->Post(pattern, handler);
    server_->Get(pattern, handler);
    server_->Put(pattern, handler);
    server_->Patch(pattern, handler);
    server_->Delete(pattern, handler);
    server_->Options(pattern, handler);
    server_->set_error_handler(httplib::Server::HandlerWithResponse(
        [this](const httplib::Request& req, httplib::Response& res) {
      // cpp-httplib's own 413 has no body; every answer of ours has one.
      if (res.status != 413 || !res.body.empty() ||
          req.path.compare(0, handlers_.raw_prefix.size(), handlers_.raw_prefix) != 0) {
        return httplib::Server::HandlerResponse::Unhandled;
      }
      RawRequest raw = Raw(req);
      raw.body = {};
      raw.too_large = true;
      Answer(handlers_.raw(raw), res);
      return httplib::Server::HandlerResponse::Handled;
    }));
  }

  // The query parameters of `req` into `query`; false (answered 400) if one is repeated.
  static bool UniqueParams(const httplib::Request& req, httplib::Response& res,
                           std::map<std::string, std::string>& query,
                           const std::string& content_type) {
    for (const auto& [k, v] : req.params) {
      if (!query.emplace(k, v).second) {
        const std::string message = "query parameter " + k + " given more than once";
        res.status = 400;
        res.set_content(content_type == "application/json" ? JsonError(400, message).body
                                                           : message + "\n",
                        content_type);
        return false;
      }
    }
    return true;
  }

  // The caller's role if it may read a resource that needs `needed`; if not, answers 401 or 403.
  std::optional<Role> Authorize(const httplib::Request& req, httplib::Response& res, Role needed,
                                const std::string& content_type) const {
    const Role role = tokens_.Check(req.get_header_value("Authorization"));
    if (role >= needed) return role;
    std::string message;
    if (!tokens_.configured()) {
      res.status = 403;
      message = section_ == "http" ? "this listener is not on loopback: set http.viewer_token_file "
                                     "or http.admin_token_file to serve it"
                                   : "this listener is not on loopback: set " + section_ +
                                         ".viewer_token_file to serve it";
    } else if (role == Role::kNone) {
      res.status = 401;
      res.set_header("WWW-Authenticate", "Bearer realm=\"teamhealth\"");
      message = "missing or wrong bearer token";
    } else {
      res.status = 403;
      message = "this needs the admin token (it carries per-person series)";
    }
    res.set_content(content_type == "application/json" ? JsonError(res.status, message).body : message + "\n",
                    content_type);
    return std::nullopt;
  }

  const std::string section_;
  std::unique_ptr<httplib::Server> server_;
  Tokens tokens_;
  Handlers handlers_;
  logging::Logger logger_;
  std::thread thread_;
  int port_ = -1;
};

}  // namespace

ApiResponse JsonError(int status, const std::string& message) {
  std::string body;
  JsonWriter(body).BeginObject().Key("error").String(message).EndObject();
  return {status, "application/json", body + "\n", {}};
}

ListenerOptions ListenerOptions::From(const config::HttpConfig& http) {
  return {.section = "http",
          .listen = http.listen,
          .tls_cert = http.tls_cert,
          .tls_key = http.tls_key,
          .viewer_token_file = http.viewer_token_file,
          .admin_token_file = http.admin_token_file,
          .max_request_bytes = static_cast<size_t>(http.max_request_bytes),
          .max_request_headers = static_cast<size_t>(http.max_request_headers)};
}

Status CheckListener(const ListenerOptions& options) {
  auto at = ParseHostPort(options.listen, options.section + ".listen");
  if (!at) return at.error();
  auto tokens = Tokens::Load(options, at->IsLoopback());
  if (!tokens) return tokens.error();
  if (!options.tls_cert.empty()) {
    return CheckTls(options.section, options.tls_cert, options.tls_key);
  }
  return Status::Ok();
}

Result<std::unique_ptr<Server>> Server::Start(const ListenerOptions& options, Handlers handlers,
                                              logging::Logger logger) {
  auto at = ParseHostPort(options.listen, options.section + ".listen");
  if (!at) return at.error();
  auto tokens = Tokens::Load(options, at->IsLoopback());
  if (!tokens) return tokens.error();
  const bool tls = !options.tls_cert.empty();
  std::unique_ptr<httplib::Server> server;
  if (tls) {
    if (auto s = CheckTls(options.section, options.tls_cert, options.tls_key); !s) {
      return s.error();
    }
    auto ssl = std::make_unique<httplib::SSLServer>(options.tls_cert.c_str(),
                                                    options.tls_key.c_str());
    if (!ssl->is_valid()) {
      return Error(options.section + ".tls_cert: the TLS listener cannot load its files");
    }
    server = std::move(ssl);
  } else {
    server = std::make_unique<httplib::Server>();
  }
  server->set_payload_max_length(options.max_request_bytes);
  const bool configured = tokens->configured(), open = tokens->open();
  auto listener = std::make_unique<HttplibServer>(std::move(server), std::move(*tokens),
                                                  std::move(handlers),
                                                  options.max_request_headers, options.section,
                                                  logger);
  if (auto s = listener->Bind(*at); !s) return s.error();
  logger->info("Serving {}. address={}:{} tokens={}", tls ? "HTTPS" : "HTTP", at->host,
               listener->port(), configured ? "required" : open ? "none (loopback)" : "none");
  if (!configured && !open) {
    logger->warn("Not on loopback and no token file set: /metrics and /api/v1/ answer 403. "
                 "address={} section={}", options.listen, options.section);
  } else if (!tls && !at->IsLoopback()) {
    logger->warn("Not on loopback and without TLS: bearer tokens cross the network in clear. "
                 "address={}", options.listen);
  }
  return std::unique_ptr<Server>(std::move(listener));
}

}  // namespace teamhealth::http
