// Top-level large allocations -> arena scratch parameters (see hoist_scratch.h).
#include "lower/hoist_scratch.h"

namespace kiln::lower {

namespace {

// Hoists from the chain of Allocates that encloses `s`; returns what remains.
kir::Stmt hoist(const kir::Stmt& s, int64_t min_bytes, Kernel* k) {
  const kir::Allocate* a = s.as<kir::Allocate>();
  const int64_t* n = a ? kir::as_const_int(a->size) : nullptr;
  if (!n) return s;
  int64_t bytes = *n * dtype_size(a->buffer->elem);
  bool big = bytes >= min_bytes;
  if (big) {
    k->func.params.push_back(a->buffer);
    k->scratch_bytes.push_back(bytes);
  }
  kir::Stmt body = hoist(a->body, min_bytes, k);
  return big ? body : kir::allocate(a->buffer, a->size, body);
}

}  // namespace

void hoist_scratch(Kernel* k, int64_t min_bytes) {
  KILN_CHECK(k->scratch_bytes.empty()) << k->func.name << ": scratch hoisted twice";
  k->func.body = hoist(k->func.body, min_bytes, k);
}

}  // namespace kiln::lower
