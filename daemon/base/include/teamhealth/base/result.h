#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

namespace teamhealth {

// What kind of failure an error is, where a caller acts on it differently from the others.
enum class ErrorKind {
  kOther,
  // The filesystem under the state directory is full (ENOSPC): the write did not happen and
  // can succeed once space is freed. Callers pause and retry instead of stopping.
  kNoSpace,
  // A name the caller gave does not exist (an unknown team): the caller's mistake, a usage
  // error (exit 2) or HTTP 404, not a failure of the program.
  kNotFound,
};

// An error: a message that names the bad input. Expected failures travel as values.
class Error final {
 public:
  explicit Error(std::string message) : message_(std::move(message)) {}
  Error(ErrorKind kind, std::string message) : message_(std::move(message)), kind_(kind) {}
  const std::string& message() const { return message_; }
  ErrorKind kind() const { return kind_; }
  bool no_space() const { return kind_ == ErrorKind::kNoSpace; }
  bool not_found() const { return kind_ == ErrorKind::kNotFound; }

 private:
  std::string message_;
  ErrorKind kind_ = ErrorKind::kOther;
};

// Result<T>: a T or an Error, in the spirit of std::expected (not in GCC 12's library).
// Reading the value of an error is an invariant violation and aborts with the message.
template <typename T>
class [[nodiscard]] Result final {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return Check(), std::get<0>(v_); }
  const T& value() const& { return Check(), std::get<0>(v_); }
  T&& value() && { return Check(), std::move(std::get<0>(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  void Check() const {
    if (!ok()) {
      std::fprintf(stderr, "Result::value() on an error: %s\n", error().message().c_str());
      std::abort();
    }
  }
  std::variant<T, Error> v_;
};

// Status: a Result without a value.
class [[nodiscard]] Status final {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design
  static Status Ok() { return Status(); }

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_{""};
  bool ok_ = true;
};

}  // namespace teamhealth
