// The per-layer precision table of `kiln inspect`, read from model metadata.
#pragma once

#include <string>
#include <vector>

namespace kiln::cli {

struct LayerRow {
  std::string kernel, precision, reason;
};

// The "layers" of model metadata (kernel, precision, precision_reason of each);
// empty when the JSON has none or is malformed.
std::vector<LayerRow> layer_rows(const std::string& json);

// "29 kernels: 27 int8, 2 fp32" then one line per kernel, for `kiln inspect`.
std::string layer_table(const std::vector<LayerRow>& rows);

}  // namespace kiln::cli
