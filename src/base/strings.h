// Small string utilities shared by the option and target parsers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kiln {

// Splits `s` at every `sep`; keeps empty parts ("a,,b" -> {"a", "", "b"}; "" -> {""}).
inline std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    parts.push_back(s.substr(start, pos == std::string::npos ? std::string::npos : pos - start));
    if (pos == std::string::npos) break;
    start = pos + 1;
  }
  return parts;
}

// "[1,3,224,224]": a list of integers for error messages.
inline std::string ints_str(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

}  // namespace kiln
