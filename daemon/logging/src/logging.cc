#include "teamhealth/logging/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace teamhealth::logging {

Loggers::Loggers(std::string_view level)
    : sink_(std::make_shared<spdlog::sinks::stderr_sink_mt>()),
      level_(spdlog::level::from_str(std::string(level))) {
  sink_->set_formatter(std::make_unique<spdlog::pattern_formatter>(
      "%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %n: %v", spdlog::pattern_time_type::utc));
}

Logger Loggers::Get(std::string name) const {
  auto logger = std::make_shared<spdlog::logger>(std::move(name), sink_);
  logger->set_level(level_);
  return logger;
}

}  // namespace teamhealth::logging
