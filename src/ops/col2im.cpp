// Col2Im: the inverse of im2col. Input [N, C*prod(block), L] holds one column
// per sliding-block position (L = prod(L_i)); the output image [N, C, image...]
// sums every column entry that lands on each pixel. Attributes: image:ints,
// block:ints, strides:ints, dilations:ints, pads:ints (begins, then ends).
// As a gather: each output pixel reads the prod(block) taps that can reach it.
#include "ops/op_families.h"

namespace kiln::ops {

using kir::Expr;

namespace {

struct Col2ImParams {
  std::vector<int64_t> image, block, strides, dilations, pads, blocks;  // blocks: L_i
};

Expected<Col2ImParams> params(const ir::Node& node) {
  Col2ImParams p;
  p.image = node.attrs.get_ints("image", {});
  p.block = node.attrs.get_ints("block", {});
  size_t k = p.image.size();
  p.strides = node.attrs.get_ints("strides", std::vector<int64_t>(k, 1));
  p.dilations = node.attrs.get_ints("dilations", std::vector<int64_t>(k, 1));
  p.pads = node.attrs.get_ints("pads", std::vector<int64_t>(2 * k, 0));
  if (k == 0 || p.block.size() != k || p.strides.size() != k || p.dilations.size() != k || p.pads.size() != 2 * k)
    return Status::invalid("Col2Im image " + ints_str(p.image) + ", block " + ints_str(p.block) + ", strides " +
                           ints_str(p.strides) + ", dilations " + ints_str(p.dilations) + " and pads " +
                           ints_str(p.pads) + " do not agree in length");
  for (size_t i = 0; i < k; ++i) {
    if (p.image[i] < 1 || p.block[i] < 1 || p.strides[i] < 1 || p.dilations[i] < 1 || p.pads[i] < 0 ||
        p.pads[k + i] < 0)
      return Status::invalid("Col2Im image " + ints_str(p.image) + ", block " + ints_str(p.block) + ", strides " +
                             ints_str(p.strides) + ", dilations " + ints_str(p.dilations) + " or pads " +
                             ints_str(p.pads) + " has a value out of range");
    int64_t span = p.image[i] + p.pads[i] + p.pads[k + i] - p.dilations[i] * (p.block[i] - 1) - 1;
    if (span < 0) return Status::invalid("Col2Im block " + ints_str(p.block) + " does not fit image " + ints_str(p.image));
    p.blocks.push_back(span / p.strides[i] + 1);
  }
  return p;
}

}  // namespace

Status infer_col2im(const ir::Node& node, std::vector<ir::TensorType>* outputs) {
  KILN_RETURN_IF_ERROR(check_num_inputs(node, 1, 1));
  const ir::TensorType& x = node.inputs[0]->type;
  if (x.dtype == DType::kBool) return Status::invalid("Col2Im does not take a bool input (" + x.str() + ")");
  KILN_ASSIGN_OR_RETURN(Col2ImParams p, params(node));
  int64_t taps = 1, l = 1;
  for (size_t i = 0; i < p.block.size(); ++i) taps *= p.block[i], l *= p.blocks[i];
  if (x.rank() != 3 || x.shape[1] % taps != 0 || x.shape[2] != l)
    return Status::invalid("Col2Im input must be [N, C*" + std::to_string(taps) + ", " + std::to_string(l) +
                           "] for image " + ints_str(p.image) + " and block " + ints_str(p.block) + ", got " + x.str());
  ir::Shape shape = {x.shape[0], x.shape[1] / taps};
  shape.insert(shape.end(), p.image.begin(), p.image.end());
  outputs->assign(1, ir::TensorType{x.dtype, shape});
  return Status::ok();
}

Expr element_col2im(const ir::Node& node, const std::vector<Expr>& out_idx, const ReadFn& read) {
  Col2ImParams p = *params(node);
  size_t k = p.image.size();
  int64_t taps = 1;
  for (int64_t b : p.block) taps *= b;
  kir::Type t = scalar_type(node.inputs[0]->type.dtype);
  Expr zero = Expr(int64_t{0});
  Expr sum;
  for (int64_t j = 0; j < taps; ++j) {
    // Tap offsets (row-major in the block) and the block position each implies.
    std::vector<int64_t> off(k);
    int64_t rest = j;
    for (size_t i = k; i-- > 0;) off[i] = rest % p.block[i], rest /= p.block[i];
    Expr valid, l = zero;
    for (size_t i = 0; i < k; ++i) {
      Expr pos = out_idx[2 + i] + Expr(p.pads[i] - off[i] * p.dilations[i]);  // = block index * stride
      Expr q = pos / Expr(p.strides[i]);
      Expr ok = pos >= zero && q < Expr(p.blocks[i]);
      if (p.strides[i] > 1) ok = ok && pos % Expr(p.strides[i]) == zero;
      valid = valid ? (valid && ok) : ok;
      l = l * Expr(p.blocks[i]) + clamp_index(q, p.blocks[i]);
    }
    Expr v = read(0, {out_idx[0], out_idx[1] * Expr(taps) + Expr(j), l});
    Expr term = kir::select(valid, v, kir::make_const(t, 0));
    sum = sum ? sum + term : term;
  }
  return sum;
}

}  // namespace kiln::ops
