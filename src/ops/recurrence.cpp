// RnnSequence: the time loop of ONNX RNN, GRU and LSTM, one kernel for the
// whole sequence. The frontend computes the input projections of all time
// steps with one MatMul (X·W^T + biases); this op runs the recurrence on them.
//
// Attributes: cell:s ("rnn", "gru", "lstm"); reverse:ints (one per direction,
// 1: that direction runs from the end of each sequence); activations:s (the
// activation names, comma-separated, per direction: rnn f; gru f,g; lstm f,g,h)
// with alpha:floats beta:floats (one each per activation, defaults resolved);
// clip:f (> 0: gate inputs are clamped to [-clip, clip]); linear_before_reset:i
// (gru); input_forget:i (lstm).
// Inputs: 0 XW [dir, seq, batch, G*H] (input projections with the biases in;
// G = 1, 3, 4 gates in ONNX order: rnn i; gru z,r,h; lstm i,o,f,c), 1 RT
// [dir, H, G*H] (R transposed), 2 H0 [dir, batch, H], 3 lens [batch] (int32 or
// int64, clamped to [0, seq]); gru with linear_before_reset: 4 Rbh [dir, H]
// (kept out of XW); lstm: 4 C0 [dir, batch, H], optional 5 P [dir, 3H]
// (peepholes i, o, f).
// Output: [seq + k, dir, batch, H]: rows 0..seq-1 are Y (zero past a
// sequence's length), row seq is the last hidden state, row seq+1 (lstm) the
// last cell state. The frontend slices Y, Y_h and Y_c out of it.
#include <sstream>

#include "ops/op_families.h"

