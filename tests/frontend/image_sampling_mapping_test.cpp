// Tests of the composed mappers in frontend/onnx/sampling.cpp (AffineGrid, GridSample)
// and image_ops.cpp (CenterCropPad, MaxUnpool, Col2Im): values folded from constant
// inputs against direct C++ references, for cases the ONNX node tests leave out, and
// the errors that name the node.
#include <cmath>

#include "onnx_builder.h"
#include "passes/constant_fold.h"

namespace kiln::frontend::testing {
namespace {

using ir::OpKind;
using Ints = std::vector<int64_t>;

class ImageSamplingMappingTest : public FrontendTest {};

std::vector<float> ramp(int64_t n, float scale = 1.f) {
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = scale * static_cast<float>((i * 5) % 13 - 6);
  return v;
}

TEST_F(ImageSamplingMappingTest, AffineGrid3dWithUnitDimension) {
  // D = 1 (its coordinate is 0 with align_corners), H = 2, W = 3; two thetas.
  const Ints size = {2, 1, 1, 2, 3};
  std::vector<float> theta = ramp(2 * 3 * 4, 0.25f);
  onnx::ModelProto m = make_model(20);
  add_f32_initializer(m, "theta", {2, 3, 4}, theta);
  add_i64_initializer(m, "size", {5}, size);
  auto* n = add_node(m, "AffineGrid", {"theta", "size"}, {"grid"}, "ag");
  set_attr(n, "align_corners", int64_t{1});
  add_output(m, "grid");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(output(*g, "grid")->type.shape, (ir::Shape{2, 1, 2, 3, 3}));
  std::vector<float> got = folded(*g, "grid");
  ASSERT_EQ(got.size(), 36u);
  auto lin = [](int64_t i, int64_t len) { return len == 1 ? 0.0 : -1.0 + 2.0 * i / (len - 1); };
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t h = 0; h < 2; ++h)
      for (int64_t w = 0; w < 3; ++w) {
        double base[4] = {lin(w, 3), lin(h, 2), lin(0, 1), 1.0};
        for (int64_t j = 0; j < 3; ++j) {
          double want = 0;
          for (int64_t k = 0; k < 4; ++k) want += theta[(b * 3 + j) * 4 + k] * base[k];
          EXPECT_NEAR(got[((b * 2 + h) * 3 + w) * 3 + j], want, 1e-5) << b << " " << h << " " << w << " " << j;
        }
      }
}

TEST_F(ImageSamplingMappingTest, AffineGridNeedsConstantSizeAndMatchingTheta) {
  onnx::ModelProto m = make_model(20);
  add_input(m, "theta", {"1", "2", "3"});
  add_input(m, "size", {"4"}, onnx::TensorProto::INT64);
  add_node(m, "AffineGrid", {"theta", "size"}, {"grid"}, "ag");
  add_output(m, "grid");
  EXPECT_EQ(import_error(m), "AffineGrid 'ag': a non-constant size input is not supported");
  onnx::ModelProto m2 = make_model(20);
  add_input(m2, "theta", {"1", "2", "3"});
  add_i64_initializer(m2, "size", {5}, {1, 1, 2, 2, 2});
  add_node(m2, "AffineGrid", {"theta", "size"}, {"grid"}, "ag");
  add_output(m2, "grid");
  EXPECT_EQ(import_error(m2),
            "AffineGrid 'ag': theta must be [1, 3, 4] for size of 3 spatial dims, got float32[1x2x3]");
}

TEST_F(ImageSamplingMappingTest, GridSampleOpset16NamesAndBadMode) {
  onnx::ModelProto m = make_model(16);
  add_input(m, "x", {"1", "1", "4", "4"});
  add_input(m, "grid", {"1", "2", "2", "2"});
  auto* n = add_node(m, "GridSample", {"x", "grid"}, {"y"}, "gs");
  set_attr(n, "mode", std::string("bicubic"));
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  const ir::Node* node = only_node(*g, OpKind::kGridSample);
  EXPECT_EQ(std::get<std::string>(node->attrs.all().at("mode")), "cubic");
  EXPECT_EQ(output(*g, "y")->type.shape, (ir::Shape{1, 1, 2, 2}));
  set_attr(n, "padding_mode", std::string("wrap"));
  EXPECT_EQ(import_error(m), "GridSample 'gs': padding_mode 'wrap' is not zeros, border or reflection");
}

TEST_F(ImageSamplingMappingTest, CenterCropPadCropsOneAxisPadsAnotherOddAmounts) {
  // [5, 4, 2] -> [2, 7, 2]: crop 3 rows (start 1), pad 3 columns (1 before, 2 after).
  std::vector<float> x = ramp(5 * 4 * 2);
  onnx::ModelProto m = make_model(18);
  add_f32_initializer(m, "x", {5, 4, 2}, x);
  add_i64_initializer(m, "shape", {3}, {2, 7, 2});
  add_node(m, "CenterCropPad", {"x", "shape"}, {"y"}, "ccp");
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  std::vector<float> got = folded(*g, "y");
  ASSERT_EQ(got.size(), 28u);
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 7; ++j)
      for (int64_t c = 0; c < 2; ++c) {
        int64_t src = j - 1;
        float want = src >= 0 && src < 4 ? x[((i + 1) * 4 + src) * 2 + c] : 0.f;
        EXPECT_EQ(got[(i * 7 + j) * 2 + c], want) << i << " " << j << " " << c;
      }
}

