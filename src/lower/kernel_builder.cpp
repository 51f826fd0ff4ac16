// Kernel builder: anchor lowering + epilogue composition into one kir::Func.
#include "lower/kernel_builder.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "base/check.h"

namespace kiln::lower {

namespace {

// Sanitizes a value name into a kernel-IR buffer name.
std::string buffer_name(const ir::Value* v) {
  std::string s;
  for (char c : v->name) s += (std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) s = "v" + s;
  return s;
}

}  // namespace

std::string describe_group(const FusedGroup& group) {
  std::string s;
  for (const ir::Node* n : group.nodes) s += (s.empty() ? "" : "+") + std::string(ir::op_name(n->op));
  return s;
}

Expected<Kernel> build_kernel(const FusedGroup& group, const std::string& name, const ops::KernelOptions& opts) {
  KILN_CHECK(!group.nodes.empty()) << "empty fused group";
  Kernel kernel;
  kernel.func.name = name;

  // Values computed inside the group (not stored): every node output but the last.
  std::map<const ir::Value*, size_t> internal;
  for (size_t i = 0; i + 1 < group.nodes.size(); ++i) internal[group.nodes[i]->outputs[0]] = i;

  std::map<const ir::Value*, kir::Buffer> buffers;
  auto bind = [&](ir::Value* v) -> kir::Buffer {
    auto it = buffers.find(v);
    if (it != buffers.end()) return it->second;
    kir::Buffer b = kir::make_buffer(buffer_name(v), v->type.dtype);
    buffers[v] = b;
    kernel.func.params.push_back(b);
    kernel.param_values.push_back(v);
    return b;
  };
  for (ir::Node* n : group.nodes)
    for (ir::Value* in : n->inputs)
      if (!internal.count(in)) bind(in);
  ir::Value* result = group.result();
  kir::Buffer out_buf = bind(result);

  auto load_value = [&](ir::Value* v, const std::vector<kir::Expr>& idx) {
    KILN_CHECK(static_cast<int64_t>(idx.size()) == v->type.rank())
        << "index rank " << idx.size() << " for " << v->name << " " << v->type.str();
    return kir::load(buffers.at(v), ops::flat_index(idx, v->type.shape));
  };

  // The epilogue: given the anchor's value at output index idx, apply each
  // later node (binding each node's value with a let) and store the result.
  // A value that several later nodes read (a diamond: x * erf(x / sqrt2)) is
  // its let's variable in each: computed once.
  ops::WriteFn write = [&](int output, const std::vector<kir::Expr>& idx, kir::Expr value) -> kir::Stmt {
    KILN_CHECK(output == 0) << "multi-output anchors are not fused";
    std::vector<std::pair<kir::Expr, kir::Expr>> lets;
    // The group's values computed so far (all of the output's shape: read at idx).
    std::map<const ir::Value*, kir::Expr> computed;
    kir::Expr cur = value;
    for (size_t i = 1; i < group.nodes.size(); ++i) {
      kir::Expr bound = cur;
      if (!cur.as<kir::Var>() && !cur.as<kir::Load>() && !cur.as<kir::IntImm>() && !cur.as<kir::FloatImm>()) {
        bound = kir::var("t" + std::to_string(i), cur.type());
        lets.emplace_back(bound, cur);
      }
      computed[group.nodes[i - 1]->outputs[0]] = bound;
      ir::Node* n = group.nodes[i];
      ops::ReadFn read = [&](int input, const std::vector<kir::Expr>& in_idx) -> kir::Expr {
        ir::Value* v = n->inputs[input];
        auto it = computed.find(v);
        return it != computed.end() ? it->second : load_value(v, in_idx);
      };
      cur = ops::op_info(n->op).element(*n, idx, read);
    }
    kir::Stmt s = kir::store(out_buf, ops::flat_index(idx, result->type.shape), cur);
    for (auto it = lets.rbegin(); it != lets.rend(); ++it) s = kir::let_stmt(it->first, it->second, s);
    return s;
  };

  ir::Node* anchor = group.anchor();
  ops::ReadFn read = [&](int input, const std::vector<kir::Expr>& idx) -> kir::Expr {
    return load_value(anchor->inputs[input], idx);
  };
  ops::LowerContext ctx{*anchor, opts, read, write};
  ir::OpClass cls = ir::op_class(anchor->op);
  Expected<kir::Stmt> body = cls == ir::OpClass::kComplex ? ops::op_info(anchor->op).lower(ctx)
                                                          : ops::lower_elementwise(ctx);
  if (!body) return body.status().with_context(anchor->label());
  kernel.func.body = *body;
  return kernel;
}

}  // namespace kiln::lower
