#include "teamhealth/ingest/producer.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <thread>

namespace teamhealth::ingest {
namespace {

// One record waiting for its delivery report. Shared by the producing thread (which may stop
// waiting) and librdkafka's report (which always comes, at the latest when the handle is
// destroyed and its queue purged).
struct Pending {
  std::promise<rd_kafka_resp_err_t> done;
};

// Delivery report (the poll thread): the record's opaque is a heap-allocated shared_ptr.
void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  auto* pending = static_cast<std::shared_ptr<Pending>*>(message->_private);
  if (pending == nullptr) return;  // produced with Produce, nobody waits
  (*pending)->done.set_value(message->err);
  delete pending;
}

// librdkafka passes syslog levels: 0-2 emergency..critical, 3 error, 4 warning, 5-6 notice and
// info, 7 debug.
void OnLog(const rd_kafka_t* rk, int level, const char* facility, const char* line) {
  const auto* logger = static_cast<const logging::Logger*>(rd_kafka_opaque(rk));
  if (logger == nullptr || *logger == nullptr) return;
  const auto spd_level = level <= 2   ? spdlog::level::critical
                         : level == 3 ? spdlog::level::err
                         : level == 4 ? spdlog::level::warn
                         : level <= 6 ? spdlog::level::info
                                      : spdlog::level::debug;
  (*logger)->log(spd_level, "librdkafka: {} facility={} client={}", line, facility,
                 rd_kafka_name(rk));
}

class KafkaProducer final : public RecordProducer {
 public:
  KafkaProducer(rd_kafka_t* rk, std::unique_ptr<logging::Logger> logger, bool acknowledged,
                int delivery_timeout_ms)
      : rk_(rk), logger_(std::move(logger)), delivery_timeout_ms_(delivery_timeout_ms) {
    if (acknowledged) {
      poller_ = std::thread([this] {
        while (!stop_.load()) rd_kafka_poll(rk_, 100);
      });
    }
  }
  ~KafkaProducer() override {
    rd_kafka_flush(rk_, 5000);
    // Whatever is still queued fails now: its waiters (if any still wait) get their report.
    rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(rk_, 0);
    stop_ = true;
    if (poller_.joinable()) poller_.join();
    rd_kafka_poll(rk_, 0);
    rd_kafka_destroy(rk_);
  }

  Status Produce(const std::string& topic, const std::string& key,
                 const std::vector<std::pair<std::string, std::string>>& headers,
                 const std::string& value) override {
    const rd_kafka_resp_err_t err = Enqueue(topic, key, headers, value, nullptr);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::Ok();
    return Error("produce to " + topic + ": " + rd_kafka_err2str(err));
  }

  Delivery ProduceAndWait(const std::string& topic, const std::string& key,
                          const std::vector<std::pair<std::string, std::string>>& headers,
                          const std::string& value) override {
    if (!poller_.joinable()) std::abort();  // needs ProducerOptions::acknowledged
    auto pending = std::make_shared<Pending>();
    auto done = pending->done.get_future();
    auto* opaque = new std::shared_ptr<Pending>(pending);
    if (const auto err = Enqueue(topic, key, headers, value, opaque);
        err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      delete opaque;  // not queued: no report will come
      return ToDelivery(err);
    }
    // librdkafka reports every record by message.timeout.ms (its timeout scan runs about once a
    // second): the margin only guards against a report that never comes.
    const auto wait = std::chrono::milliseconds(delivery_timeout_ms_ + 3000);
    if (done.wait_for(wait) != std::future_status::ready) {
      return {Delivery::Outcome::kUnavailable, "no delivery report in time"};
    }
    return ToDelivery(done.get());
  }

  Status CheckReachable(int timeout_ms) override {
    const struct rd_kafka_metadata* metadata = nullptr;
    const rd_kafka_resp_err_t err = rd_kafka_metadata(rk_, 0, nullptr, &metadata, timeout_ms);
    if (metadata != nullptr) rd_kafka_metadata_destroy(metadata);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Error(std::string("no broker answers: ") + rd_kafka_err2str(err));
    }
    return Status::Ok();
  }