TEST_F(ImageSamplingMappingTest, CenterCropPadRejectsRepeatedAxis) {
  onnx::ModelProto m = make_model(18);
  add_input(m, "x", {"4", "4"});
  add_i64_initializer(m, "shape", {2}, {2, 2});
  auto* n = add_node(m, "CenterCropPad", {"x", "shape"}, {"y"}, "ccp");
  set_attr(n, "axes", Ints{1, -1});
  add_output(m, "y");
  EXPECT_EQ(import_error(m), "CenterCropPad 'ccp': axis -1 is repeated");
}

TEST_F(ImageSamplingMappingTest, MaxUnpool3dIntoLargerOutputShape) {
  // X [1, 1, 1, 2, 2] from a 2x2x2 pool with stride 2 over [1, 1, 2, 4, 4]; output 2x5x5.
  std::vector<float> x = {1.5f, -2.f, 3.f, 4.25f};
  Ints idx = {5, 14, 16 + 9, 16 + 15};  // flat indices in the 2x4x4 unpooled volume
  onnx::ModelProto m = make_model(11);
  add_f32_initializer(m, "x", {1, 1, 1, 2, 2}, x);
  add_i64_initializer(m, "i", {1, 1, 1, 2, 2}, idx);
  add_i64_initializer(m, "shape", {5}, {1, 1, 2, 5, 5});
  auto* n = add_node(m, "MaxUnpool", {"x", "i", "shape"}, {"y"}, "unpool");
  set_attr(n, "kernel_shape", Ints{2, 2, 2});
  set_attr(n, "strides", Ints{2, 2, 2});
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(output(*g, "y")->type.shape, (ir::Shape{1, 1, 2, 5, 5}));
  std::vector<float> got = folded(*g, "y");
  std::vector<float> want(50, 0.f);
  for (size_t k = 0; k < 4; ++k) {
    int64_t d = idx[k] / 16, h = idx[k] / 4 % 4, w = idx[k] % 4;
    want[(d * 5 + h) * 5 + w] = x[k];
  }
  EXPECT_EQ(got, want);
}

TEST_F(ImageSamplingMappingTest, MaxUnpoolRejectsSmallOutputShape) {
  onnx::ModelProto m = make_model(11);
  add_input(m, "x", {"1", "1", "2", "2"});
  add_input(m, "i", {"1", "1", "2", "2"}, onnx::TensorProto::INT64);
  add_i64_initializer(m, "shape", {4}, {1, 1, 3, 3});
  auto* n = add_node(m, "MaxUnpool", {"x", "i", "shape"}, {"y"}, "unpool");
  set_attr(n, "kernel_shape", Ints{2, 2});
  set_attr(n, "strides", Ints{2, 2});
  add_output(m, "y");
  EXPECT_EQ(import_error(m), "MaxUnpool 'unpool': output_shape [1,1,3,3] is smaller than the unpooled shape [1,1,4,4]");
}

TEST_F(ImageSamplingMappingTest, Col2ImNeedsConstantShapes) {
  onnx::ModelProto m = make_model(18);
  add_input(m, "x", {"1", "4", "4"});
  add_input(m, "image", {"2"}, onnx::TensorProto::INT64);
  add_i64_initializer(m, "block", {2}, {2, 2});
  add_node(m, "Col2Im", {"x", "image", "block"}, {"y"}, "c2i");
  add_output(m, "y");
  EXPECT_EQ(import_error(m), "Col2Im 'c2i': a non-constant image_shape input is not supported");
}

}  // namespace
}  // namespace kiln::frontend::testing
