// Host CPU feature detection and the check of a model's required features
// (so an AVX-512 object on an AVX2 host is refused instead of crashing).
#pragma once

#include <string>
#include <vector>

namespace kiln::rt {

// Feature names this runtime can check on its architecture, in a fixed order.
const std::vector<std::string>& known_cpu_features();

// Features the host supports (a subset of known_cpu_features()), detected once.
// On x86 this includes the OS support check (xgetbv) for AVX and AVX-512 state.
const std::vector<std::string>& host_cpu_features();

// Result of checking a comma-separated feature list against a host.
struct FeatureCheck {
  std::vector<std::string> missing;  // known features the host lacks
  std::vector<std::string> unknown;  // names this runtime does not know
};

// Splits `list` ("avx2,fma", "+neon, dotprod"; blanks and a leading '+' ignored)
// and compares each name with `host`. Aliases: asimd = neon, asimddp = dotprod.
FeatureCheck check_cpu_features(const std::string& list, const std::vector<std::string>& host);

// Returns "" when the host has every feature in `list`, else a one-line message.
std::string cpu_feature_error(const std::string& list);

}  // namespace kiln::rt
