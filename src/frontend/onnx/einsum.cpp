// ONNX Einsum rewritten into core ops: per operand, a repeated label becomes a
// diagonal (Mul by a constant identity mask, ReduceSum) and labels needed nowhere
// else are summed; operands then contract pairwise, left to right, as one batched
// MatMul with Transpose/Reshape around it; a last Transpose orders the output.
#include <algorithm>
#include <cctype>
#include <string>

#include "frontend/onnx/op_table.h"
#include "frontend/onnx/shape_eval.h"

namespace kiln::frontend {
namespace {

using ir::OpKind;
using ir::Value;
using Labels = std::vector<int>;  // letters 'A'..'z' as chars; "..." dims as kEllipsis + k

constexpr int kEllipsis = 1000;

struct Operand {
  Value* v;
  Labels labels;
};

bool has(const Labels& ls, int l) { return std::find(ls.begin(), ls.end(), l) != ls.end(); }

class EinsumBuilder {
 public:
  explicit EinsumBuilder(NodeContext& ctx) : ctx_(ctx) {}

  Expected<Value*> add(OpKind op, std::vector<Value*> ins, ir::Attrs attrs = {}) {
    return ctx_.add(op, std::move(ins), std::move(attrs), "e" + std::to_string(n_++));
  }

  // Sums the axes of `o` whose labels `keep` rejects.
  template <typename Keep>
  Status sum_unless(Operand* o, Keep keep) {
    std::vector<int64_t> axes;
    Labels rest;
    for (size_t i = 0; i < o->labels.size(); ++i) {
      if (keep(o->labels[i])) {
        rest.push_back(o->labels[i]);
      } else {
        axes.push_back(static_cast<int64_t>(i));
      }
    }
    if (axes.empty()) return Status::ok();
    ir::Attrs a;
    a.set("axes", axes).set("keepdims", int64_t{0});
    KILN_ASSIGN_OR_RETURN(o->v, add(OpKind::kReduceSum, {o->v}, a));
    o->labels = rest;
    return Status::ok();
  }

  // Replaces each label repeated within `o` by its diagonal.
  Status diagonals(Operand* o) {
    for (;;) {
      int a = -1, b = -1;
      for (size_t i = 0; i < o->labels.size() && a < 0; ++i)
        for (size_t j = i + 1; j < o->labels.size(); ++j)
          if (o->labels[i] == o->labels[j]) {
            a = static_cast<int>(i), b = static_cast<int>(j);
            break;
          }
      if (a < 0) return Status::ok();
      const ir::Shape& s = o->v->type.shape;
      if (s[a] != s[b])
        return ctx_.error("a repeated label spans dimensions " + std::to_string(s[a]) + " and " + std::to_string(s[b]));
      ir::Shape ms(s.size(), 1);
      ms[a] = ms[b] = s[a];
      std::vector<int64_t> eye(s[a] * s[a], 0);
      for (int64_t i = 0; i < s[a]; ++i) eye[i * s[a] + i] = 1;
      ir::Tensor eye_t = eval_cast(make_int_tensor(DType::kI64, ms, eye), o->v->type.dtype);
      Value* mask = ctx_.constant(std::move(eye_t), "eye" + std::to_string(n_++));
      KILN_ASSIGN_OR_RETURN(o->v, add(OpKind::kMul, {o->v, mask}));
      ir::Attrs attrs;
      attrs.set("axes", std::vector<int64_t>{b}).set("keepdims", int64_t{0});
      KILN_ASSIGN_OR_RETURN(o->v, add(OpKind::kReduceSum, {o->v}, attrs));
      o->labels.erase(o->labels.begin() + b);
    }
  }

  // `o` with its axes in the order of `want` (a permutation of its labels).
  Status permute(Operand* o, const Labels& want) {
    if (want == o->labels) return Status::ok();
    std::vector<int64_t> perm;
    for (int l : want) perm.push_back(std::find(o->labels.begin(), o->labels.end(), l) - o->labels.begin());
    ir::Attrs a;
    a.set("perm", perm);
    KILN_ASSIGN_OR_RETURN(o->v, add(OpKind::kTranspose, {o->v}, a));
    o->labels = want;
    return Status::ok();
  }

