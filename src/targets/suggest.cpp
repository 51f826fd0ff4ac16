// Edit-distance ranking behind the "did you mean" lists of target errors.
#include "targets/suggest.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <tuple>

namespace kiln::targets {

int edit_distance(const std::string& a, const std::string& b) {
  const size_t n = a.size(), m = b.size();
  // d[i][j]: distance between a[0..i) and b[0..j). Names are short: a full table is fine.
  std::vector<std::vector<int>> d(n + 1, std::vector<int>(m + 1, 0));
  for (size_t i = 0; i <= n; ++i) d[i][0] = static_cast<int>(i);
  for (size_t j = 0; j <= m; ++j) d[0][j] = static_cast<int>(j);
  auto lower = [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); };
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      int cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) && lower(a[i - 2]) == lower(b[j - 1])) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

namespace {

// The largest score that still counts as "close" for a word of this length.
int close_threshold(const std::string& word) { return std::max<int>(1, static_cast<int>(word.size()) / 3); }

struct Ranked {
  int score;      // min(full distance, prefix distance)
  int full;       // full distance, to prefer exact-length matches
  std::string name;
  bool operator<(const Ranked& o) const { return std::tie(score, full, name) < std::tie(o.score, o.full, o.name); }
};

std::vector<Ranked> rank(const std::string& word, const std::vector<std::string>& candidates) {
  std::vector<Ranked> ranked;
  ranked.reserve(candidates.size());
  for (const std::string& c : candidates) {
    int full = edit_distance(word, c);
    int score = full;
    if (c.size() > word.size()) {
      // Prefix match costs one more than the prefix distance, so exact words win ties.
      score = std::min(score, edit_distance(word, c.substr(0, word.size())) + 1);
    }
    ranked.push_back({score, full, c});
  }
  std::sort(ranked.begin(), ranked.end());
  // LLVM lists some CPUs twice ("skylake-avx512" and the legacy "skylake_avx512"):
  // keep the first spelling of each name up to '-' vs '_'.
  std::set<std::string> seen;
  std::vector<Ranked> unique;
  for (Ranked& r : ranked) {
    std::string key = r.name;
    std::replace(key.begin(), key.end(), '_', '-');
    if (seen.insert(key).second) unique.push_back(std::move(r));
  }
  return unique;
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

}  // namespace

std::vector<std::string> closest_names(const std::string& word, const std::vector<std::string>& candidates,
                                       size_t max_count) {
  std::vector<std::string> out;
  for (const Ranked& r : rank(word, candidates)) {
    if (out.size() >= max_count) break;
    out.push_back(r.name);
  }
  return out;
}

std::string suggestion_suffix(const std::string& word, const std::vector<std::string>& candidates, size_t max_count) {
  std::vector<Ranked> ranked = rank(word, candidates);
  if (ranked.empty()) return "";
  const int threshold = close_threshold(word);
  std::vector<std::string> close;
  for (const Ranked& r : ranked) {
    if (r.score > threshold + 1 || close.size() >= max_count) break;
    // Keep only names as good as the best one plus one edit, so the list stays short and relevant.
    if (r.score > ranked.front().score + 1) break;
    close.push_back(r.name);
  }
  if (!close.empty() && ranked.front().score <= threshold + 1) return "; did you mean: " + join(close) + "?";
  std::vector<std::string> some;
  for (size_t i = 0; i < ranked.size() && i < max_count; ++i) some.push_back(ranked[i].name);
  return "; valid names include: " + join(some);
}

}  // namespace kiln::targets
