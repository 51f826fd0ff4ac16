// Where the runtime tests find the hand-written fake models built by
// tests/runtime/fake_model/CMakeLists.txt (env KILN_FAKE_MODEL_DIR overrides).
#pragma once

#include <cstdlib>
#include <string>

namespace kiln::test {

// Folder of one fake model variant ("good", "multi", "bad_checksum", ...).
inline std::string fake_model_dir(const std::string& variant) {
  const char* env = std::getenv("KILN_FAKE_MODEL_DIR");
  return std::string(env && *env ? env : KILN_FAKE_MODEL_DIR) + "/" + variant;
}

}  // namespace kiln::test
