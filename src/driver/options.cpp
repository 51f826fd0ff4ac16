// Parsing of the compile options that arrive as small strings: `--optimization`
// values ("category:kernel,level:4") and `--input_shapes` ("name:1x3x224x224,ids:1x128").
#include <charconv>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/strings.h"
#include "kiln/compiler.h"

namespace kiln {

namespace {

// Parses a whole decimal integer; false on junk, sign or overflow.
bool parse_int(const std::string& s, int64_t* out) {
  if (s.empty() || s[0] == '+' || s[0] == '-') return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

constexpr const char* kOptimizationForms =
    "category:kernel,level:<1-4> | category:cuda,enabled:<true|false> | category:graph,iterations:<0-30000>";

}  // namespace

std::string apply_optimization_flag(const std::string& value, CompileOptions* options) {
  const std::string where = "--optimization '" + value + "': ";
  // key -> value pairs, in order; "category" must appear exactly once.
  std::vector<std::pair<std::string, std::string>> pairs;
  std::string category;
  for (const std::string& item : split(value, ',')) {
    size_t colon = item.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == item.size()) {
      return where + "expected key:value pairs, got '" + item + "' (valid: " + kOptimizationForms + ")";
    }
    std::string key = item.substr(0, colon), val = item.substr(colon + 1);
    if (key == "category") {
      if (!category.empty()) return where + "category given twice";
      category = val;
    } else {
      pairs.emplace_back(key, val);
    }
  }
  if (category.empty()) return where + "missing category (valid: " + kOptimizationForms + ")";

  // The one key each category takes, and its check.
  std::string key_name;
  if (category == "kernel") {
    key_name = "level";
  } else if (category == "cuda") {
    key_name = "enabled";
  } else if (category == "graph") {
    key_name = "iterations";
  } else {
    return where + "unknown category '" + category + "' (valid: kernel, cuda, graph)";
  }
  if (pairs.empty()) return where + "category:" + category + " needs " + key_name + ":<value>";
  for (const auto& [key, val] : pairs) {
    if (key != key_name) {
      return where + "unknown key '" + key + "' for category:" + category + " (valid: " + key_name + ")";
    }
  }
  if (pairs.size() > 1) return where + key_name + " given twice";
  const std::string& val = pairs[0].second;

  int64_t n = 0;
  if (category == "kernel") {
    if (!parse_int(val, &n) || n < 1 || n > 4) return where + "level must be 1, 2, 3 or 4, not '" + val + "'";
    options->kernel_level = static_cast<int>(n);
  } else if (category == "cuda") {
    if (val != "true" && val != "false") return where + "enabled must be true or false, not '" + val + "'";
    options->cuda_enabled = val == "true";
  } else {
    if (!parse_int(val, &n) || n < 0 || n > 30000) {
      return where + "iterations must be an integer from 0 to 30000, not '" + val + "'";
    }
    options->tuning_iterations = static_cast<int>(n);
  }
  return "";
}

std::string parse_input_shapes(const std::string& value, CompileOptions* options) {
  const std::string where = "--input_shapes '" + value + "': ";
  const std::string form = " (write name:1x3x224x224[,name2:...])";
  if (value.empty()) return where + "empty" + form;
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const std::string& entry : split(value, ',')) {
    // Names may contain ':' ("input:0"): the shape follows the last one.
    size_t colon = entry.rfind(':');
    if (colon == std::string::npos) return where + "entry '" + entry + "' has no ':'" + form;
    std::string name = entry.substr(0, colon), dims_text = entry.substr(colon + 1);
    if (name.empty()) return where + "entry '" + entry + "' has no input name" + form;
    if (dims_text.empty()) return where + "input '" + name + "' has no dimensions" + form;
    std::vector<int64_t> dims;
    for (const std::string& d : split(dims_text, 'x')) {
      int64_t n = 0;
      if (!parse_int(d, &n) || n <= 0) {
        return where + "dimension '" + d + "' of input '" + name + "' is not a positive integer";
      }
      dims.push_back(n);
    }
    if (!shapes.emplace(name, std::move(dims)).second) return where + "input '" + name + "' given twice";
  }
  for (auto& [name, dims] : shapes) options->input_shapes[name] = std::move(dims);
  return "";
}

}  // namespace kiln
