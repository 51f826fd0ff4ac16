// Lowering of Det against a cofactor-expansion reference: batches of 1x1 to 5x5
// matrices (rows needing pivoting, singular ones, a zero leading pivot) in
// float32 and float64.
#include "lower_harness.h"

namespace kiln::ops::testing {
namespace {

using ir::OpKind;

using LowerDetTest = OneNodeTest;

double cofactor_det(const std::vector<double>& a, int64_t m) {
  if (m == 1) return a[0];
  double det = 0;
  for (int64_t j = 0; j < m; ++j) {
    std::vector<double> minor;
    for (int64_t i = 1; i < m; ++i)
      for (int64_t k = 0; k < m; ++k)
        if (k != j) minor.push_back(a[i * m + k]);
    det += (j % 2 ? -1 : 1) * a[j] * cofactor_det(minor, m - 1);
  }
  return det;
}

TEST_F(LowerDetTest, BatchesOfSmallMatrices) {
  for (DType t : {DType::kF32, DType::kF64})
    for (int64_t m : {1, 2, 3, 5}) {
      HostTensor x = HostTensor::random(t, {2, 3, m, m}, 7 + m, -2, 2);
      std::vector<double> v = x.values();
      if (m >= 2) {
        for (int64_t j = 0; j < m; ++j) v[j] = 0;                      // matrix 0: a zero row (singular)
        for (int64_t j = 0; j < m; ++j) v[m * m + j * m] = 0;          // matrix 1: a zero first column
        v[2 * m * m] = 0;                                             // matrix 2: zero leading pivot
        for (int64_t j = 0; j < m; ++j) v[3 * m * m + m + j] = v[3 * m * m + j];  // matrix 3: equal rows
        x = HostTensor::of(t, {2, 3, m, m}, v);
      }
      std::vector<double> want;
      for (int64_t b = 0; b < 6; ++b)
        want.push_back(cofactor_det(std::vector<double>(v.begin() + b * m * m, v.begin() + (b + 1) * m * m), m));
      SCOPED_TRACE(std::string(dtype_name(t)) + " " + std::to_string(m) + "x" + std::to_string(m));
      const ir::Node& n = node(OpKind::kDet, {x});
      check_node(n, {x}, want, t == DType::kF32 ? 1e-5 : 1e-12);
    }
}

TEST_F(LowerDetTest, RejectsNonSquare) {
  ir::Value* x = g_.add_input("x", ir::TensorType{DType::kF32, {2, 3, 4}});
  auto n = g_.add_node(OpKind::kDet, "det", {x});
  ASSERT_FALSE(n.has_value());
  EXPECT_EQ(n.status().message(), "Det 'det': Det needs square matrices in the last two dimensions, got float32[2x3x4]");
}

}  // namespace
}  // namespace kiln::ops::testing
