// Re-indents compact JSON for humans (`kiln inspect` prints model metadata).
#pragma once

#include <string>

namespace kiln::cli {

// Returns `json` with two-space indentation; strings are kept verbatim. Text that
// is not well-formed JSON is re-indented on a best-effort basis, never rejected.
std::string pretty_json(const std::string& json);

}  // namespace kiln::cli
