// Tests of initializer data: typed fields, raw_data, size checks and external
// data (frontend/onnx/tensor.cpp).
#include "frontend/onnx/tensor.h"

#include "onnx_builder.h"

namespace kiln::frontend::testing {
namespace {

class TensorTest : public FrontendTest {};

std::string f32_bytes(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

// y = x + w with w of `dims` (external or in-file, set up by the caller).
onnx::ModelProto add_model(onnx::TensorProto** w) {
  onnx::ModelProto m = make_model();
  add_input(m, "x", {"4"});
  *w = m.mutable_graph()->add_initializer();
  (*w)->set_name("w");
  (*w)->set_data_type(onnx::TensorProto::FLOAT);
  (*w)->add_dims(4);
  add_node(m, "Add", {"x", "w"}, {"y"}, "add");
  add_output(m, "y");
  return m;
}

void set_external(onnx::TensorProto* t, const std::string& location, int64_t offset = -1, int64_t length = -1) {
  t->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* kv = t->add_external_data();
  kv->set_key("location");
  kv->set_value(location);
  if (offset >= 0) {
    kv = t->add_external_data();
    kv->set_key("offset");
    kv->set_value(std::to_string(offset));
  }
  if (length >= 0) {
    kv = t->add_external_data();
    kv->set_key("length");
    kv->set_value(std::to_string(length));
  }
}

const ir::Tensor& add_constant(const ir::Graph& g) {
  const ir::Node* add = only_node(g, ir::OpKind::kAdd);
  EXPECT_TRUE(add->inputs[1]->is_constant());
  return *add->inputs[1]->constant;
}

TEST_F(TensorTest, RawData) {
  onnx::TensorProto* w;
  onnx::ModelProto m = add_model(&w);
  w->set_raw_data(f32_bytes({1, 2, 3, 4}));
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(f32_values(add_constant(*g)), (std::vector<float>{1, 2, 3, 4}));
}

TEST_F(TensorTest, RawDataSizeMismatchNamesTensor) {
  onnx::TensorProto* w;
  onnx::ModelProto m = add_model(&w);
  w->set_raw_data(f32_bytes({1, 2, 3}));
  std::string msg = import_error(m);
  EXPECT_TRUE(contains(msg, "tensor 'w': holds 12 bytes (3 elements) but its dims [4] float32 need 16 bytes"));
}

TEST_F(TensorTest, TypedFieldCountMismatch) {
  onnx::TensorProto* w;
  onnx::ModelProto m = add_model(&w);
  for (float v : {1.f, 2.f, 3.f, 4.f, 5.f}) w->add_float_data(v);
  EXPECT_TRUE(contains(import_error(m), "tensor 'w': holds 20 bytes (5 elements)"));
}

TEST_F(TensorTest, NarrowTypesFromInt32Data) {
  onnx::TensorProto t;
  t.set_name("q");
  t.set_data_type(onnx::TensorProto::INT8);
  t.add_dims(3);
  for (int v : {-1, 5, 127}) t.add_int32_data(v);
  auto r = tensor_from_proto(t, dir_);
  ASSERT_TRUE(r.has_value()) << r.status().message();
  EXPECT_EQ(r->type().dtype, DType::kI8);
  EXPECT_EQ(r->get_i64(0), -1);
  EXPECT_EQ(r->get_i64(2), 127);

  t.set_data_type(onnx::TensorProto::FLOAT16);  // half bits in int32_data
  t.clear_int32_data();
  for (int v : {0x3c00, 0xc000, 0x0000}) t.add_int32_data(v);
  r = tensor_from_proto(t, dir_);
  ASSERT_TRUE(r.has_value()) << r.status().message();
  EXPECT_EQ(r->type().dtype, DType::kF16);
  EXPECT_EQ(r->get_f64(0), 1.0);
  EXPECT_EQ(r->get_f64(1), -2.0);
}

TEST_F(TensorTest, UnsupportedElementType) {
  onnx::TensorProto t;
  t.set_name("s");
  t.set_data_type(onnx::TensorProto::STRING);
  auto r = tensor_from_proto(t, dir_);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.status().message(), "tensor 's': element type STRING is not supported");
}

TEST_F(TensorTest, ExternalData) {
  write_bytes("weights.bin", "PAD!" + f32_bytes({5, 6, 7, 8}));
  onnx::TensorProto* w;
  onnx::ModelProto m = add_model(&w);
  set_external(w, "weights.bin", 4, 16);
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(f32_values(add_constant(*g)), (std::vector<float>{5, 6, 7, 8}));
}

TEST_F(TensorTest, ExternalDataInSubfolderWithoutLength) {
  write_bytes("data/w.bin", f32_bytes({1, 1, 2, 2}));
  onnx::TensorProto* w;
  onnx::ModelProto m = add_model(&w);
  set_external(w, "data/w.bin");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  EXPECT_EQ(f32_values(add_constant(*g)), (std::vector<float>{1, 1, 2, 2}));
}

TEST_F(TensorTest, ExternalDataEscapingWithDotDot) {
  write_bytes("x.bin", f32_bytes({1, 2, 3, 4}));
  onnx::TensorProto* w;
  onnx::ModelProto m = add_model(&w);
  set_external(w, "../x.bin");
  std::string p = write_model(m, "inner/model.onnx");
  auto g = import_onnx(p, {});
  ASSERT_FALSE(g.has_value());
  EXPECT_TRUE(contains(g.status().message(), "tensor 'w': external data location '../x.bin' contains '..'"));
}

TEST_F(TensorTest, ExternalDataAbsolutePath) {
  std::string abs = write_bytes("x.bin", f32_bytes({1, 2, 3, 4}));
  onnx::TensorProto* w;
  onnx::ModelProto m = add_model(&w);
  set_external(w, abs);
  EXPECT_TRUE(contains(import_error(m), "tensor 'w': external data location '" + abs + "' is absolute"));
}

TEST_F(TensorTest, ExternalDataSymlinkOutside) {
  std::string outside = write_bytes("outside/x.bin", f32_bytes({1, 2, 3, 4}));
  std::filesystem::create_directories(path("m"));
  std::filesystem::create_symlink(outside, path("m/link.bin"));
  onnx::TensorProto* w;
  onnx::ModelProto m = add_model(&w);
  set_external(w, "link.bin");
  auto g = import_onnx(write_model(m, "m/model.onnx"), {});
  ASSERT_FALSE(g.has_value());
  EXPECT_TRUE(contains(g.status().message(), "'link.bin' resolves outside the model's folder"));
}

TEST_F(TensorTest, ExternalDataBeyondFileEnd) {
  write_bytes("short.bin", f32_bytes({1, 2}));
  onnx::TensorProto* w;
  onnx::ModelProto m = add_model(&w);
  set_external(w, "short.bin", 0, 16);
  EXPECT_TRUE(contains(import_error(m),
                       "tensor 'w': external data offset 0 + length 16 is beyond the end of 'short.bin' (8 bytes)"));
}

TEST_F(TensorTest, ExternalDataMissingFile) {
  onnx::TensorProto* w;
  onnx::ModelProto m = add_model(&w);
  set_external(w, "gone.bin");
  EXPECT_TRUE(contains(import_error(m), "tensor 'w': external data file 'gone.bin' not found"));
}

TEST_F(TensorTest, SubByteTypesAreUnpackedToOneElementPerByte) {
  // int4 [5] packed low nibble first: -1, 7, -8, 2, 3 -> bytes 0x7F, 0x28, 0x03 (last one padded).
  onnx::TensorProto t;
  t.set_name("w");
  t.set_data_type(22);  // INT4
  t.add_dims(5);
  t.set_raw_data(std::string("\x7F\x28\x03", 3));
  auto r = tensor_from_proto(t, "");
  ASSERT_TRUE(r.has_value()) << r.status().message();
  EXPECT_EQ(r->type().str(), "int4[5]");
  EXPECT_EQ(r->to_i64_vector(), (std::vector<int64_t>{-1, 7, -8, 2, 3}));
  EXPECT_EQ(r->data<uint8_t>()[0], 0x0F);  // the low bits only

  // uint2 [6] in int32_data, one packed byte per int32 (as onnx.helper writes it).
  onnx::TensorProto u;
  u.set_name("u");
  u.set_data_type(25);  // UINT2
  u.add_dims(2);
  u.add_dims(3);
  u.add_int32_data(0xE4);  // 0, 1, 2, 3
  u.add_int32_data(0x0D);  // 1, 3
  auto q = tensor_from_proto(u, "");
  ASSERT_TRUE(q.has_value()) << q.status().message();
  EXPECT_EQ(q->to_i64_vector(), (std::vector<int64_t>{0, 1, 2, 3, 1, 3}));

  t.set_raw_data(std::string("\x7F\x28", 2));
  EXPECT_TRUE(contains(tensor_from_proto(t, "").status().message(),
                       "tensor 'w': holds 2 bytes (4 elements) but its dims [5] int4 need 3 bytes"));
}

TEST_F(TensorTest, NewTypesFromTypedFields) {
  onnx::TensorProto t;
  t.set_name("u");
  t.set_data_type(onnx::TensorProto::UINT64);
  t.add_dims(2);
  t.add_uint64_data(18446744073709551615ull);
  t.add_uint64_data(3);
  auto r = tensor_from_proto(t, "");
  ASSERT_TRUE(r.has_value()) << r.status().message();
  EXPECT_EQ(r->data<uint64_t>()[0], 18446744073709551615ull);

  onnx::TensorProto b;
  b.set_name("b");
  b.set_data_type(onnx::TensorProto::BFLOAT16);
  b.add_dims(1);
  b.add_int32_data(0x4049);  // bfloat16 bits, one per int32
  auto q = tensor_from_proto(b, "");
  ASSERT_TRUE(q.has_value()) << q.status().message();
  EXPECT_EQ(q->get_f64(0), 3.140625);

  onnx::TensorProto s;
  s.set_name("s");
  s.set_data_type(onnx::TensorProto::INT16);
  s.add_dims(1);
  s.add_int32_data(-300);
  auto v = tensor_from_proto(s, "");
  ASSERT_TRUE(v.has_value()) << v.status().message();
  EXPECT_EQ(v->get_i64(0), -300);
}

}  // namespace
}  // namespace kiln::frontend::testing
