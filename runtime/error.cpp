// Thread-local storage behind kiln_last_error().
#include "error.h"

namespace kiln::rt {
namespace {
thread_local std::string t_last_error;
}  // namespace

kiln_status set_error(kiln_status status, std::string message) {
  t_last_error = std::move(message);
  return status;
}

void clear_error() { t_last_error.clear(); }

}  // namespace kiln::rt

extern "C" const char* kiln_last_error(void) { return kiln::rt::t_last_error.c_str(); }