namespace kiln::ops {

using kir::Expr;
using kir::Stmt;

namespace {

enum class Cell { kRnn, kGru, kLstm };

int num_gates(Cell c) { return c == Cell::kRnn ? 1 : c == Cell::kGru ? 3 : 4; }
int num_activations(Cell c) { return c == Cell::kRnn ? 1 : c == Cell::kGru ? 2 : 3; }

std::optional<Cell> cell_of(const std::string& s) {
  if (s == "rnn") return Cell::kRnn;
  if (s == "gru") return Cell::kGru;
  if (s == "lstm") return Cell::kLstm;
  return std::nullopt;
}

std::vector<std::string> split_names(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(item);
  return out;
}

const std::vector<double>& floats_attr(const ir::Attrs& a, const std::string& name) {
  static const std::vector<double> kEmpty;
  auto it = a.all().find(name);
  if (it == a.all().end()) return kEmpty;
  const auto* v = std::get_if<std::vector<double>>(&it->second);
  return v ? *v : kEmpty;
}

bool is_activation(const std::string& n) {
  for (const char* k : {"Relu", "Tanh", "Sigmoid", "Affine", "LeakyRelu", "ThresholdedRelu", "ScaledTanh",
                        "HardSigmoid", "Elu", "Softsign", "Softplus"})
    if (n == k) return true;
  return false;
}

// One activation function applied to x (names checked by the inference).
Expr activate(const std::string& f, double alpha, double beta, const Expr& x) {
  kir::Type t = x.type();
  auto c = [&](double v) { return kir::make_const(t, v); };
  using kir::Intrinsic;
  if (f == "Relu") return kir::max(x, c(0));
  if (f == "Tanh") return kir::call(Intrinsic::kTanh, {x});
  if (f == "Sigmoid") return kir::call(Intrinsic::kSigmoid, {x});
  if (f == "Affine") return x * c(alpha) + c(beta);
  if (f == "LeakyRelu") return kir::select(x < c(0), x * c(alpha), x);
  if (f == "ThresholdedRelu") return kir::select(x > c(alpha), x, c(0));
  if (f == "ScaledTanh") return c(alpha) * kir::call(Intrinsic::kTanh, {x * c(beta)});
  if (f == "HardSigmoid") return kir::max(c(0), kir::min(c(1), x * c(alpha) + c(beta)));
  if (f == "Elu") return kir::select(x < c(0), c(alpha) * (kir::call(Intrinsic::kExp, {x}) - c(1)), x);
  if (f == "Softsign") return x / (c(1) + kir::call(Intrinsic::kAbs, {x}));
  if (f == "Softplus") return kir::call(Intrinsic::kLog, {c(1) + kir::call(Intrinsic::kExp, {x})});
  KILN_UNREACHABLE("RnnSequence: activation " << f);
}

Status check_shape(const ir::TensorType& t, const ir::Shape& want, const char* what) {
  if (t.shape == want) return Status::ok();
  return Status::invalid(std::string("RnnSequence ") + what + " must have shape " + ir::shape_str(want) + ", got " +
                         t.str());
}

}  // namespace

Status infer_rnn_sequence(const ir::Node& node, std::vector<ir::TensorType>* outputs) {
  std::string cell_name = node.attrs.all().count("cell") ? std::get<std::string>(node.attrs.all().at("cell")) : "";
  std::optional<Cell> cell = cell_of(cell_name);
  if (!cell) return Status::invalid("RnnSequence cell '" + cell_name + "' is not rnn, gru or lstm");
  bool lbr = *cell == Cell::kGru && node.attrs.get_int("linear_before_reset", 0) != 0;
  int lo = *cell == Cell::kLstm ? 5 : lbr ? 5 : 4;
  int hi = *cell == Cell::kLstm ? 6 : lo;
  KILN_RETURN_IF_ERROR(check_num_inputs(node, lo, hi));
  const ir::TensorType& xw = node.inputs[0]->type;
  KILN_RETURN_IF_ERROR(check_float_input(node, 0));
  if (xw.rank() != 4) return Status::invalid("RnnSequence XW must be [dir, seq, batch, gates*hidden], got " + xw.str());
  int64_t dirs = xw.shape[0], seq = xw.shape[1], batch = xw.shape[2];
  int64_t g = num_gates(*cell);
  const ir::TensorType& rt = node.inputs[1]->type;
  if (rt.rank() != 3 || rt.shape[0] != dirs)
    return Status::invalid("RnnSequence RT must be [dir, hidden, gates*hidden], got " + rt.str());
  int64_t h = rt.shape[1];
  KILN_RETURN_IF_ERROR(check_shape(xw, {dirs, seq, batch, g * h}, "XW"));
  KILN_RETURN_IF_ERROR(check_shape(rt, {dirs, h, g * h}, "RT"));
  KILN_RETURN_IF_ERROR(check_shape(node.inputs[2]->type, {dirs, batch, h}, "H0"));
  const ir::TensorType& lens = node.inputs[3]->type;
  if ((lens.dtype != DType::kI32 && lens.dtype != DType::kI64) || lens.shape != ir::Shape{batch})
    return Status::invalid("RnnSequence lens must be int32 or int64 [" + std::to_string(batch) + "], got " + lens.str());
  if (lbr) KILN_RETURN_IF_ERROR(check_shape(node.inputs[4]->type, {dirs, h}, "Rbh"));
  if (*cell == Cell::kLstm) {
    KILN_RETURN_IF_ERROR(check_shape(node.inputs[4]->type, {dirs, batch, h}, "C0"));
    if (node.inputs.size() > 5) KILN_RETURN_IF_ERROR(check_shape(node.inputs[5]->type, {dirs, 3 * h}, "P"));
  }
  for (size_t i = 0; i < node.inputs.size(); ++i)
    if (i != 3 && node.inputs[i]->type.dtype != xw.dtype)
      return Status::invalid("RnnSequence input " + std::to_string(i) + " is " + node.inputs[i]->type.str() +
                             ", expected " + dtype_name(xw.dtype));
  std::vector<int64_t> reverse = node.attrs.get_ints("reverse", {});
  if (static_cast<int64_t>(reverse.size()) != dirs)
    return Status::invalid("RnnSequence needs one reverse flag per direction, got " + ints_str(reverse));
  std::string acts = node.attrs.all().count("activations") ? std::get<std::string>(node.attrs.all().at("activations")) : "";
  std::vector<std::string> names = split_names(acts);
  size_t want = static_cast<size_t>(dirs * num_activations(*cell));
  if (names.size() != want)
    return Status::invalid("RnnSequence needs " + std::to_string(want) + " activations, got '" + acts + "'");
  for (const std::string& n : names)
    if (!is_activation(n)) return Status::invalid("activation '" + n + "' is not supported");
  if (floats_attr(node.attrs, "alpha").size() != want || floats_attr(node.attrs, "beta").size() != want)
    return Status::invalid("RnnSequence needs one alpha and one beta per activation");
  int64_t rows = seq + (*cell == Cell::kLstm ? 2 : 1);
  outputs->assign(1, ir::TensorType{xw.dtype, {rows, dirs, batch, h}});
  return Status::ok();
}

// For each direction (outermost, parallel): states h (and c) of all batch rows
// in local buffers; for each step s, every batch row b with s < len[b] at time
// t = s (t = len[b]-1-s reversed): gates = XW[t] + h·RT as rank-1 updates over
// the hidden units k (one contiguous row of RT per k, reused by every batch
// row), then the cell update, vectorized over the hidden units, writing Y[t].
// Steps past a row's length write zeros; the last states go to rows seq, seq+1.
Expected<Stmt> lower_rnn_sequence(const LowerContext& ctx) {
  const ir::Node& node = ctx.node;
  const ir::Attrs& a = node.attrs;
  Cell cell = *cell_of(std::get<std::string>(a.all().at("cell")));
  const ir::TensorType& xw = node.inputs[0]->type;
  int64_t dirs = xw.shape[0], seq = xw.shape[1], batch = xw.shape[2];
  int64_t h = node.inputs[1]->type.shape[1];
  int64_t gh = num_gates(cell) * h;
  kir::Type t = scalar_type(xw.dtype);
  auto c = [&](double v) { return kir::make_const(t, v); };
  bool lbr = cell == Cell::kGru && a.get_int("linear_before_reset", 0) != 0;
  bool input_forget = cell == Cell::kLstm && a.get_int("input_forget", 0) != 0;
  bool peephole = cell == Cell::kLstm && node.inputs.size() > 5;
  double clip = a.get_float("clip", 0);
  std::vector<int64_t> reverse = a.get_ints("reverse");
  std::vector<std::string> names = split_names(std::get<std::string>(a.all().at("activations")));
  const std::vector<double>& alphas = floats_attr(a, "alpha");
  const std::vector<double>& betas = floats_attr(a, "beta");
  int na = num_activations(cell);
  Expr zero = Expr(int64_t{0});
  Expr one = Expr(int64_t{1});
  bool vec = ctx.opts.vectorize();
  int lanes = ctx.opts.f32_lanes;

  LoopNest nest;
  Expr d = nest.add("d", dirs);
  kir::Buffer hbuf = kir::make_buffer("h", xw.dtype);       // [batch, H]
  kir::Buffer cbuf = kir::make_buffer("c", xw.dtype);       // [batch, H]
  kir::Buffer gates = kir::make_buffer("gates", xw.dtype);  // [batch, G*H]
  kir::Buffer rh = kir::make_buffer("rh", xw.dtype);        // gru: r (.) h, the input of Rh
  kir::Buffer lens = kir::make_buffer("lens", DType::kI64); // [batch], clamped to [0, seq]
  Expr rev = kir::var("rev");
  Expr step = kir::var("s");

  // Clip bounds the gates' inputs (not the input of LSTM's output activation h).
  auto act = [&](int k, const Expr& x) -> Expr {
    bool clipped = clip > 0 && !(cell == Cell::kLstm && k == 2);
    Expr in = clipped ? kir::max(kir::min(x, c(clip)), c(-clip)) : x;
    if (dirs == 1 || (names[k] == names[na + k] && alphas[k] == alphas[na + k] && betas[k] == betas[na + k]))
      return activate(names[k], alphas[k], betas[k], in);
    return kir::select(d == zero, activate(names[k], alphas[k], betas[k], in),
                       activate(names[na + k], alphas[na + k], betas[na + k], in));
  };
  auto lanes_loop = [&](const std::string& name, int64_t lo, int64_t hi, const std::function<Stmt(const Expr&)>& body) {
    return vector_loop(name, lo, hi, lanes, vec, body);
  };
  auto batch_loop = [&](const std::function<Stmt(const Expr&)>& body) {
    if (batch == 1) return body(zero);
    Expr b = kir::var("b");
    return kir::for_loop(b, zero, Expr(batch), kir::ForKind::kSerial, body(b));
  };
  // For each batch row that step s reaches: body(b, t).
  auto active_rows = [&](const std::function<Stmt(const Expr&, const Expr&)>& body) {
    return batch_loop([&](const Expr& b) {
      Expr len = kir::load(lens, b);
      Expr tv = kir::var("t");
      Stmt s = kir::let_stmt(tv, kir::select(rev != zero, len - one - step, step), body(b, tv));
      return kir::if_then_else(step < len, s);
    });
  };
  auto gate_at = [&](const Expr& b, const Expr& g) { return kir::load(gates, b * Expr(gh) + g); };

  // gates[b, g] = init(b, t, g) + sum_k src[b, k] * RT[d, k, g] for g in [g0, g1).
  auto matvec = [&](int64_t g0, int64_t g1, kir::Buffer src,
                    const std::function<Expr(const Expr&, const Expr&, const Expr&)>& init) {
    Stmt first = active_rows([&](const Expr& b, const Expr& tv) {
      return lanes_loop("g", g0, g1, [&](const Expr& g) { return kir::store(gates, b * Expr(gh) + g, init(b, tv, g)); });
    });
    // `unroll` rows of RT per pass over the gates: fewer loads and stores of gates.
    auto rows = [&](const Expr& k0, int64_t unroll) {
      return active_rows([&](const Expr& b, const Expr&) {
        std::vector<Expr> hk;
        for (int64_t u = 0; u < unroll; ++u) hk.push_back(kir::var("h" + std::to_string(u), t));
        Stmt s = lanes_loop("g", g0, g1, [&](const Expr& g) {
          Expr sum = gate_at(b, g);
          for (int64_t u = 0; u < unroll; ++u) sum = sum + hk[u] * ctx.read(1, {d, k0 + Expr(u), g});
          return kir::store(gates, b * Expr(gh) + g, sum);
        });
        for (int64_t u = unroll; u-- > 0;) s = kir::let_stmt(hk[u], kir::load(src, b * Expr(h) + k0 + Expr(u)), s);
        return s;
      });
    };
    constexpr int64_t kUnroll = 4;
    Expr kb = kir::var("kb");
    std::vector<Stmt> parts = {first};
    if (h >= kUnroll)
      parts.push_back(kir::for_loop(kb, zero, Expr(h / kUnroll), kir::ForKind::kSerial, rows(kb * Expr(kUnroll), kUnroll)));
    if (h % kUnroll) parts.push_back(rows(Expr(h - h % kUnroll), h % kUnroll));
    return kir::block(parts);
  };
  auto xw_at = [&](const Expr& b, const Expr& tv, const Expr& g) { return ctx.read(0, {d, tv, b, g}); };
  // The cell update of each active row, vectorized over the hidden units j.
  auto update_rows = [&](const std::function<Stmt(const Expr&, const Expr&, const Expr&)>& body) {
    return active_rows([&](const Expr& b, const Expr& tv) {
      return lanes_loop("j", 0, h, [&](const Expr& j) { return body(b, tv, j); });
    });
  };

  std::vector<Stmt> step_body;
  switch (cell) {
    case Cell::kRnn:
      step_body.push_back(matvec(0, gh, hbuf, xw_at));
      step_body.push_back(update_rows([&](const Expr& b, const Expr& tv, const Expr& j) {
        Expr hv = kir::var("hv", t);
        return kir::let_stmt(hv, act(0, gate_at(b, j)),
                             kir::block({kir::store(hbuf, b * Expr(h) + j, hv), ctx.write(0, {tv, d, b, j}, hv)}));
      }));
      break;
    case Cell::kGru: {
      if (lbr) {
        // z, r from XW; the h part accumulates Rh·h + Rbh alone.
        step_body.push_back(matvec(0, gh, hbuf, [&](const Expr& b, const Expr& tv, const Expr& g) {
          return kir::select(g < Expr(2 * h), xw_at(b, tv, g), ctx.read(4, {d, clamp_index(g - Expr(2 * h), h)}));
        }));
      } else {
        step_body.push_back(matvec(0, 2 * h, hbuf, xw_at));
        step_body.push_back(update_rows([&](const Expr& b, const Expr&, const Expr& j) {
          Expr at = b * Expr(h) + j;
          return kir::store(rh, at, act(0, gate_at(b, j + Expr(h))) * kir::load(hbuf, at));
        }));
        step_body.push_back(matvec(2 * h, gh, rh, xw_at));
      }
      step_body.push_back(update_rows([&](const Expr& b, const Expr& tv, const Expr& j) {
        Expr z = kir::var("z", t), hh = kir::var("hh", t), hv = kir::var("hv", t);
        Expr at = b * Expr(h) + j;
        Expr pre = lbr ? xw_at(b, tv, j + Expr(2 * h)) + act(0, gate_at(b, j + Expr(h))) * gate_at(b, j + Expr(2 * h))
                       : gate_at(b, j + Expr(2 * h));
        Stmt s = kir::block({kir::store(hbuf, at, hv), ctx.write(0, {tv, d, b, j}, hv)});
        s = kir::let_stmt(hv, (c(1) - z) * hh + z * kir::load(hbuf, at), s);
        s = kir::let_stmt(hh, act(1, pre), s);
        return kir::let_stmt(z, act(0, gate_at(b, j)), s);
      }));
      break;
    }
    case Cell::kLstm:
      step_body.push_back(matvec(0, gh, hbuf, xw_at));
      step_body.push_back(update_rows([&](const Expr& b, const Expr& tv, const Expr& j) {
        Expr cprev = kir::var("cp", t), ig = kir::var("ig", t), fg = kir::var("fg", t), cn = kir::var("cn", t);
        Expr og = kir::var("og", t), hv = kir::var("hv", t);
        Expr at = b * Expr(h) + j;
        auto gate = [&](int k) { return gate_at(b, j + Expr(k * h)); };  // i 0, o 1, f 2, c 3
        auto peep = [&](int k, const Expr& state) {                        // P: i 0, o 1, f 2
          return peephole ? ctx.read(5, {d, j + Expr(k * h)}) * state : c(0);
        };
        Expr f_val = input_forget ? c(1) - ig : act(0, gate(2) + peep(2, cprev));
        Stmt s = kir::block({kir::store(cbuf, at, cn), kir::store(hbuf, at, hv), ctx.write(0, {tv, d, b, j}, hv)});
        s = kir::let_stmt(hv, og * act(2, cn), s);
        s = kir::let_stmt(og, act(0, gate(1) + peep(1, cn)), s);
        s = kir::let_stmt(cn, fg * cprev + ig * act(1, gate(3)), s);
        s = kir::let_stmt(fg, f_val, s);
        s = kir::let_stmt(ig, act(0, gate(0) + peep(0, cprev)), s);
        return kir::let_stmt(cprev, kir::load(cbuf, at), s);
      }));
      break;
  }

  std::vector<Stmt> body;
  body.push_back(batch_loop([&](const Expr& b) {
    Expr raw = ctx.read(3, {b});
    if (raw.type() != kir::i64()) raw = kir::cast(kir::i64(), raw);
    return kir::store(lens, b, kir::max(kir::min(raw, Expr(seq)), zero));
  }));
  auto per_row = [&](const std::function<Stmt(const Expr&, const Expr&)>& f) {
    return batch_loop([&](const Expr& b) { return lanes_loop("j", 0, h, [&](const Expr& j) { return f(b, j); }); });
  };
  body.push_back(per_row([&](const Expr& b, const Expr& j) {
    return kir::store(hbuf, b * Expr(h) + j, ctx.read(2, {d, b, j}));
  }));
  if (cell == Cell::kLstm)
    body.push_back(per_row([&](const Expr& b, const Expr& j) {
      return kir::store(cbuf, b * Expr(h) + j, ctx.read(4, {d, b, j}));
    }));
  body.push_back(kir::for_loop(step, zero, Expr(seq), kir::ForKind::kSerial, kir::block(step_body)));
  body.push_back(batch_loop([&](const Expr& b) {
    Expr len = kir::var("len");
    Expr tp = kir::var("tp");
    Stmt pad = kir::for_loop(tp, len, Expr(seq) - len, kir::ForKind::kSerial,
                             lanes_loop("j", 0, h, [&](const Expr& j) { return ctx.write(0, {tp, d, b, j}, c(0)); }));
    return kir::let_stmt(len, kir::load(lens, b), pad);
  }));
  body.push_back(per_row([&](const Expr& b, const Expr& j) {
    return ctx.write(0, {Expr(seq), d, b, j}, kir::load(hbuf, b * Expr(h) + j));
  }));
  if (cell == Cell::kLstm)
    body.push_back(per_row([&](const Expr& b, const Expr& j) {
      return ctx.write(0, {Expr(seq + 1), d, b, j}, kir::load(cbuf, b * Expr(h) + j));
    }));

  Expr rev_of_d = Expr(reverse[0]);
  if (dirs > 1) rev_of_d = kir::select(d == zero, Expr(reverse[0]), Expr(reverse[1]));
  Stmt point = kir::let_stmt(rev, rev_of_d, kir::block(std::move(body)));
  point = kir::allocate(lens, Expr(batch), point);
  point = kir::allocate(hbuf, Expr(batch * h), point);
  if (cell == Cell::kLstm) point = kir::allocate(cbuf, Expr(batch * h), point);
  point = kir::allocate(gates, Expr(batch * gh), point);
  if (cell == Cell::kGru && !lbr) point = kir::allocate(rh, Expr(batch * h), point);
  return nest.build(point, ctx.opts.parallelize() && dirs > 1);
}

}  // namespace kiln::ops
