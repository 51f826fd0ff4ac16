// Status and Expected<T>: how user-facing errors travel (STYLE.md habit 7).
// A user's mistake is a returned Status with a message; a compiler bug is KILN_CHECK.
#pragma once

#include <cstdlib>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <variant>

namespace kiln {

// What went wrong, in the categories that decide the CLI's exit status.
enum class ErrorKind {
  kOk = 0,
  kInvalidInput,   // bad model, bad flag, unsupported op: exit status 2
  kInternal,       // a compiler bug or a failed system call: exit status 1
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status ok() { return Status(); }
  static Status invalid(std::string msg) { return Status(ErrorKind::kInvalidInput, std::move(msg)); }
  static Status internal(std::string msg) { return Status(ErrorKind::kInternal, std::move(msg)); }

  bool is_ok() const { return kind_ == ErrorKind::kOk; }
  explicit operator bool() const { return is_ok(); }
  ErrorKind kind() const { return kind_; }
  const std::string& message() const { return message_; }
  // Exit status the CLI uses for this error (0, 1 or 2; see SPEC.md).
  int exit_code() const { return kind_ == ErrorKind::kOk ? 0 : kind_ == ErrorKind::kInvalidInput ? 2 : 1; }
  // Returns a copy whose message is prefixed with `context: `.
  Status with_context(const std::string& context) const {
    if (is_ok()) return *this;
    return Status(kind_, context + ": " + message_);
  }

 private:
  Status(ErrorKind k, std::string m) : kind_(k), message_(std::move(m)) {}
  ErrorKind kind_ = ErrorKind::kOk;
  std::string message_;
};

// A value or an error Status (LLVM's Expected, without the must-check machinery).
template <typename T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Expected(Status s) : v_(std::move(s)) {      // NOLINT
    if (std::get<Status>(v_).is_ok()) {
      std::cerr << "kiln internal error: Expected built from an ok Status\n";
      std::abort();
    }
  }
  bool has_value() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return has_value(); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  const T& value() const& { return std::get<T>(v_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Status& status() const {
    static const Status ok_status;
    return has_value() ? ok_status : std::get<Status>(v_);
  }

 private:
  std::variant<T, Status> v_;
};

}  // namespace kiln

// Return early with the Status of an expression if it failed.
#define KILN_RETURN_IF_ERROR(expr)            \
  do {                                        \
    ::kiln::Status kiln_status_ = (expr);     \
    if (!kiln_status_.is_ok()) return kiln_status_; \
  } while (0)

#define KILN_CONCAT_INNER_(a, b) a##b
#define KILN_CONCAT_(a, b) KILN_CONCAT_INNER_(a, b)
// `KILN_ASSIGN_OR_RETURN(auto x, f());` binds the value or returns the error.
#define KILN_ASSIGN_OR_RETURN(decl, expr)                                   \
  auto KILN_CONCAT_(kiln_exp_, __LINE__) = (expr);                          \
  if (!KILN_CONCAT_(kiln_exp_, __LINE__)) return KILN_CONCAT_(kiln_exp_, __LINE__).status(); \
  decl = std::move(KILN_CONCAT_(kiln_exp_, __LINE__)).value()
