// Thread-local last-error message of the runtime's C API (kiln_last_error).
// Internal helpers format a message and return the status to hand back.
#pragma once

#include <string>

#include "kiln/runtime.h"

namespace kiln::rt {

// Records `message` as this thread's last error and returns `status`.
kiln_status set_error(kiln_status status, std::string message);

// Clears this thread's last error (called on entry to every API function).
void clear_error();

}  // namespace kiln::rt
