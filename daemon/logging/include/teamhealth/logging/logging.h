#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <string_view>

namespace teamhealth::logging {

using Logger = std::shared_ptr<spdlog::logger>;

// Makes one named logger per module, all writing to one shared stderr sink. Owned by the
// app and passed to modules by constructor; no global spdlog registry is used.
// Thread-safe: loggers may be used from any thread.
class Loggers final {
 public:
  // `level`: trace, debug, info, warn or error.
  explicit Loggers(std::string_view level);
  Logger Get(std::string name) const;

 private:
  spdlog::sink_ptr sink_;
  spdlog::level::level_enum level_;
};

}  // namespace teamhealth::logging
