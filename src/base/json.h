// A small JSON writer for model.json and metadata (no parsing needed in the compiler).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kiln {

// Builds JSON text incrementally with correct commas, escaping and indentation.
class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(const std::string& k);
  JsonWriter& value(const std::string& s);
  JsonWriter& value(const char* s) { return value(std::string(s)); }
  JsonWriter& value(int64_t v);
  JsonWriter& value(int v) { return value(static_cast<int64_t>(v)); }
  JsonWriter& value(bool v);
  JsonWriter& value(const std::vector<int64_t>& v);
  const std::string& str() const { return out_; }

 private:
  void before_value();
  void newline();
  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

// JSON string literal for s (with quotes).
std::string json_quote(const std::string& s);

}  // namespace kiln
