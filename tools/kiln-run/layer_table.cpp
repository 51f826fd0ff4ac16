// A small JSON reader for the metadata's "layers" array: enough structure to
// pick three string fields out of each object and skip everything else.
#include "layer_table.h"

#include <algorithm>
#include <map>

namespace kiln::cli {
namespace {

class Reader {
 public:
  explicit Reader(const std::string& s) : s_(s) {}
  bool ok() const { return ok_; }

  void skip_blank() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
  }
  bool peek(char c) {
    skip_blank();
    return i_ < s_.size() && s_[i_] == c;
  }
  bool eat(char c) {
    if (!peek(c)) return fail();
    ++i_;
    return true;
  }
  // A string with its escapes decoded (\uXXXX kept as written).
  std::string string() {
    std::string out;
    if (!eat('"')) return out;
    while (i_ < s_.size() && s_[i_] != '"') {
      char c = s_[i_++];
      if (c == '\\' && i_ < s_.size()) {
        char e = s_[i_++];
        switch (e) {
          case 'n': out += '\n'; break;
          case 't': out += '\t'; break;
          case 'u': out += "\\u"; break;
          default: out += e;
        }
      } else {
        out += c;
      }
    }
    if (i_ >= s_.size()) fail();
    ++i_;
    return out;
  }
  void skip_value(int depth = 0) {
    if (depth > 64) {
      fail();
      return;
    }
    skip_blank();
    if (i_ >= s_.size()) {
      fail();
      return;
    }
    char c = s_[i_];
    if (c == '"') {
      string();
    } else if (c == '{' || c == '[') {
      char close = c == '{' ? '}' : ']';
      ++i_;
      if (peek(close)) {
        ++i_;
        return;
      }
      while (ok_) {
        if (c == '{') {
          string();
          eat(':');
        }
        skip_value(depth + 1);
        if (peek(',')) {
          ++i_;
          continue;
        }
        eat(close);
        break;
      }
    } else {
      while (i_ < s_.size() && s_[i_] != ',' && s_[i_] != '}' && s_[i_] != ']') ++i_;
    }
  }
  // Calls fn(key) for each member of an object; fn consumes the value.
  template <typename Fn>
  void members(Fn fn) {
    if (!eat('{')) return;
    if (peek('}')) {
      ++i_;
      return;
    }
    while (ok_) {
      std::string key = string();
      eat(':');
      fn(key);
      if (peek(',')) {
        ++i_;
        continue;
      }
      eat('}');
      break;
    }
  }

 private:
  bool fail() {
    ok_ = false;
    i_ = s_.size();
    return false;
  }
  const std::string& s_;
  size_t i_ = 0;
  bool ok_ = true;
};

}  // namespace

std::vector<LayerRow> layer_rows(const std::string& json) {
  std::vector<LayerRow> rows;
  Reader r(json);
  r.members([&](const std::string& key) {
    if (key != "layers" || !r.peek('[')) return r.skip_value();
    r.eat('[');
    if (r.peek(']')) return (void)r.eat(']');
    while (r.ok()) {
      LayerRow row;
      r.members([&](const std::string& k) {
        if (k == "kernel" && r.peek('"')) row.kernel = r.string();
        else if (k == "precision" && r.peek('"')) row.precision = r.string();
        else if (k == "precision_reason" && r.peek('"')) row.reason = r.string();
        else r.skip_value();
      });
      rows.push_back(row);
      if (r.peek(',')) {
        r.eat(',');
        continue;
      }
      r.eat(']');
      break;
    }
  });
  if (!r.ok()) rows.clear();
  return rows;
}

std::string layer_table(const std::vector<LayerRow>& rows) {
  std::map<std::string, int> counts;
  size_t width = 6;
  for (const auto& row : rows) {
    ++counts[row.precision.empty() ? "?" : row.precision];
    width = std::max(width, row.kernel.size());
  }
  std::string out = std::to_string(rows.size()) + " kernels";
  std::string sep = ": ";
  for (const auto& [p, n] : counts) out += sep + std::to_string(n) + " " + p, sep = ", ";
  out += "\n";
  for (const auto& row : rows) {
    out += "  " + row.kernel + std::string(width - row.kernel.size() + 2, ' ') + row.precision;
    out += std::string(row.precision.size() < 6 ? 6 - row.precision.size() : 1, ' ') + row.reason + "\n";
  }
  return out;
}

}  // namespace kiln::cli
