// Memory planning: liveness over the kernel order, first-fit arena offsets.
#include "passes/plan_memory.h"

#include <algorithm>
#include <iterator>
#include <set>

#include "base/check.h"

namespace kiln::passes {

namespace {

int64_t align_up(int64_t n) { return (n + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment; }

// First-fit allocator over [0, size) with free-block coalescing by offset.
class Arena {
 public:
  int64_t allocate(int64_t bytes) {
    bytes = std::max<int64_t>(align_up(bytes), kBufferAlignment);
    for (auto it = free_.begin(); it != free_.end(); ++it) {
      if (it->second >= bytes) {
        int64_t off = it->first;
        int64_t rest = it->second - bytes;
        free_.erase(it);
        if (rest > 0) free_[off + bytes] = rest;
        used_[off] = bytes;
        return off;
      }
    }
    // Grow: extend a free block that ends at the top, else append.
    int64_t off = size_;
    if (!free_.empty()) {
      auto last = std::prev(free_.end());
      if (last->first + last->second == size_) {
        off = last->first;
        free_.erase(last);
      }
    }
    size_ = off + bytes;
    used_[off] = bytes;
    return off;
  }
  void release(int64_t off) {
    auto it = used_.find(off);
    KILN_CHECK(it != used_.end()) << "double free in memory plan at " << off;
    int64_t len = it->second;
    used_.erase(it);
    auto next = free_.lower_bound(off);
    if (next != free_.end() && off + len == next->first) {
      len += next->second;
      free_.erase(next);
    }
    auto prev = free_.lower_bound(off);
    if (prev != free_.begin()) {
      --prev;
      if (prev->first + prev->second == off) {
        prev->second += len;
        return;
      }
    }
    free_[off] = len;
  }
  int64_t size() const { return size_; }

 private:
  std::map<int64_t, int64_t> free_;  // offset -> length
  std::map<int64_t, int64_t> used_;
  int64_t size_ = 0;
};

// Follows Reshape aliases to the value that owns the storage.
const ir::Value* storage_root(const ir::Value* v) {
  while (v->producer && v->producer->op == ir::OpKind::kReshape) v = v->producer->inputs[0];
  return v;
}

}  // namespace

MemoryPlan plan_memory(const ir::Graph& g, const std::vector<lower::FusedGroup>& groups,
                       const std::vector<std::vector<int64_t>>& scratch_bytes) {
  KILN_CHECK(scratch_bytes.empty() || scratch_bytes.size() == groups.size())
      << "scratch sizes for " << scratch_bytes.size() << " of " << groups.size() << " groups";
  MemoryPlan plan;
  plan.scratch.resize(groups.size());
  for (size_t i = 0; i < g.inputs().size(); ++i)
    plan.location[g.inputs()[i]] = {codegen::KernelArg::Kind::kInput, static_cast<int64_t>(i)};
  for (size_t i = 0; i < g.outputs().size(); ++i) {
    const ir::Value* v = g.outputs()[i].value;
    KILN_CHECK(v->producer && v->producer->op != ir::OpKind::kReshape) << "output " << v->name << " not materialized";
    plan.location[v] = {codegen::KernelArg::Kind::kOutput, static_cast<int64_t>(i)};
  }

  // Last group that reads each storage root.
  std::map<const ir::Value*, size_t> last_use;
  std::vector<std::vector<const ir::Value*>> reads(groups.size());
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    std::set<const ir::Value*> internal;
    for (size_t k = 0; k + 1 < groups[gi].nodes.size(); ++k) internal.insert(groups[gi].nodes[k]->outputs[0]);
    for (const ir::Node* n : groups[gi].nodes)
      for (const ir::Value* in : n->inputs) {
        if (internal.count(in)) continue;
        const ir::Value* root = storage_root(in);
        last_use[root] = gi;
        reads[gi].push_back(in);
      }
  }

  Arena arena;
  std::map<const ir::Value*, int64_t> arena_offset;
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    const ir::Value* result = groups[gi].result();
    if (!plan.location.count(result)) {
      int64_t off = arena.allocate(result->type.num_bytes());
      arena_offset[result] = off;
      plan.location[result] = {codegen::KernelArg::Kind::kArena, off};
    }
    for (const ir::Value* in : reads[gi]) {
      const ir::Value* root = storage_root(in);
      if (!plan.location.count(root)) {
        KILN_CHECK(root->is_constant()) << "value " << root->name << " read before it is computed";
        int64_t off = align_up(static_cast<int64_t>(plan.weights.size()));
        // An empty constant still gets one byte, so that its offset lies inside the blob.
        int64_t bytes = std::max<int64_t>(root->constant->num_bytes(), 1);
        plan.weights.resize(static_cast<size_t>(off + bytes), 0);
        std::copy(root->constant->bytes(), root->constant->bytes() + root->constant->num_bytes(),
                  plan.weights.begin() + off);
        plan.location[root] = {codegen::KernelArg::Kind::kWeights, off};
      }
      plan.location[in] = plan.location[root];
    }
    // Scratch: live during this kernel only, beside its inputs and result.
    std::vector<int64_t> scratch_offsets;
    if (!scratch_bytes.empty())
      for (int64_t bytes : scratch_bytes[gi]) {
        scratch_offsets.push_back(arena.allocate(bytes));
        plan.scratch[gi].push_back({codegen::KernelArg::Kind::kArena, scratch_offsets.back()});
      }
    for (int64_t off : scratch_offsets) arena.release(off);
    // Free what this group was the last to read (after its result was placed).
    std::set<const ir::Value*> freed;
    for (const ir::Value* in : reads[gi]) {
      const ir::Value* root = storage_root(in);
      if (last_use[root] == gi && arena_offset.count(root) && freed.insert(root).second)
        arena.release(arena_offset[root]);
    }
    // A result nobody reads (a dead end kept alive as an output) is freed at once.
    if (arena_offset.count(result) && !last_use.count(result)) arena.release(arena_offset[result]);
  }
  plan.weights.resize(static_cast<size_t>(align_up(static_cast<int64_t>(plan.weights.size()))), 0);
  plan.arena_bytes = arena.size();
  return plan;
}

}  // namespace kiln::passes