  Status Flush(int timeout_ms) override {
    const auto err = rd_kafka_flush(rk_, timeout_ms);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Error(std::string("flush: ") + rd_kafka_err2str(err));
    }
    return Status::Ok();
  }

 private:
  static Delivery ToDelivery(rd_kafka_resp_err_t err) {
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return {Delivery::Outcome::kAcknowledged, ""};
    // Locally (larger than message.max.bytes) or by the broker (its max.message.bytes).
    const bool too_large =
        err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE || err == RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE;
    return {too_large ? Delivery::Outcome::kTooLarge : Delivery::Outcome::kUnavailable,
            rd_kafka_err2str(err)};
  }

  // Queues one record, retrying briefly while the local queue is full; `opaque` is the waiter
  // of its delivery report, or null.
  rd_kafka_resp_err_t Enqueue(const std::string& topic, const std::string& key,
                              const std::vector<std::pair<std::string, std::string>>& headers,
                              const std::string& value, void* opaque) {
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__QUEUE_FULL;
    for (int attempt = 0; attempt < 100 && err == RD_KAFKA_RESP_ERR__QUEUE_FULL; ++attempt) {
      rd_kafka_headers_t* hdrs = rd_kafka_headers_new(headers.size());
      for (const auto& [name, v] : headers) {
        rd_kafka_header_add(hdrs, name.data(), static_cast<ssize_t>(name.size()), v.data(),
                            static_cast<ssize_t>(v.size()));
      }
      err = rd_kafka_producev(
          rk_, RD_KAFKA_V_TOPIC(topic.c_str()),
          RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
          RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_HEADERS(hdrs),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return err;
      rd_kafka_headers_destroy(hdrs);  // not taken over on failure
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) return err;
      if (poller_.joinable()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the poller drains it
      } else {
        rd_kafka_poll(rk_, 50);  // let deliveries drain the local queue
      }
    }
    return err;  // the local queue stayed full
  }

  rd_kafka_t* rk_;
  std::unique_ptr<logging::Logger> logger_;  // the handle's opaque; outlives it
  const int delivery_timeout_ms_;
  std::atomic<bool> stop_{false};
  std::thread poller_;
};

Status Set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  char err[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
    return Error("producer property " + key + ": " + err);
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<RecordProducer>> RecordProducer::Create(
    const std::string& bootstrap_servers) {
  return Create(ProducerOptions{.bootstrap_servers = bootstrap_servers});
}

Result<std::unique_ptr<RecordProducer>> RecordProducer::Create(const ProducerOptions& options) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::map<std::string, std::string> all = options.properties;
  all["bootstrap.servers"] = options.bootstrap_servers;
  all["linger.ms"] = std::to_string(options.linger_ms);
  all["message.max.bytes"] = std::to_string(std::max(options.max_value_bytes, 1000000) + 65536);
  if (options.acknowledged) {
    // Exactly one copy per produce call, in order, on every in-sync replica before the answer.
    all["enable.idempotence"] = "true";
    all["acks"] = "all";
    all["message.timeout.ms"] = std::to_string(options.delivery_timeout_ms);
  }
  for (const auto& [k, v] : all) {
    if (auto s = Set(conf, k, v); !s) {
      rd_kafka_conf_destroy(conf);
      return s.error();
    }
  }
  auto logger = std::make_unique<logging::Logger>(options.logger);
  if (options.logger) {
    rd_kafka_conf_set_opaque(conf, logger.get());
    rd_kafka_conf_set_log_cb(conf, OnLog);
  }
  rd_kafka_conf_set_dr_msg_cb(conf, OnDelivery);
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    return Error(std::string("cannot create kafka producer: ") + err);
  }
  return std::unique_ptr<RecordProducer>(std::make_unique<KafkaProducer>(
      rk, std::move(logger), options.acknowledged, options.delivery_timeout_ms));
}

}  // namespace teamhealth::ingest