  Expected<Value*> reshape(Value* v, const ir::Shape& shape) {
    if (v->type.shape == shape) return v;
    return ctx_.reshape(v, shape, "e" + std::to_string(n_++));
  }

  // a (x) b over their shared labels; `needed` are the labels used later.
  Expected<Operand> contract(Operand a, Operand b, const Labels& needed) {
    KILN_RETURN_IF_ERROR(sum_unless(&a, [&](int l) { return has(b.labels, l) || has(needed, l); }));
    KILN_RETURN_IF_ERROR(sum_unless(&b, [&](int l) { return has(a.labels, l) || has(needed, l); }));
    Labels batch, summed, a_only, b_only;
    for (int l : a.labels) (has(b.labels, l) ? (has(needed, l) ? batch : summed) : a_only).push_back(l);
    for (int l : b.labels)
      if (!has(a.labels, l)) b_only.push_back(l);
    auto size = [](const Operand& o, int l) {
      return o.v->type.shape[std::find(o.labels.begin(), o.labels.end(), l) - o.labels.begin()];
    };
    int64_t m = 1, n = 1, k = 1;
    ir::Shape a_shape, b_shape, out_shape;
    for (int l : batch) {
      a_shape.push_back(size(a, l));
      b_shape.push_back(size(b, l));
      if (a_shape.back() != b_shape.back() && a_shape.back() != 1 && b_shape.back() != 1)
        return ctx_.error("a label spans dimensions " + std::to_string(a_shape.back()) + " and " +
                          std::to_string(b_shape.back()));
      out_shape.push_back(std::max(a_shape.back(), b_shape.back()));
    }
    for (int l : summed) {
      if (size(a, l) != size(b, l)) return ctx_.unsupported("a summed label broadcast between operands");
      k *= size(a, l);
    }
    for (int l : a_only) m *= size(a, l), out_shape.push_back(size(a, l));
    for (int l : b_only) n *= size(b, l), out_shape.push_back(size(b, l));
    Labels a_order = batch, b_order = batch;
    a_order.insert(a_order.end(), a_only.begin(), a_only.end());
    a_order.insert(a_order.end(), summed.begin(), summed.end());
    b_order.insert(b_order.end(), summed.begin(), summed.end());
    b_order.insert(b_order.end(), b_only.begin(), b_only.end());
    KILN_RETURN_IF_ERROR(permute(&a, a_order));
    KILN_RETURN_IF_ERROR(permute(&b, b_order));
    a_shape.push_back(m), a_shape.push_back(k);
    b_shape.push_back(k), b_shape.push_back(n);
    KILN_ASSIGN_OR_RETURN(Value * av, reshape(a.v, a_shape));
    KILN_ASSIGN_OR_RETURN(Value * bv, reshape(b.v, b_shape));
    KILN_ASSIGN_OR_RETURN(Value * y, add(OpKind::kMatMul, {av, bv}));
    KILN_ASSIGN_OR_RETURN(y, reshape(y, out_shape));
    Labels labels = batch;
    labels.insert(labels.end(), a_only.begin(), a_only.end());
    labels.insert(labels.end(), b_only.begin(), b_only.end());
    return Operand{y, labels};
  }

