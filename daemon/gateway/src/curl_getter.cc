// The poller's HTTP client: libcurl, kept inside this file.
#include <curl/curl.h>

#include <cctype>
#include <mutex>

#include "teamhealth/gateway/poller.h"

namespace teamhealth::gateway {
namespace {

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* body = static_cast<std::string*>(user);
  constexpr size_t kMaxBody = 32 << 20;  // a vendor answer larger than this is not an answer
  if (body->size() + size * n > kMaxBody) return 0;  // libcurl fails the transfer
  body->append(data, size * n);
  return size * n;
}

// Keeps the Retry-After header of the last response (a redirect is not followed, so there is
// one response per request).
size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* retry_after = static_cast<std::string*>(user);
  std::string_view line(data, size * n);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size()) {
    bool match = true;
    for (size_t i = 0; i < kName.size() && match; ++i) {
      match = std::tolower(static_cast<unsigned char>(line[i])) == kName[i];
    }
    if (match) {
      line.remove_prefix(kName.size());
      while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
      while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) {
        line.remove_suffix(1);
      }
      retry_after->assign(line);
    }
  }
  return size * n;
}

class CurlGetter final : public HttpGetter {
 public:
  CurlGetter(CURL* curl, int timeout_ms) : curl_(curl), timeout_ms_(timeout_ms) {}
  ~CurlGetter() override { curl_easy_cleanup(curl_); }

  HttpAnswer Get(const std::string& url, const Headers& headers) override {
    HttpAnswer answer;
    curl_easy_reset(curl_);  // keeps the connection cache
    curl_slist* list = nullptr;
    for (const auto& [name, value] : headers) {
      list = curl_slist_append(list, (name + ": " + value).c_str());
    }
    char error[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for DNS timeouts
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms_));
    curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(curl_, CURLOPT_FOLLOWLOCATION, 0L);  // a redirect would carry the token
    curl_easy_setopt(curl_, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl_, CURLOPT_ACCEPT_ENCODING, "");  // whatever libcurl can decode
    curl_easy_setopt(curl_, CURLOPT_USERAGENT, "teamhealth-gateway");
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &answer.body);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &answer.retry_after);
    curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, error);
    const CURLcode rc = curl_easy_perform(curl_);
    curl_slist_free_all(list);
    if (rc != CURLE_OK) {
      answer.status = 0;
      answer.error = error[0] != '\0' ? error : curl_easy_strerror(rc);
      answer.body.clear();
      return answer;
    }
    long status = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
    answer.status = static_cast<int>(status);
    return answer;
  }

 private:
  CURL* curl_;
  int timeout_ms_;
};

}  // namespace

Result<std::unique_ptr<HttpGetter>> MakeCurlGetter(int timeout_ms) {
  // curl_global_init is not thread-safe before 7.84; the gateway makes its one getter at start.
  static std::once_flag once;
  static CURLcode global = CURLE_OK;
  std::call_once(once, [] { global = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (global != CURLE_OK) {
    return Error(std::string("libcurl: ") + curl_easy_strerror(global));
  }
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return Error("libcurl: curl_easy_init failed");
  return std::unique_ptr<HttpGetter>(std::make_unique<CurlGetter>(curl, timeout_ms));
}

}  // namespace teamhealth::gateway
