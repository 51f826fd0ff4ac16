// Spelling suggestions for user errors: "did you mean: skylake, skylake-avx512?".
// Used by target parsing to list the valid CPU, feature and model names closest to a typo.
#pragma once

#include <string>
#include <vector>

namespace kiln::targets {

// Edit distance with adjacent transpositions (optimal string alignment),
// case-insensitive. "skylkae" -> "skylake" is 1.
int edit_distance(const std::string& a, const std::string& b);

// Returns up to `max_count` names from `candidates` closest to `word`, best first.
// A candidate also scores by its prefix of word's length, so "skylkae" ranks
// "skylake-avx512" next to "skylake". Ties break alphabetically.
std::vector<std::string> closest_names(const std::string& word, const std::vector<std::string>& candidates,
                                       size_t max_count = 5);

// The tail of an unknown-name message: "; did you mean: a, b?" when some name is
// close to `word`, else "; valid names include: a, b, c" (the closest ones anyway).
std::string suggestion_suffix(const std::string& word, const std::vector<std::string>& candidates,
                              size_t max_count = 5);

}  // namespace kiln::targets
