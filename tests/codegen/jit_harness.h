// Shared by the codegen tests that JIT-run hand-built kernel IR: one JIT per
// test and a helper that adds a Func and runs it, failing the test with the
// codegen's message.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "codegen/codegen.h"
#include "kernel/ir.h"
#include "targets/target.h"

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

// `cpus` plus the VNNI CPUs whose code this host can run: alderlake (AVX-VNNI) and
// sapphirerapids (AVX-512 VNNI), so that a test covers every x86 int8 path the host has.
inline std::vector<std::string> runnable_x86_cpus(std::vector<std::string> cpus) {
  Expected<Target> host = host_target();
  if (!host) return cpus;
  auto has = [&](const char* f) {
    return std::find(host->required_features.begin(), host->required_features.end(), f) !=
           host->required_features.end();
  };
  if (has("avxvnni")) cpus.push_back("alderlake");
  if (has("avx512vnni") && has("avx512bw") && has("avx512vl")) cpus.push_back("sapphirerapids");
  return cpus;
}

}  // namespace kiln::codegen::testing
