// A tiny JSON re-indenter: walks the characters, tracking strings and nesting.
#include "json_pretty.h"

namespace kiln::cli {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Short arrays of scalars ("shape": [1, 3, 224, 224]) stay on one line.
constexpr size_t kInlineArrayChars = 72;

// If json[i] == '[' opens an array of scalars that fits on a line, appends it
// compactly, sets *end to its ']' and returns true.
bool append_inline_array(const std::string& json, size_t i, std::string* out, size_t* end) {
  std::string line = "[";
  bool in_string = false;
  for (size_t j = i + 1; j < json.size() && line.size() <= kInlineArrayChars; ++j) {
    const char c = json[j];
    if (in_string) {
      line.push_back(c);
      if (c == '\\' && j + 1 < json.size()) line.push_back(json[++j]);
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '{' || c == '[') return false;
    if (is_blank(c)) continue;
    if (c == '"') in_string = true;
    if (c == ']') {
      *out += line + "]";
      *end = j;
      return true;
    }
    line += c == ',' ? std::string(", ") : std::string(1, c);
  }
  return false;
}

void newline(std::string* out, int depth) {
  out->push_back('\n');
  out->append(static_cast<size_t>(depth > 0 ? depth : 0) * 2, ' ');
}

}  // namespace

std::string pretty_json(const std::string& json) {
  std::string out;
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      out.push_back(c);
      if (c == '\\' && i + 1 < json.size()) out.push_back(json[++i]);
      else if (c == '"') in_string = false;
      continue;
    }
    if (is_blank(c)) continue;
    switch (c) {
      case '"':
        in_string = true;
        out.push_back(c);
        break;
      case '{':
      case '[': {
        size_t j = i + 1;
        while (j < json.size() && is_blank(json[j])) ++j;
        const char close = c == '{' ? '}' : ']';
        if (c == '[' && append_inline_array(json, i, &out, &i)) break;
        if (j < json.size() && json[j] == close) {  // empty: "{}" / "[]"
          out.push_back(c);
          out.push_back(close);
          i = j;
          break;
        }
        out.push_back(c);
        newline(&out, ++depth);
        break;
      }
      case '}':
      case ']':
        newline(&out, --depth);
        out.push_back(c);
        break;
      case ',':
        out.push_back(c);
        newline(&out, depth);
        break;
      case ':':
        out += ": ";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace kiln::cli
