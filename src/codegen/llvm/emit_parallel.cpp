// Parallel loops: the body is outlined into `void body(host, begin, end, noalias
// buffers..., scalars...)` plus a `void task(ctx, begin, end)` trampoline that
// unpacks a stack struct of captures; the kernel calls host->parallel_for.
#include <set>

#include "codegen/llvm/host_api_type.h"
#include "codegen/llvm/kernel_emitter.h"
#include "kernel/mutator.h"

namespace kiln::codegen {
namespace {

// Vars and buffers a statement refers to, in first-use order.
class UseCollector : public kir::IRVisitor {
 public:
  std::vector<const kir::ExprNode*> vars;
  std::vector<const kir::BufferNode*> buffers;

 protected:
  void visit_Var(const kir::Var* op) override {
    if (seen_.insert(op).second) vars.push_back(op);
  }
  void visit_Load(const kir::Load* op) override {
    add(op->buffer.get());
    kir::IRVisitor::visit_Load(op);
  }
  void visit_Store(const kir::Store* op) override {
    add(op->buffer.get());
    kir::IRVisitor::visit_Store(op);
  }

 private:
  void add(const kir::BufferNode* b) {
    if (seen_.insert(b).second) buffers.push_back(b);
  }
  std::set<const void*> seen_;
};

}  // namespace

void KernelEmitter::emit_parallel(const kir::For* op) {
  // Captures: what the loop uses that is bound outside it.
  UseCollector uses;
  uses.visit(op->min);
  uses.visit(op->body);
  std::vector<const kir::BufferNode*> cap_buffers;
  std::vector<const kir::ExprNode*> cap_vars;
  for (auto* b : uses.buffers) {
    if (buffers_.count(b)) cap_buffers.push_back(b);
  }
  for (auto* v : uses.vars) {
    if (vars_.count(v)) cap_vars.push_back(v);
  }

  std::string base = function_->getName().str() + ".par" + std::to_string(parallel_count_++);
  llvm::Type* ptr = b_.getPtrTy();
  llvm::Type* i64t = b_.getInt64Ty();
  std::vector<llvm::Type*> ctx_fields{ptr};
  std::vector<llvm::Type*> body_params{ptr, i64t, i64t};
  for (size_t i = 0; i < cap_buffers.size(); ++i) {
    ctx_fields.push_back(ptr);
    body_params.push_back(ptr);
  }
  for (auto* v : cap_vars) {
    ctx_fields.push_back(vars_[v]->getType());
    body_params.push_back(vars_[v]->getType());
  }
  auto* ctx_type = llvm::StructType::get(ctx_, ctx_fields);

  // 1. The outlined body.
  auto* body_fn = llvm::Function::Create(llvm::FunctionType::get(b_.getVoidTy(), body_params, false),
                                         llvm::Function::InternalLinkage, base + ".body", module_);
  body_fn->addFnAttr(llvm::Attribute::NoUnwind);
  {
    llvm::Function* saved_fn = function_;
    llvm::Value* saved_host = host_;
    auto saved_vars = vars_;
    auto saved_buffers = buffers_;
    llvm::IRBuilderBase::InsertPointGuard guard(b_);
    function_ = body_fn;
    host_ = body_fn->getArg(0);
    vars_.clear();
    buffers_.clear();
    unsigned a = 3;
    for (auto* b : cap_buffers) {
      llvm::Argument* arg = body_fn->getArg(a++);
      arg->setName(b->name);
      arg->addAttr(llvm::Attribute::NoAlias);
      buffers_[b] = arg;
    }
    for (auto* v : cap_vars) vars_[v] = body_fn->getArg(a++);
    in_parallel_ = true;
    b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", body_fn));
    llvm::Value* min = emit(op->min);
    const std::string& name = op->var.as<kir::Var>()->name;
    emit_counted_loop(body_fn->getArg(1), body_fn->getArg(2), name, [&](llvm::Value* i) {
      vars_[op->var.get()] = b_.CreateAdd(min, b_.CreateSExtOrTrunc(i, min->getType()));
      emit(op->body);
    });
    b_.CreateRetVoid();
    in_parallel_ = false;
    function_ = saved_fn;
    host_ = saved_host;
    vars_ = std::move(saved_vars);
    buffers_ = std::move(saved_buffers);
  }

  // 2. The task trampoline: unpack the context and call the body.
  auto* task_fn = llvm::Function::Create(llvm::FunctionType::get(b_.getVoidTy(), {ptr, i64t, i64t}, false),
                                         llvm::Function::InternalLinkage, base, module_);
  task_fn->addFnAttr(llvm::Attribute::NoUnwind);
  {
    llvm::IRBuilder<> tb(llvm::BasicBlock::Create(ctx_, "entry", task_fn));
    llvm::Value* ctx = task_fn->getArg(0);
    std::vector<llvm::Value*> args;
    for (unsigned f = 0; f < ctx_fields.size(); ++f) {
      llvm::Value* field = tb.CreateLoad(ctx_fields[f], tb.CreateStructGEP(ctx_type, ctx, f));
      args.push_back(field);
      if (f == 0) {
        args.push_back(task_fn->getArg(1));
        args.push_back(task_fn->getArg(2));
      }
    }
    tb.CreateCall(body_fn, args);
    tb.CreateRetVoid();
  }

  // 3. In the kernel: fill the context and fork.
  llvm::AllocaInst* ctx = entry_alloca(ctx_type, nullptr, base + ".ctx");
  b_.CreateStore(host_, b_.CreateStructGEP(ctx_type, ctx, 0));
  unsigned f = 1;
  for (auto* b : cap_buffers) b_.CreateStore(buffers_[b], b_.CreateStructGEP(ctx_type, ctx, f++));
  for (auto* v : cap_vars) b_.CreateStore(vars_[v], b_.CreateStructGEP(ctx_type, ctx, f++));
  llvm::StructType* host_type = host_api_type(ctx_);
  llvm::Value* pool = b_.CreateLoad(ptr, b_.CreateStructGEP(host_type, host_, kHostPool), "pool");
  llvm::Value* pfor = b_.CreateLoad(ptr, b_.CreateStructGEP(host_type, host_, kHostParallelFor), "parallel_for");
  auto* pfor_type = llvm::FunctionType::get(b_.getVoidTy(), {ptr, ptr, ptr, i64t}, false);
  llvm::Value* extent = b_.CreateSExtOrTrunc(emit(op->extent), i64t);
  b_.CreateCall(pfor_type, pfor, {pool, task_fn, ctx, extent});
}

}  // namespace kiln::codegen
