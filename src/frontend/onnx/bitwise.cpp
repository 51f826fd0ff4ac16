// ONNX BitShift and BitwiseAnd/Or/Xor/Not onto the core bitwise ops
// (src/ops/bitwise.cpp). kiln has no uint16/32/64, so those inputs fail at load.
#include "frontend/onnx/op_table.h"

namespace kiln::frontend {

using ir::OpKind;
using ir::Value;

Status map_bitwise(NodeContext& ctx) {
  const std::string& type = ctx.op_type();
  ir::Attrs attrs;
  OpKind op = OpKind::kBitwiseNot;
  std::vector<Value*> ins{ctx.input(0)};
  if (type != "BitwiseNot") {
    ins.push_back(ctx.input(1));
    if (type == "BitShift") {
      std::string dir = ctx.attr_string("direction", "");
      if (dir != "LEFT" && dir != "RIGHT") return ctx.error("direction must be LEFT or RIGHT, got '" + dir + "'");
      attrs.set("direction", int64_t{dir == "RIGHT"});
      op = OpKind::kBitShift;
    } else {
      op = type == "BitwiseAnd" ? OpKind::kBitwiseAnd : type == "BitwiseOr" ? OpKind::kBitwiseOr : OpKind::kBitwiseXor;
    }
  }
  KILN_ASSIGN_OR_RETURN(Value * y, ctx.add(op, ins, attrs));
  ctx.set_output(0, y);
  return Status::ok();
}

}  // namespace kiln::frontend
