// Helpers for the pass tests that build graphs by hand.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "base/status.h"
#include "ir/graph.h"

namespace kiln::passes::testing {

// The value of a node built by hand; fails the test (and returns null) on an error.
inline ir::Value* must(Expected<ir::Value*> v) {
  EXPECT_TRUE(v) << v.status().message();
  return v ? *v : nullptr;
}

// A float32 tensor of `shape` whose element i is f(i).
inline ir::Tensor f32_tensor(const ir::Shape& shape, const std::function<float(int64_t)>& f) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = f(i);
  return ir::Tensor::from_f32(shape, v);
}

}  // namespace kiln::passes::testing
