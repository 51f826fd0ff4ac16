// Shared by the codegen tests that JIT-run hand-built kernel IR: one JIT per
// test and a helper that adds a Func and runs it, failing the test with the
// codegen's message.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "codegen/codegen.h"
#include "kernel/ir.h"

namespace kiln::codegen::testing {

inline std::unique_ptr<Jit> make_jit() {
  auto jit = Jit::create();
  EXPECT_TRUE(jit.has_value()) << jit.status().message();
  return std::move(jit).value();
}

inline void run(Jit& jit, const kir::Func& f, std::vector<void*> args) {
  Status s = jit.add(f);
  ASSERT_TRUE(s.is_ok()) << s.message();
  s = jit.run(f.name, args);
  ASSERT_TRUE(s.is_ok()) << s.message();
}

}  // namespace kiln::codegen::testing
