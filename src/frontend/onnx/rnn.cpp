// ONNX RNN, GRU and LSTM: the input projections of every time step as one
// MatMul (X·W^T plus the biases), then the recurrence as one RnnSequence
// kernel (ops/recurrence.cpp), whose stacked output is sliced into Y, Y_h and
// Y_c. Batch-first layout (layout = 1) is transposed around it. Also
// ReverseSequence (what bidirectional layers are built from by hand): a
// GatherElements along the time axis with indices len-1-t below each length.
#include <algorithm>
#include <cctype>

#include "frontend/onnx/op_table.h"

namespace kiln::frontend {

using ir::OpKind;
using ir::Value;

namespace {

ir::Attrs perm(std::vector<int64_t> p) { return ir::Attrs().set("perm", std::move(p)); }

// n entries of `x` along `axis` from `start`.
Expected<Value*> slice_axis(NodeContext& ctx, Value* x, int64_t axis, int64_t start, int64_t n,
                            const std::string& what) {
  ir::Shape shape = x->type.shape;
  std::vector<int64_t> starts(shape.size(), 0), steps(shape.size(), 1);
  starts[axis] = start;
  shape[axis] = n;
  return ctx.add(OpKind::kSlice, {x}, ir::Attrs().set("starts", starts).set("steps", steps).set("shape", shape), what);
}

struct Activation {
  const char* name;
  int uses_alpha, uses_beta;  // how many of activation_alpha / activation_beta it takes
  double alpha, beta;         // defaults (ONNX Runtime's)
};

// The activation functions ONNX allows in recurrent ops.
const Activation* find_activation(const std::string& name) {
  static const Activation kTable[] = {
      {"Relu", 0, 0, 0, 0},          {"Tanh", 0, 0, 0, 0},         {"Sigmoid", 0, 0, 0, 0},
      {"Affine", 1, 1, 0, 0},        {"LeakyRelu", 1, 0, 0.01, 0}, {"ThresholdedRelu", 1, 0, 0, 0},
      {"ScaledTanh", 1, 1, 0, 0},    {"HardSigmoid", 1, 1, 0.2, 0.5}, {"Elu", 1, 0, 1.0, 0},
      {"Softsign", 0, 0, 0, 0},      {"Softplus", 0, 0, 0, 0},
  };
  auto lower = [](std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
  };
  for (const Activation& a : kTable)
    if (lower(a.name) == lower(name)) return &a;
  return nullptr;
}

// The activations attribute resolved: names (canonical), alphas and betas, one
// each per function slot of each direction. Alphas and betas are taken in order
// by the functions that use them; the rest get their defaults.
Status resolve_activations(NodeContext& ctx, int per_dir, int64_t dirs, const std::vector<std::string>& dflt,
                           ir::Attrs* attrs) {
  std::vector<std::string> names;
  for (const auto& at : ctx.proto().attribute())  // (NodeContext has no string-list getter)
    if (at.name() == "activations")
      for (const auto& s : at.strings()) names.push_back(s);
  if (names.empty()) {
    for (int64_t d = 0; d < dirs; ++d) names.insert(names.end(), dflt.begin(), dflt.end());
  } else if (static_cast<int64_t>(names.size()) == per_dir && dirs == 2) {
    names.insert(names.end(), names.begin(), names.end());
  }
  if (static_cast<int64_t>(names.size()) != per_dir * dirs)
    return ctx.error("activations lists " + std::to_string(names.size()) + " functions, expected " +
                     std::to_string(per_dir * dirs) + " (" + std::to_string(per_dir) + " per direction)");
  std::vector<double> alpha_in = ctx.attr_floats("activation_alpha"), beta_in = ctx.attr_floats("activation_beta");
  size_t ai = 0, bi = 0;
  std::vector<double> alphas, betas;
  std::string joined;
  for (const std::string& n : names) {
    const Activation* a = find_activation(n);
    if (!a) return ctx.unsupported("activation '" + n + "'");
    double alpha = a->alpha, beta = a->beta;
    if (a->uses_alpha && ai < alpha_in.size()) alpha = alpha_in[ai++];
    if (a->uses_beta && bi < beta_in.size()) beta = beta_in[bi++];
    alphas.push_back(alpha);
    betas.push_back(beta);
    joined += (joined.empty() ? "" : ",") + std::string(a->name);
  }
  attrs->set("activations", joined).set("alpha", alphas).set("beta", betas);
  return Status::ok();
}

}  // namespace

Status map_rnn(NodeContext& ctx) {
  const std::string& op = ctx.op_type();
  std::string cell = op == "LSTM" ? "lstm" : op == "GRU" ? "gru" : "rnn";
  int64_t gates = cell == "lstm" ? 4 : cell == "gru" ? 3 : 1;
  Value* x = ctx.input(0);
  Value* w = ctx.input(1);
  Value* r = ctx.input(2);
  DType dt = x->type.dtype;
  if (dt != DType::kF32 && dt != DType::kF64) return ctx.unsupported(op + " of " + std::string(dtype_name(dt)));
  std::string direction = ctx.attr_string("direction", "forward");
  if (direction != "forward" && direction != "reverse" && direction != "bidirectional")
    return ctx.error("direction '" + direction + "' is not forward, reverse or bidirectional");
  int64_t dirs = direction == "bidirectional" ? 2 : 1;
  int64_t layout = ctx.opset() >= 14 ? ctx.attr_int("layout", 0) : 0;
  if (layout != 0 && layout != 1) return ctx.error("layout " + std::to_string(layout) + " is not 0 or 1");
  if (x->type.rank() != 3) return ctx.error("X must be 3-D, got " + x->type.str());
  if (layout == 1) {
    KILN_ASSIGN_OR_RETURN(x, ctx.add(OpKind::kTranspose, {x}, perm({1, 0, 2}), "x_seq_first"));
  }
  int64_t seq = x->type.shape[0], batch = x->type.shape[1], in = x->type.shape[2];
  if (w->type.rank() != 3 || w->type.shape[0] != dirs || w->type.shape[2] != in || w->type.shape[1] % gates != 0)
    return ctx.error("W must be [" + std::to_string(dirs) + ", " + std::to_string(gates) + "*hidden, " +
                     std::to_string(in) + "], got " + w->type.str());
  int64_t h = w->type.shape[1] / gates;
  if (ctx.has_attr("hidden_size") && ctx.attr_int("hidden_size", h) != h)
    return ctx.error("hidden_size " + std::to_string(ctx.attr_int("hidden_size", h)) + " does not match W " +
                     w->type.str());
  int64_t gh = gates * h;
  if (r->type.shape != ir::Shape{dirs, gh, h})
    return ctx.error("R must be [" + std::to_string(dirs) + ", " + std::to_string(gh) + ", " + std::to_string(h) +
                     "], got " + r->type.str());
  for (Value* v : {w, r})
    if (v->type.dtype != dt) return ctx.error("W and R must have X's element type, got " + v->type.str());
  bool lbr = cell == "gru" && ctx.attr_int("linear_before_reset", 0) != 0;

  // XW = X·W^T + Wb + Rb: [dir, seq, batch, G*H] (GRU with linear_before_reset keeps Rbh out).
  KILN_ASSIGN_OR_RETURN(Value * x2, ctx.reshape(x, {seq * batch, in}, "x_rows"));
  KILN_ASSIGN_OR_RETURN(Value * wt, ctx.add(OpKind::kTranspose, {w}, perm({0, 2, 1}), "w_t"));
  KILN_ASSIGN_OR_RETURN(Value * xw, ctx.add(OpKind::kMatMul, {x2, wt}, {}, "x_w"));
  Value* rbh = nullptr;
  if (ctx.has_input(3)) {
    Value* b = ctx.input(3);
    if (b->type.shape != ir::Shape{dirs, 2 * gh} || b->type.dtype != dt)
      return ctx.error("B must be [" + std::to_string(dirs) + ", " + std::to_string(2 * gh) + "], got " + b->type.str());
    KILN_ASSIGN_OR_RETURN(Value * wb, slice_axis(ctx, b, 1, 0, gh, "wb"));
    KILN_ASSIGN_OR_RETURN(Value * rb, slice_axis(ctx, b, 1, gh, lbr ? 2 * h : gh, "rb"));
    if (lbr) {
      KILN_ASSIGN_OR_RETURN(rbh, slice_axis(ctx, b, 1, gh + 2 * h, h, "rbh"));
      Value* zeros = ctx.constant(ir::Tensor(ir::TensorType{dt, {dirs, h}}), "rb_h_zero");
      KILN_ASSIGN_OR_RETURN(rb, ctx.add(OpKind::kConcat, {rb, zeros}, ir::Attrs().set("axis", int64_t{1}), "rb_zr"));
    }
    KILN_ASSIGN_OR_RETURN(Value * bias, ctx.add(OpKind::kAdd, {wb, rb}, {}, "bias"));
    KILN_ASSIGN_OR_RETURN(bias, ctx.reshape(bias, {dirs, 1, gh}, "bias_rows"));
    KILN_ASSIGN_OR_RETURN(xw, ctx.add(OpKind::kAdd, {xw, bias}, {}, "x_w_b"));
  }
  if (lbr && !rbh) rbh = ctx.constant(ir::Tensor(ir::TensorType{dt, {dirs, h}}), "rbh_zero");
  KILN_ASSIGN_OR_RETURN(xw, ctx.reshape(xw, {dirs, seq, batch, gh}, "x_w_steps"));
  KILN_ASSIGN_OR_RETURN(Value * rt, ctx.add(OpKind::kTranspose, {r}, perm({0, 2, 1}), "r_t"));

  // Initial states [dir, batch, H] ([batch, dir, H] in layout 1), zeros when absent.
  auto state = [&](int i, const std::string& what) -> Expected<Value*> {
    if (!ctx.has_input(i)) return ctx.constant(ir::Tensor(ir::TensorType{dt, {dirs, batch, h}}), what + "_zero");
    Value* s = ctx.input(i);
    ir::Shape want = layout == 1 ? ir::Shape{batch, dirs, h} : ir::Shape{dirs, batch, h};
    if (s->type.shape != want || s->type.dtype != dt)
      return ctx.error(what + " must be " + ir::shape_str(want) + " of X's type, got " + s->type.str());
    if (layout == 1) return ctx.add(OpKind::kTranspose, {s}, perm({1, 0, 2}), what + "_dir_first");
    return s;
  };
  KILN_ASSIGN_OR_RETURN(Value * h0, state(5, "initial_h"));
  Value* lens = nullptr;
  if (ctx.has_input(4)) {
    lens = ctx.input(4);
    if ((lens->type.dtype != DType::kI32 && lens->type.dtype != DType::kI64) || lens->type.shape != ir::Shape{batch})
      return ctx.error("sequence_lens must be int32 [" + std::to_string(batch) + "], got " + lens->type.str());
  } else {
    ir::Tensor t(ir::TensorType{DType::kI32, {batch}});
    std::fill(t.mutable_data<int32_t>(), t.mutable_data<int32_t>() + batch, static_cast<int32_t>(seq));
    lens = ctx.constant(t, "lens");
  }

  ir::Attrs attrs;
  attrs.set("cell", cell);
  std::vector<int64_t> reverse = dirs == 2 ? std::vector<int64_t>{0, 1}
                                           : std::vector<int64_t>{direction == "reverse" ? 1 : 0};
  attrs.set("reverse", reverse);
  std::vector<std::string> dflt = cell == "lstm" ? std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"}
                                  : cell == "gru" ? std::vector<std::string>{"Sigmoid", "Tanh"}
                                                  : std::vector<std::string>{"Tanh"};
  KILN_RETURN_IF_ERROR(resolve_activations(ctx, static_cast<int>(dflt.size()), dirs, dflt, &attrs));
  if (ctx.has_attr("clip")) {
    double clip = ctx.attr_float("clip", 0);
    if (!(clip > 0)) return ctx.error("clip must be positive, got " + std::to_string(clip));
    attrs.set("clip", clip);
  }
  if (cell == "gru") attrs.set("linear_before_reset", int64_t{lbr});
  if (cell == "lstm") attrs.set("input_forget", ctx.attr_int("input_forget", 0));
  KILN_RETURN_IF_ERROR(ctx.attr_status());

  std::vector<Value*> inputs = {xw, rt, h0, lens};
  if (lbr) inputs.push_back(rbh);
  if (cell == "lstm") {
    KILN_ASSIGN_OR_RETURN(Value * c0, state(6, "initial_c"));
    inputs.push_back(c0);
    if (ctx.has_input(7)) {
      Value* p = ctx.input(7);
      if (p->type.shape != ir::Shape{dirs, 3 * h} || p->type.dtype != dt)
        return ctx.error("P must be [" + std::to_string(dirs) + ", " + std::to_string(3 * h) + "], got " + p->type.str());
      inputs.push_back(p);
    }
  }
  KILN_ASSIGN_OR_RETURN(Value * all, ctx.add(OpKind::kRnnSequence, inputs, attrs, "steps"));

  if (ctx.output_used(0)) {
    KILN_ASSIGN_OR_RETURN(Value * y, slice_axis(ctx, all, 0, 0, seq, "y"));
    if (layout == 1) {
      KILN_ASSIGN_OR_RETURN(y, ctx.add(OpKind::kTranspose, {y}, perm({2, 0, 1, 3}), "y_batch_first"));
    }
    ctx.set_output(0, y);
  }
  for (int i = 1; i <= (cell == "lstm" ? 2 : 1); ++i) {
    if (!ctx.output_used(i)) continue;
    KILN_ASSIGN_OR_RETURN(Value * s, slice_axis(ctx, all, 0, seq + i - 1, 1, i == 1 ? "y_h" : "y_c"));
    KILN_ASSIGN_OR_RETURN(s, ctx.reshape(s, {dirs, batch, h}, i == 1 ? "y_h_3d" : "y_c_3d"));
    if (layout == 1) {
      KILN_ASSIGN_OR_RETURN(s, ctx.add(OpKind::kTranspose, {s}, perm({1, 0, 2}), i == 1 ? "y_h_bf" : "y_c_bf"));
    }
    ctx.set_output(i, s);
  }
  return Status::ok();
}

Status map_reverse_sequence(NodeContext& ctx) {
  Value* x = ctx.input(0);
  Value* lens = ctx.input(1);
  int64_t rank = x->type.rank();
  if (rank < 2) return ctx.error("needs an input of rank >= 2, got " + x->type.str());
  int64_t ta = ctx.attr_int("time_axis", 0), ba = ctx.attr_int("batch_axis", 1);
  if (!((ta == 0 && ba == 1) || (ta == 1 && ba == 0)))
    return ctx.error("time_axis " + std::to_string(ta) + " and batch_axis " + std::to_string(ba) +
                     " must be 0 and 1 (either way round)");
  int64_t steps = x->type.shape[ta], batch = x->type.shape[ba];
  if (lens->type.shape != ir::Shape{batch} || (lens->type.dtype != DType::kI64 && lens->type.dtype != DType::kI32))
    return ctx.error("sequence_lens must be int64 [" + std::to_string(batch) + "], got " + lens->type.str());
  // idx[t, b] = t < len[b] ? len[b] - 1 - t : t, laid out along (time_axis, batch_axis).
  ir::Shape t_shape(rank, 1), b_shape(rank, 1);
  t_shape[ta] = steps;
  b_shape[ba] = batch;
  std::vector<int64_t> iota(steps);
  for (int64_t t = 0; t < steps; ++t) iota[t] = t;
  Value* t = ctx.constant(ir::Tensor::from_i64(t_shape, iota), "time");
  Value* l = lens;
  if (l->type.dtype != DType::kI64) {
    KILN_ASSIGN_OR_RETURN(l, ctx.add(OpKind::kCast, {l}, ir::Attrs().set("to", static_cast<int64_t>(DType::kI64)), "lens_i64"));
  }
  KILN_ASSIGN_OR_RETURN(l, ctx.reshape(l, b_shape, "lens_b"));
  KILN_ASSIGN_OR_RETURN(Value * inside, ctx.add(OpKind::kLess, {t, l}, {}, "inside"));
  KILN_ASSIGN_OR_RETURN(Value * last, ctx.add(OpKind::kSub, {l, ctx.scalar(DType::kI64, 1, "one")}, {}, "last"));
  KILN_ASSIGN_OR_RETURN(Value * rev, ctx.add(OpKind::kSub, {last, t}, {}, "reversed"));
  KILN_ASSIGN_OR_RETURN(Value * idx, ctx.add(OpKind::kWhere, {inside, rev, t}, {}, "source"));
  KILN_ASSIGN_OR_RETURN(idx, ctx.add(OpKind::kExpand, {idx}, ir::Attrs().set("shape", x->type.shape), "source_full"));
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(OpKind::kGatherElements, {x, idx}, ir::Attrs().set("axis", ta)));
  ctx.set_output(0, y);
  return Status::ok();
}

}  // namespace kiln::frontend
