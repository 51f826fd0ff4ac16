// KILN_CHECK: internal invariants. A failure is a compiler bug: print context and abort.
#pragma once

#include <cstdlib>
#include <iostream>
#include <sstream>

namespace kiln::detail {

// Collects the streamed message and aborts when destroyed.
class CheckFailure {
 public:
  CheckFailure(const char* cond, const char* file, int line) {
    stream_ << "kiln internal error at " << file << ":" << line << ": check failed: " << cond << ": ";
  }
  [[noreturn]] ~CheckFailure() {
    std::cerr << stream_.str() << "\n(this is a bug in kiln; please report it with the model)\n";
    std::abort();
  }
  template <typename T>
  CheckFailure& operator<<(const T& v) {
    stream_ << v;
    return *this;
  }

 private:
  std::ostringstream stream_;
};

}  // namespace kiln::detail

#define KILN_CHECK(cond) \
  if (cond) {            \
  } else                 \
    ::kiln::detail::CheckFailure(#cond, __FILE__, __LINE__)

#define KILN_UNREACHABLE(msg) ::kiln::detail::CheckFailure("unreachable", __FILE__, __LINE__) << msg
