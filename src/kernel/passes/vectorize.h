// Vectorize: turns every kVectorized loop into straight-line vector code.
#pragma once

#include "kernel/ir.h"

namespace kiln::kir {

// Assumes: every kVectorized For has a constant extent L >= 1 and no kVectorized
// loop nested inside it; loop bounds inside it do not depend on its variable.
// Leaves: no kVectorized For. The loop variable becomes ramp(min, 1, L); index
// arithmetic on ramps is folded so a contiguous access has index ramp(base, 1, L)
// (a vector load/store), a lane-invariant one is broadcast(load(scalar index)),
// anything else a gather/scatter. Allocates inside the loop get one element per
// lane (buffer "<name>.v", L times the size; element i of lane j sits at i*L + j),
// so scalar accumulators become vector accumulators. Serial/unrolled loops inside
// stay loops with a scalar variable and a vectorized body. An IfThenElse whose
// condition varies across lanes becomes stores of select(cond, new, old); if its
// branches hold anything but stores and lets, this is a compiler bug (KILN_CHECK):
// lowerers must use Select there. Predicated lanes still read and write memory.
Stmt vectorize_loops(const Stmt& s);
Func vectorize_loops(const Func& f);

}  // namespace kiln::kir
