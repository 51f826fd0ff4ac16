// Tests of frontend/onnx/rnn.cpp: RNN/GRU/LSTM become one input-projection MatMul
// and one RnnSequence whose stacked output is sliced into Y, Y_h, Y_c; activation
// alphas/betas are taken in order by the functions that use them; batch-first
// layout is transposed around the op; bad shapes and attributes name the node.
// ReverseSequence with batch on axis 0, int32 lengths and 0 / full lengths.
#include "onnx_builder.h"
#include "passes/constant_fold.h"

namespace kiln::frontend::testing {
namespace {

using ir::OpKind;

class RnnMappingTest : public FrontendTest {};

const std::vector<double>& floats(const ir::Node* n, const std::string& name) {
  return std::get<std::vector<double>>(n->attrs.all().at(name));
}

TEST_F(RnnMappingTest, BidirectionalBatchFirstLstm) {
  const int64_t batch = 2, seq = 5, in = 3, h = 4;
  onnx::ModelProto m = make_model(14);
  add_input(m, "x", {"2", "5", "3"});
  add_f32_initializer(m, "w", {2, 4 * h, in}, std::vector<float>(2 * 4 * h * in, 0.1f));
  add_f32_initializer(m, "r", {2, 4 * h, h}, std::vector<float>(2 * 4 * h * h, 0.1f));
  add_f32_initializer(m, "b", {2, 8 * h}, std::vector<float>(2 * 8 * h, 0.1f));
  auto* n = add_node(m, "LSTM", {"x", "w", "r", "b"}, {"y", "y_h", "y_c"}, "lstm");
  set_attr(n, "direction", std::string("bidirectional"));
  set_attr(n, "hidden_size", h);
  set_attr(n, "layout", int64_t{1});
  for (const char* o : {"y", "y_h", "y_c"}) add_output(m, o);
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  const ir::Node* rnn = only_node(*g, OpKind::kRnnSequence);
  EXPECT_EQ(rnn->inputs[0]->type.shape, (ir::Shape{2, seq, batch, 4 * h}));  // XW
  EXPECT_EQ(rnn->inputs[1]->type.shape, (ir::Shape{2, h, 4 * h}));          // R^T
  EXPECT_EQ(rnn->outputs[0]->type.shape, (ir::Shape{seq + 2, 2, batch, h}));
  EXPECT_EQ(rnn->attrs.get_ints("reverse"), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(std::get<std::string>(rnn->attrs.all().at("activations")), "Sigmoid,Tanh,Tanh,Sigmoid,Tanh,Tanh");
  EXPECT_EQ(only_node(*g, OpKind::kMatMul)->outputs[0]->type.shape, (ir::Shape{2, seq * batch, 4 * h}));
  EXPECT_EQ(output(*g, "y")->type.shape, (ir::Shape{batch, seq, 2, h}));
  EXPECT_EQ(output(*g, "y_h")->type.shape, (ir::Shape{batch, 2, h}));
  EXPECT_EQ(output(*g, "y_c")->type.shape, (ir::Shape{batch, 2, h}));
}

TEST_F(RnnMappingTest, GruActivationParametersAndResetMode) {
  onnx::ModelProto m = make_model(17);
  add_input(m, "x", {"3", "1", "2"});
  add_input(m, "w", {"1", "6", "2"});
  add_input(m, "r", {"1", "6", "2"});
  auto* n = add_node(m, "GRU", {"x", "w", "r"}, {"", "y_h"}, "gru");
  // LeakyRelu takes the first alpha; Tanh takes none; defaults elsewhere.
  auto* acts = n->add_attribute();
  acts->set_name("activations");
  acts->set_type(onnx::AttributeProto::STRINGS);
  acts->add_strings("leakyrelu");
  acts->add_strings("Tanh");
  auto* alpha = n->add_attribute();
  alpha->set_name("activation_alpha");
  alpha->set_type(onnx::AttributeProto::FLOATS);
  alpha->add_floats(0.25f);
  set_attr(n, "linear_before_reset", int64_t{1});
  add_output(m, "y_h");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  const ir::Node* rnn = only_node(*g, OpKind::kRnnSequence);
  EXPECT_EQ(std::get<std::string>(rnn->attrs.all().at("activations")), "LeakyRelu,Tanh");
  EXPECT_EQ(floats(rnn, "alpha"), (std::vector<double>{0.25, 0.0}));
  EXPECT_EQ(rnn->attrs.get_int("linear_before_reset"), 1);
  ASSERT_EQ(rnn->inputs.size(), 5u);  // + Rbh (zeros without B)
  EXPECT_EQ(rnn->inputs[4]->type.shape, (ir::Shape{1, 2}));
  EXPECT_EQ(output(*g, "y_h")->type.shape, (ir::Shape{1, 1, 2}));
}

TEST_F(RnnMappingTest, ErrorsNameTheNode) {
  auto model = [](const std::vector<std::string>& w_dims, int64_t hidden, const std::string& act) {
    onnx::ModelProto m = make_model(17);
    add_input(m, "x", {"3", "1", "2"});
    add_input(m, "w", w_dims);
    add_input(m, "r", {"1", "4", "4"});
    auto* n = add_node(m, "RNN", {"x", "w", "r"}, {"y"}, "rnn");
    set_attr(n, "hidden_size", hidden);
    if (!act.empty()) {
      auto* a = n->add_attribute();
      a->set_name("activations");
      a->set_type(onnx::AttributeProto::STRINGS);
      a->add_strings(act);
    }
    add_output(m, "y");
    return m;
  };
  EXPECT_EQ(import_error(model({"1", "4", "3"}, 4, "")), "RNN 'rnn': W must be [1, 1*hidden, 2], got float32[1x4x3]");
  EXPECT_EQ(import_error(model({"1", "4", "2"}, 5, "")), "RNN 'rnn': hidden_size 5 does not match W float32[1x4x2]");
  EXPECT_EQ(import_error(model({"1", "4", "2"}, 4, "Swish")), "RNN 'rnn': activation 'Swish' is not supported");
}

TEST_F(RnnMappingTest, ReverseSequenceBatchMajorWithEdgeLengths) {
  // [batch 3, time 4, 2]; lengths 0 (unchanged), 4 (all reversed), 2.
  std::vector<float> x(3 * 4 * 2);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i);
  onnx::ModelProto m = make_model(17);
  add_f32_initializer(m, "x", {3, 4, 2}, x);
  auto* lens = m.mutable_graph()->add_initializer();
  lens->set_name("lens");
  lens->set_data_type(onnx::TensorProto::INT32);
  lens->add_dims(3);
  for (int32_t v : {0, 4, 2}) lens->add_int32_data(v);
  auto* n = add_node(m, "ReverseSequence", {"x", "lens"}, {"y"}, "rev");
  set_attr(n, "time_axis", int64_t{1});
  set_attr(n, "batch_axis", int64_t{0});
  add_output(m, "y");
  auto g = import_ok(m);
  ASSERT_TRUE(g);
  ASSERT_TRUE(passes::fold_constants(*g).is_ok());
  const ir::Value* y = output(*g, "y");
  ASSERT_TRUE(y && y->constant);
  std::vector<float> got = f32_values(*y->constant);
  const int64_t len[3] = {0, 4, 2};
  for (int64_t b = 0; b < 3; ++b)
    for (int64_t t = 0; t < 4; ++t)
      for (int64_t k = 0; k < 2; ++k) {
        int64_t src = t < len[b] ? len[b] - 1 - t : t;
        EXPECT_EQ(got[(b * 4 + t) * 2 + k], x[(b * 4 + src) * 2 + k]) << b << " " << t;
      }
}

TEST_F(RnnMappingTest, ReverseSequenceRejectsOtherAxes) {
  onnx::ModelProto m = make_model(17);
  add_input(m, "x", {"2", "3", "4"});
  add_input(m, "lens", {"3"}, onnx::TensorProto::INT64);
  auto* n = add_node(m, "ReverseSequence", {"x", "lens"}, {"y"}, "rev");
  set_attr(n, "time_axis", int64_t{2});
  add_output(m, "y");
  EXPECT_EQ(import_error(m), "ReverseSequence 'rev': time_axis 2 and batch_axis 1 must be 0 and 1 (either way round)");
}

}  // namespace
}  // namespace kiln::frontend::testing
