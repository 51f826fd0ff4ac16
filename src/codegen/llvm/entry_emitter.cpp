// kiln_run + weights + kiln_model_v1 (see entry_emitter.h). The descriptor's
// LLVM struct types mirror kiln_tensor_desc and kiln_model_desc field by field.
#include "codegen/llvm/entry_emitter.h"

#include "codegen/llvm/host_api_type.h"
#include "kiln/model_abi.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Module.h"

namespace kiln::codegen {
namespace {

llvm::Constant* string_constant(llvm::Module& m, const std::string& s, const std::string& name) {
  llvm::Constant* data = llvm::ConstantDataArray::getString(m.getContext(), s, true);
  auto* gv = new llvm::GlobalVariable(m, data->getType(), true, llvm::GlobalValue::PrivateLinkage, data, name);
  gv->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
  return gv;
}

Expected<llvm::Value*> kernel_argument(llvm::IRBuilder<>& b, const KernelArg& arg, const ModelPlan& plan,
                                       llvm::Value* inputs, llvm::Value* outputs, llvm::Value* arena,
                                       llvm::Constant* weights, const std::string& kernel) {
  std::string where = "kernel call " + kernel + ": ";
  switch (arg.kind) {
    case KernelArg::Kind::kInput:
    case KernelArg::Kind::kOutput: {
      bool in = arg.kind == KernelArg::Kind::kInput;
      size_t n = in ? plan.inputs.size() : plan.outputs.size();
      if (arg.value < 0 || static_cast<size_t>(arg.value) >= n) {
        return Status::internal(where + (in ? "input" : "output") + " index " + std::to_string(arg.value) +
                                " out of range (" + std::to_string(n) + ")");
      }
      llvm::Value* slot = b.CreateConstInBoundsGEP1_64(b.getPtrTy(), in ? inputs : outputs, arg.value);
      return b.CreateLoad(b.getPtrTy(), slot);
    }
    case KernelArg::Kind::kArena:
      if (arg.value < 0 || arg.value >= plan.arena_bytes) {
        return Status::internal(where + "arena offset " + std::to_string(arg.value) + " outside the arena (" +
                                std::to_string(plan.arena_bytes) + " bytes)");
      }
      return b.CreateConstInBoundsGEP1_64(b.getInt8Ty(), arena, arg.value);
    case KernelArg::Kind::kWeights:
      if (arg.value < 0 || static_cast<size_t>(arg.value) >= plan.weights.size()) {
        return Status::internal(where + "weights offset " + std::to_string(arg.value) + " outside the weights (" +
                                std::to_string(plan.weights.size()) + " bytes)");
      }
      return b.CreateConstInBoundsGEP1_64(b.getInt8Ty(), weights, arg.value);
  }
  return Status::internal(where + "bad argument kind");
}

// Calls the kernels in order; after each, host->kernel_done(host->profiler, i)
// when kernel_done is not null (profiling).
Status emit_run(llvm::Module& m, const ModelPlan& plan, llvm::Constant* weights, llvm::Function* run) {
  llvm::LLVMContext& ctx = m.getContext();
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", run));
  llvm::Value* host = run->getArg(0);
  llvm::StructType* host_type = host_api_type(ctx);
  llvm::Value* kernel_done =
      b.CreateLoad(b.getPtrTy(), b.CreateStructGEP(host_type, host, kHostKernelDone), "kernel_done");
  llvm::Value* profiler = b.CreateLoad(b.getPtrTy(), b.CreateStructGEP(host_type, host, kHostProfiler), "profiler");
  llvm::Value* profiling = b.CreateIsNotNull(kernel_done, "profiling");
  auto* done_type = llvm::FunctionType::get(b.getVoidTy(), {b.getPtrTy(), b.getInt32Ty()}, false);
  for (size_t i = 0; i < plan.calls.size(); ++i) {
    const KernelCall& call = plan.calls[i];
    llvm::Function* fn = m.getFunction(call.func);
    if (!fn) return Status::internal("the plan calls kernel '" + call.func + "', which is not in plan.funcs");
    if (fn->arg_size() != call.args.size() + 1) {
      return Status::internal("kernel call " + call.func + ": " + std::to_string(call.args.size()) +
                              " arguments for " + std::to_string(fn->arg_size() - 1) + " parameters");
    }
    std::vector<llvm::Value*> args{host};
    for (const KernelArg& a : call.args) {
      KILN_ASSIGN_OR_RETURN(llvm::Value * v, kernel_argument(b, a, plan, run->getArg(1), run->getArg(2),
                                                             run->getArg(3), weights, call.func));
      args.push_back(v);
    }
    b.CreateCall(fn, args);
    auto* report = llvm::BasicBlock::Create(ctx, "report", run);
    auto* next = llvm::BasicBlock::Create(ctx, "next", run);
    b.CreateCondBr(profiling, report, next);
    b.SetInsertPoint(report);
    b.CreateCall(done_type, kernel_done, {profiler, b.getInt32(static_cast<uint32_t>(i))});
    b.CreateBr(next);
    b.SetInsertPoint(next);
  }
  b.CreateRet(b.getInt32(0));
  return Status::ok();
}

// The kernel names, in call order: a private array of C strings.
llvm::Constant* kernel_names(llvm::Module& m, const ModelPlan& plan) {
  auto* ptr = llvm::PointerType::get(m.getContext(), 0);
  if (plan.calls.empty()) return llvm::ConstantPointerNull::get(ptr);
  std::vector<llvm::Constant*> names;
  for (size_t i = 0; i < plan.calls.size(); ++i)
    names.push_back(string_constant(m, plan.calls[i].func, "kiln_kernel_name" + std::to_string(i)));
  auto* arr_type = llvm::ArrayType::get(ptr, names.size());
  return new llvm::GlobalVariable(m, arr_type, true, llvm::GlobalValue::PrivateLinkage,
                                  llvm::ConstantArray::get(arr_type, names), "kiln_kernel_names");
}

llvm::Constant* tensor_descs(llvm::Module& m, const std::vector<TensorInfo>& tensors, const std::string& prefix) {
  llvm::LLVMContext& ctx = m.getContext();
  auto* ptr = llvm::PointerType::get(ctx, 0);
  auto* i32 = llvm::Type::getInt32Ty(ctx);
  auto* i64 = llvm::Type::getInt64Ty(ctx);
  // kiln_tensor_desc { name, dtype, rank, shape, num_bytes }
  auto* desc_type = llvm::StructType::get(ctx, {ptr, i32, i32, ptr, i64});
  if (tensors.empty()) return llvm::ConstantPointerNull::get(ptr);
  std::vector<llvm::Constant*> descs;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorInfo& t = tensors[i];
    std::string base = prefix + std::to_string(i);
    int64_t elems = 1;
    std::vector<uint64_t> dims;
    for (int64_t d : t.shape) {
      elems *= d;
      dims.push_back(static_cast<uint64_t>(d));
    }
    llvm::Constant* shape = llvm::ConstantPointerNull::get(ptr);
    if (!dims.empty()) {
      llvm::Constant* data = llvm::ConstantDataArray::get(ctx, dims);
      shape = new llvm::GlobalVariable(m, data->getType(), true, llvm::GlobalValue::PrivateLinkage, data,
                                       base + ".shape");
    }
    descs.push_back(llvm::ConstantStruct::get(
        desc_type, {string_constant(m, t.name, base + ".name"), llvm::ConstantInt::get(i32, static_cast<int>(t.dtype)),
                    llvm::ConstantInt::get(i32, dims.size()), shape,
                    llvm::ConstantInt::get(i64, elems * dtype_size(t.dtype))}));
  }
  auto* arr_type = llvm::ArrayType::get(desc_type, descs.size());
  return new llvm::GlobalVariable(m, arr_type, true, llvm::GlobalValue::PrivateLinkage,
                                  llvm::ConstantArray::get(arr_type, descs), prefix);
}

}  // namespace

