#include "teamhealth/ingest/producer.h"

#include <librdkafka/rdkafka.h>

namespace teamhealth::ingest {
namespace {

class KafkaProducer final : public RecordProducer {
 public:
  explicit KafkaProducer(rd_kafka_t* rk) : rk_(rk) {}
  ~KafkaProducer() override {
    rd_kafka_flush(rk_, 5000);
    rd_kafka_destroy(rk_);
  }

  Status Produce(const std::string& topic, const std::string& key,
                 const std::vector<std::pair<std::string, std::string>>& headers,
                 const std::string& value) override {
    for (int attempt = 0; attempt < 100; ++attempt) {
      rd_kafka_headers_t* hdrs = rd_kafka_headers_new(headers.size());
      for (const auto& [name, v] : headers) {
        rd_kafka_header_add(hdrs, name.data(), static_cast<ssize_t>(name.size()), v.data(),
                            static_cast<ssize_t>(v.size()));
      }
      const rd_kafka_resp_err_t err = rd_kafka_producev(
          rk_, RD_KAFKA_V_TOPIC(topic.c_str()),
          RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
          RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_HEADERS(hdrs),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::Ok();
      rd_kafka_headers_destroy(hdrs);  // not taken over on failure
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        return Error("produce to " + topic + ": " + rd_kafka_err2str(err));
      }
      rd_kafka_poll(rk_, 50);  // let deliveries drain the local queue
    }
    return Error("produce to " + topic + ": local queue stays full");
  }

  Status Flush(int timeout_ms) override {
    const auto err = rd_kafka_flush(rk_, timeout_ms);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Error(std::string("flush: ") + rd_kafka_err2str(err));
    }
    return Status::Ok();
  }

 private:
  rd_kafka_t* rk_;
};

}  // namespace

Result<std::unique_ptr<RecordProducer>> RecordProducer::Create(
    const std::string& bootstrap_servers) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap_servers.c_str(), err, sizeof err) !=
          RD_KAFKA_CONF_OK ||
      rd_kafka_conf_set(conf, "linger.ms", "20", err, sizeof err) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    return Error(std::string("producer config: ") + err);
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    return Error(std::string("cannot create kafka producer: ") + err);
  }
  return std::unique_ptr<RecordProducer>(std::make_unique<KafkaProducer>(rk));
}

}  // namespace teamhealth::ingest
