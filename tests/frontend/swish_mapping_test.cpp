// Swish (opset 24, frontend/onnx/math_ops.cpp): x * sigmoid(alpha * x), folded from a
// constant input with a non-default alpha and in float64 (the node test has
// float32 and alpha 1 only).
#include <cmath>

#include "onnx_builder.h"
#include "passes/constant_fold.h"

namespace kiln::frontend::testing {
namespace {

class SwishMappingTest : public FrontendTest {};

TEST_F(SwishMappingTest, AlphaAndFloat64) {
  std::vector<double> x = {-6.0, -1.5, -0.25, 0.0, 0.5, 2.0, 9.0};
  onnx::ModelProto m = make_model(24);
  auto* t = m.mutable_graph()->add_initializer();
  t->set_name("x");
  t->set_data_type(onnx::TensorProto::DOUBLE);
  t->add_dims(static_cast<int64_t>(x.size()));
  for (double v : x) t->add_double_data(v);
  auto* n = add_node(m, "Swish", {"x"}, {"y"}, "swish");
  auto* a = n->add_attribute();
  a->set_name("alpha");
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(1.702f);
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  ASSERT_TRUE(passes::fold_constants(*g).is_ok());
  const ir::Value* y = output(*g, "y");
  ASSERT_TRUE(y && y->constant);
  ASSERT_EQ(y->type.dtype, DType::kF64);
  const double* got = y->constant->data<double>();
  for (size_t i = 0; i < x.size(); ++i) {
    double want = x[i] / (1 + std::exp(-static_cast<double>(1.702f) * x[i]));
    EXPECT_NEAR(got[i], want, 1e-6 * std::max(1.0, std::fabs(want))) << x[i];
  }
}

}  // namespace
}  // namespace kiln::frontend::testing