Status emit_entry(llvm::Module& m, const ModelPlan& plan, const Target& target) {
  llvm::LLVMContext& ctx = m.getContext();
  auto* ptr = llvm::PointerType::get(ctx, 0);
  auto* i32 = llvm::Type::getInt32Ty(ctx);
  auto* i64 = llvm::Type::getInt64Ty(ctx);

  llvm::Constant* weights = llvm::ConstantPointerNull::get(ptr);
  if (!plan.weights.empty()) {
    llvm::Constant* data = llvm::ConstantDataArray::get(ctx, llvm::ArrayRef<uint8_t>(plan.weights));
    auto* gv = new llvm::GlobalVariable(m, data->getType(), true, llvm::GlobalValue::PrivateLinkage, data,
                                        "kiln_weights");
    gv->setAlignment(llvm::Align(64));
    weights = gv;
  }

  auto* run_type = llvm::FunctionType::get(i32, {ptr, ptr, ptr, ptr}, false);
  auto* run = llvm::Function::Create(run_type, llvm::Function::InternalLinkage, "kiln_run", m);
  run->addFnAttr(llvm::Attribute::NoUnwind);
  KILN_RETURN_IF_ERROR(emit_run(m, plan, weights, run));

  std::string features;
  for (const std::string& f : target.required_features) features += (features.empty() ? "" : ",") + f;
  auto* desc_type = llvm::StructType::get(
      ctx, {i32, i32, ptr, ptr, ptr, i32, i32, ptr, ptr, i64, ptr, i64, i64, ptr, ptr, i32, ptr});
  llvm::Constant* fields[] = {
      llvm::ConstantInt::get(i32, KILN_MODEL_MAGIC),
      llvm::ConstantInt::get(i32, KILN_MODEL_ABI_VERSION),
      string_constant(m, target.arch_name(), "kiln_arch"),
      string_constant(m, features, "kiln_cpu_features"),
      string_constant(m, KILN_VERSION, "kiln_version"),
      llvm::ConstantInt::get(i32, plan.inputs.size()),
      llvm::ConstantInt::get(i32, plan.outputs.size()),
      tensor_descs(m, plan.inputs, "kiln_inputs"),
      tensor_descs(m, plan.outputs, "kiln_outputs"),
      llvm::ConstantInt::get(i64, plan.arena_bytes),
      weights,
      llvm::ConstantInt::get(i64, plan.weights.size()),
      llvm::ConstantInt::get(i64, kiln_checksum64(plan.weights.data(), plan.weights.size())),
      string_constant(m, plan.metadata_json, "kiln_metadata_json"),
      run,
      llvm::ConstantInt::get(i32, plan.calls.size()),
      kernel_names(m, plan),
  };
  auto* desc = new llvm::GlobalVariable(m, desc_type, true, llvm::GlobalValue::ExternalLinkage,
                                        llvm::ConstantStruct::get(desc_type, fields), KILN_MODEL_SYMBOL);
  if (desc->getName() != KILN_MODEL_SYMBOL) {
    return Status::internal(std::string("a kernel is named ") + KILN_MODEL_SYMBOL + ", which is reserved");
  }
  desc->setVisibility(llvm::GlobalValue::DefaultVisibility);
  desc->setAlignment(llvm::Align(8));
  return Status::ok();
}

}  // namespace kiln::codegen
