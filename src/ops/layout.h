// The compute layout of convolution-type ops (Conv, ConvTranspose, MaxPool,
// AveragePool). `--layout NHWC` (passes/convert_layout) marks them with the
// attribute layout="NHWC": their activations (input 0 and the output) are then
// N, H, W, C instead of N, C, H, W; weights keep their logical ONNX shape.
#pragma once

#include <string>
#include <variant>

#include "ir/graph.h"

namespace kiln::ops {

inline constexpr const char* kLayoutAttr = "layout";
inline constexpr const char* kChannelsLast = "NHWC";

// True when the node computes on NHWC activations.
inline bool is_channels_last(const ir::Node& node) {
  auto it = node.attrs.all().find(kLayoutAttr);
  if (it == node.attrs.all().end()) return false;
  const std::string* s = std::get_if<std::string>(&it->second);
  return s && *s == kChannelsLast;
}

}  // namespace kiln::ops