 private:
  NodeContext& ctx_;
  int n_ = 0;
};

// The labels of one term; "..." stands for `ell` dims, right-aligned among max_ell.
Status parse_term(NodeContext& ctx, const std::string& term, int64_t rank, bool is_output, int max_ell, Labels* out) {
  size_t dots = term.find("...");
  int letters = 0;
  for (char ch : term) {
    if (std::isalpha(static_cast<unsigned char>(ch))) {
      ++letters;
    } else if (ch != '.') {
      return ctx.error("bad character '" + std::string(1, ch) + "' in equation term '" + term + "'");
    }
  }
  auto periods = std::count(term.begin(), term.end(), '.');
  if (periods != (dots == std::string::npos ? 0 : 3)) return ctx.error("bad ellipsis in equation term '" + term + "'");
  int ell = is_output ? max_ell : static_cast<int>(rank) - letters;
  if (dots == std::string::npos && !is_output && ell != 0)
    return ctx.error("term '" + term + "' names " + std::to_string(letters) + " dimensions of a rank-" +
                     std::to_string(rank) + " input");
  if (dots == std::string::npos) ell = 0;
  if (ell < 0) return ctx.error("term '" + term + "' names more dimensions than its input has");
  for (size_t i = 0; i < term.size(); ++i) {
    if (i == dots) {
      for (int k = 0; k < ell; ++k) out->push_back(kEllipsis + max_ell - ell + k);
      i += 2;
    } else {
      out->push_back(term[i]);
    }
  }
  return Status::ok();
}

}  // namespace

Status map_einsum(NodeContext& ctx) {
  std::string eq;
  for (char ch : ctx.attr_string("equation", "")) {
    if (!std::isspace(static_cast<unsigned char>(ch))) eq.push_back(ch);
  }
  size_t arrow = eq.find("->");
  std::string lhs = eq.substr(0, arrow);
  std::vector<std::string> terms;
  for (size_t start = 0;;) {
    size_t comma = lhs.find(',', start);
    terms.push_back(lhs.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (static_cast<int>(terms.size()) != ctx.num_inputs())
    return ctx.error("equation '" + eq + "' has " + std::to_string(terms.size()) + " terms for " +
                     std::to_string(ctx.num_inputs()) + " inputs");
  int max_ell = 0;
  for (size_t i = 0; i < terms.size(); ++i) {
    int letters = static_cast<int>(std::count_if(terms[i].begin(), terms[i].end(),
                                                 [](char ch) { return std::isalpha(static_cast<unsigned char>(ch)); }));
    if (terms[i].find("...") != std::string::npos)
      max_ell = std::max<int>(max_ell, static_cast<int>(ctx.input(static_cast<int>(i))->type.rank()) - letters);
  }
  std::vector<Operand> ops;
  for (size_t i = 0; i < terms.size(); ++i) {
    Operand o{ctx.input(static_cast<int>(i)), {}};
    if (o.v->type.dtype == DType::kBool) return ctx.unsupported("a bool input");
    KILN_RETURN_IF_ERROR(parse_term(ctx, terms[i], o.v->type.rank(), false, max_ell, &o.labels));
    ops.push_back(o);
  }
  Labels out;
  if (arrow != std::string::npos) {
    KILN_RETURN_IF_ERROR(parse_term(ctx, eq.substr(arrow + 2), 0, true, max_ell, &out));
  } else {
    // Implicit output: the "..." dims, then the letters used once, alphabetically.
    for (int k = 0; k < max_ell; ++k) out.push_back(kEllipsis + k);
    Labels letters;
    for (const Operand& o : ops)
      for (int l : o.labels)
        if (l < kEllipsis) letters.push_back(l);
    std::sort(letters.begin(), letters.end());
    for (int l : letters)
      if (std::count(letters.begin(), letters.end(), l) == 1) out.push_back(l);
  }
  for (int l : out) {
    if (std::count(out.begin(), out.end(), l) != 1) return ctx.error("output label repeated in '" + eq + "'");
    bool found = false;
    for (const Operand& o : ops) found = found || has(o.labels, l);
    if (!found) return ctx.error("output label not among the inputs' in '" + eq + "'");
  }
  EinsumBuilder b(ctx);
  for (size_t i = 0; i < ops.size(); ++i) {
    KILN_RETURN_IF_ERROR(b.diagonals(&ops[i]));
    KILN_RETURN_IF_ERROR(b.sum_unless(&ops[i], [&](int l) {
      if (has(out, l)) return true;
      for (size_t j = 0; j < ops.size(); ++j)
        if (j != i && has(ops[j].labels, l)) return true;
      return false;
    }));
  }
  Operand acc = ops[0];
  for (size_t i = 1; i < ops.size(); ++i) {
    Labels needed = out;
    for (size_t j = i + 1; j < ops.size(); ++j) needed.insert(needed.end(), ops[j].labels.begin(), ops[j].labels.end());
    KILN_ASSIGN_OR_RETURN(acc, b.contract(acc, ops[i], needed));
  }
  KILN_RETURN_IF_ERROR(b.sum_unless(&acc, [&](int l) { return has(out, l); }));
  KILN_RETURN_IF_ERROR(b.permute(&acc, out));
  ctx.set_output(0, acc.v);
  return Status::ok();
}

}  // namespace kiln::frontend
