// The explicit list of ONNX ops kiln maps, and their mappers.
#include "frontend/onnx/op_table.h"

#include <map>

namespace kiln::frontend {

Status map_attention(NodeContext& ctx);  // attention.cpp
Status map_rotary_embedding(NodeContext& ctx);  // attention.cpp
Status map_loss(NodeContext& ctx);       // loss.cpp: SoftmaxCrossEntropyLoss, NegativeLogLikelihoodLoss
Status map_rnn(NodeContext& ctx);        // rnn.cpp: RNN, GRU, LSTM
Status map_reverse_sequence(NodeContext& ctx);  // rnn.cpp
Status map_grid_sample(NodeContext& ctx);  // sampling.cpp
Status map_affine_grid(NodeContext& ctx);  // sampling.cpp
Status map_roi_align(NodeContext& ctx);  // sampling.cpp
Status map_det(NodeContext& ctx);  // sampling.cpp (one core op)
Status map_col2im(NodeContext& ctx);  // image_ops.cpp
Status map_center_crop_pad(NodeContext& ctx);  // image_ops.cpp
Status map_max_unpool(NodeContext& ctx);  // image_ops.cpp
Status map_deform_conv(NodeContext& ctx);  // image_ops.cpp
Status map_dft(NodeContext& ctx);  // signal_ops.cpp
Status map_stft(NodeContext& ctx);  // signal_ops.cpp
Status map_window(NodeContext& ctx);  // signal_ops.cpp: Hann/Hamming/BlackmanWindow
Status map_mel_weight_matrix(NodeContext& ctx);  // signal_ops.cpp
Status map_causal_conv_with_state(NodeContext& ctx);  // stateful_ops.cpp
Status map_tensor_scatter(NodeContext& ctx);  // stateful_ops.cpp
Status map_linear_attention(NodeContext& ctx);  // stateful_ops.cpp

// quantize.cpp
Status map_quantize_linear(NodeContext& ctx);
Status map_dequantize_linear(NodeContext& ctx);
Status map_dynamic_quantize_linear(NodeContext& ctx);
Status map_matmul_integer(NodeContext& ctx);
Status map_conv_integer(NodeContext& ctx);
Status map_qlinear_matmul(NodeContext& ctx);
Status map_qlinear_conv(NodeContext& ctx);
Status map_qlinear_binary(NodeContext& ctx);               // com.microsoft QLinearAdd, QLinearMul
Status map_qlinear_global_average_pool(NodeContext& ctx);  // com.microsoft
Status map_qlinear_concat(NodeContext& ctx);               // com.microsoft

const OpEntry* find_op(const std::string& op_type) {
  static const std::map<std::string, OpEntry> kTable = {
      // elementwise.cpp
      {"Relu", {map_unary, 1}}, {"Sigmoid", {map_unary, 1}}, {"Tanh", {map_unary, 1}}, {"HardSwish", {map_unary, 1}},
      {"Exp", {map_unary, 1}}, {"Log", {map_unary, 1}}, {"Sqrt", {map_unary, 1}}, {"Neg", {map_unary, 1}},
      {"Abs", {map_unary, 1}}, {"Erf", {map_unary, 1}}, {"Reciprocal", {map_unary, 1}}, {"Floor", {map_unary, 1}},
      {"Ceil", {map_unary, 1}}, {"Not", {map_unary, 1}},
      {"Sin", {map_unary, 1}}, {"Cos", {map_unary, 1}}, {"Tan", {map_unary, 1}}, {"Asin", {map_unary, 1}},
      {"Acos", {map_unary, 1}}, {"Atan", {map_unary, 1}},
      {"LeakyRelu", {map_leaky_relu, 1}}, {"HardSigmoid", {map_hard_sigmoid, 1}}, {"Clip", {map_clip, 1}},
      {"Cast", {map_cast, 1}}, {"CastLike", {map_cast_like, 2}},
      {"LessOrEqual", {map_compare_or_equal, 2}}, {"GreaterOrEqual", {map_compare_or_equal, 2}},
      {"Add", {map_binary, 2}}, {"Sub", {map_binary, 2}}, {"Mul", {map_binary, 2}}, {"Div", {map_binary, 2}},
      {"Equal", {map_binary, 2}}, {"Less", {map_binary, 2}}, {"Greater", {map_binary, 2}}, {"And", {map_binary, 2}},
      {"Or", {map_binary, 2}}, {"Pow", {map_pow, 2}},
      {"Max", {map_variadic, 1}}, {"Min", {map_variadic, 1}}, {"Sum", {map_variadic, 1}}, {"Mean", {map_variadic, 1}},
      {"Where", {map_where, 3}},
      // conv_pool.cpp
      {"Conv", {map_conv, 2}}, {"MaxPool", {map_pool, 1}}, {"AveragePool", {map_pool, 1}},
      {"GlobalAveragePool", {map_global_pool, 1}}, {"GlobalMaxPool", {map_global_pool, 1}},
      {"LpPool", {map_pool, 1}}, {"GlobalLpPool", {map_global_pool, 1}}, {"ConvTranspose", {map_conv_transpose, 2}},
      // resize.cpp
      {"Resize", {map_resize, 1}}, {"Upsample", {map_resize, 1}},
      // vision_ops.cpp
      {"Pad", {map_pad, 1}}, {"DepthToSpace", {map_depth_to_space, 1}}, {"SpaceToDepth", {map_space_to_depth, 1}},
      // norm_ops.cpp
      {"InstanceNormalization", {map_instance_norm, 3}}, {"GroupNormalization", {map_group_norm, 3}},
      {"LpNormalization", {map_lp_norm, 1}}, {"MeanVarianceNormalization", {map_mvn, 1}}, {"LRN", {map_lrn, 1}},
      {"RMSNormalization", {map_rms_norm, 2}},
      // reduce.cpp
      {"ReduceMean", {map_reduce, 1}}, {"ReduceSum", {map_reduce, 1}}, {"ReduceMax", {map_reduce, 1}},
      {"ReduceMin", {map_reduce, 1}},
      // matmul.cpp
      {"Gemm", {map_gemm, 2}}, {"MatMul", {map_matmul, 2}},
      // shape_ops.cpp
      {"Reshape", {map_reshape, 2}}, {"Flatten", {map_flatten, 1}}, {"Squeeze", {map_squeeze, 1}},
      {"Unsqueeze", {map_unsqueeze, 1}}, {"Transpose", {map_transpose, 1}}, {"Concat", {map_concat, 1}},
      {"Gather", {map_gather, 2}}, {"Shape", {map_shape, 1}},
      {"Identity", {map_identity, 1}}, {"Dropout", {map_identity, 1}},
      // constant_ops.cpp
      {"Constant", {map_constant, 0}}, {"ConstantOfShape", {map_constant_of_shape, 1}},
      {"Range", {map_range, 3}}, {"Size", {map_size, 1}},
      // split.cpp
      {"Split", {map_split, 1}},
      // slice_expand.cpp
      {"Slice", {map_slice, 1}}, {"Expand", {map_expand, 2}},
      // normalization.cpp
      {"BatchNormalization", {map_batch_norm, 5}}, {"LayerNormalization", {map_layer_norm, 2}},
      // softmax.cpp
      {"Softmax", {map_softmax, 1}}, {"LogSoftmax", {map_softmax, 1}},
      // math_ops.cpp
      {"ReduceL1", {map_reduce_composed, 1}}, {"ReduceL2", {map_reduce_composed, 1}},
      {"ReduceLogSum", {map_reduce_composed, 1}}, {"ReduceLogSumExp", {map_reduce_composed, 1}},
      {"ReduceProd", {map_reduce_composed, 1}}, {"ReduceSumSquare", {map_reduce_composed, 1}},
      {"Mod", {map_mod, 2}}, {"Xor", {map_xor, 2}}, {"Round", {map_unary, 1}},
      {"Elu", {map_math_composed, 1}}, {"Selu", {map_math_composed, 1}}, {"Celu", {map_math_composed, 1}},
      {"Softplus", {map_math_composed, 1}}, {"Softsign", {map_math_composed, 1}}, {"Mish", {map_math_composed, 1}}, {"Swish", {map_math_composed, 1}},
      {"ThresholdedRelu", {map_math_composed, 1}}, {"Shrink", {map_math_composed, 1}},
      {"Gelu", {map_math_composed, 1}}, {"PRelu", {map_math_composed, 2}}, {"Sign", {map_math_composed, 1}},
      {"IsNaN", {map_math_composed, 1}}, {"IsInf", {map_math_composed, 1}}, {"Sinh", {map_math_composed, 1}},
      {"Cosh", {map_math_composed, 1}}, {"Asinh", {map_math_composed, 1}}, {"Acosh", {map_math_composed, 1}},
      {"Atanh", {map_math_composed, 1}},
      // index_ops.cpp
      {"ArgMax", {map_argminmax, 1}}, {"ArgMin", {map_argminmax, 1}}, {"Hardmax", {map_hardmax, 1}},
      {"TopK", {map_topk, 1}}, {"CumSum", {map_cumsum, 2}}, {"CumProd", {map_cumsum, 2}}, {"GatherElements", {map_gather_elements, 2}},
      {"GatherND", {map_gather_nd, 2}}, {"Trilu", {map_trilu, 1}}, {"Tile", {map_tile, 2}},
      {"OneHot", {map_one_hot, 3}}, {"EyeLike", {map_eye_like, 1}},
      // einsum.cpp
      {"Einsum", {map_einsum, 1}},
      // scatter.cpp
      {"ScatterElements", {map_scatter, 3}}, {"Scatter", {map_scatter, 3}}, {"ScatterND", {map_scatter, 3}},
      // bitwise.cpp
      {"BitShift", {map_bitwise, 2}}, {"BitwiseAnd", {map_bitwise, 2}}, {"BitwiseOr", {map_bitwise, 2}},
      {"BitwiseXor", {map_bitwise, 2}}, {"BitwiseNot", {map_bitwise, 1}},
      // select_ops.cpp
      {"Compress", {map_compress, 2}}, {"NonZero", {map_nonzero, 1}},
      // attention.cpp
      {"Attention", {map_attention, 3}}, {"RotaryEmbedding", {map_rotary_embedding, 3}},
      // loss.cpp
      {"SoftmaxCrossEntropyLoss", {map_loss, 2}}, {"NegativeLogLikelihoodLoss", {map_loss, 2}},
      // rnn.cpp
      {"RNN", {map_rnn, 3}}, {"GRU", {map_rnn, 3}}, {"LSTM", {map_rnn, 3}},
      {"ReverseSequence", {map_reverse_sequence, 2}},
      // sampling.cpp
      {"GridSample", {map_grid_sample, 2}}, {"AffineGrid", {map_affine_grid, 2}},
      {"RoiAlign", {map_roi_align, 3}}, {"Det", {map_det, 1}},
      // image_ops.cpp
      {"Col2Im", {map_col2im, 3}}, {"CenterCropPad", {map_center_crop_pad, 2}}, {"MaxUnpool", {map_max_unpool, 2}},
      {"DeformConv", {map_deform_conv, 3}},
      // signal_ops.cpp
      {"DFT", {map_dft, 1}}, {"STFT", {map_stft, 2}}, {"HannWindow", {map_window, 1}},
      {"HammingWindow", {map_window, 1}}, {"BlackmanWindow", {map_window, 1}}, {"MelWeightMatrix", {map_mel_weight_matrix, 5}},
      // stateful_ops.cpp
      {"CausalConvWithState", {map_causal_conv_with_state, 2}}, {"TensorScatter", {map_tensor_scatter, 2}},
      {"LinearAttention", {map_linear_attention, 3}},
      // quantize.cpp
      {"QuantizeLinear", {map_quantize_linear, 2}}, {"DequantizeLinear", {map_dequantize_linear, 2}},
      {"DynamicQuantizeLinear", {map_dynamic_quantize_linear, 1}}, {"MatMulInteger", {map_matmul_integer, 2}},
      {"ConvInteger", {map_conv_integer, 2}}, {"QLinearMatMul", {map_qlinear_matmul, 8}},
      {"QLinearConv", {map_qlinear_conv, 8}},
  };
  auto it = kTable.find(op_type);
  return it == kTable.end() ? nullptr : &it->second;
}

const OpEntry* find_op_in(const std::string& domain, const std::string& op_type) {
  if (domain.empty() || domain == "ai.onnx") return find_op(op_type);
  if (domain != "com.microsoft") return nullptr;
  // ONNX Runtime's contrib ops that its quantizer emits in QOperator models.
  static const std::map<std::string, OpEntry> kMicrosoft = {
      {"QLinearAdd", {map_qlinear_binary, 2}}, {"QLinearMul", {map_qlinear_binary, 2}},
      {"QLinearGlobalAveragePool", {map_qlinear_global_average_pool, 2}},
      {"QLinearConcat", {map_qlinear_concat, 2}},
  };
  auto it = kMicrosoft.find(op_type);
  return it == kMicrosoft.end() ? nullptr : &it->second;
}

}  // namespace kiln::frontend
