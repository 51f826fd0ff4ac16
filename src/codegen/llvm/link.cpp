// codegen::link_shared_object: lld in process, object bytes -> model.so.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "codegen/codegen.h"
#include "lld/Common/Driver.h"
#include "llvm/Support/raw_ostream.h"

LLD_HAS_DRIVER(elf)

namespace kiln::codegen {

Status link_shared_object(const std::string& object_bytes, const Target& target, const std::string& out_path) {
  const char* emulation = nullptr;
  switch (target.arch) {
    case Arch::kX86_64: emulation = "elf_x86_64"; break;
    case Arch::kAArch64: emulation = "aarch64linux"; break;
    case Arch::kCuda:
      return Status::invalid("link_shared_object: target '" + target.triple + "' is CUDA; nothing to link with lld");
  }
  std::filesystem::path out(out_path);
  std::error_code ec;
  if (out.has_parent_path() && !std::filesystem::is_directory(out.parent_path(), ec)) {
    return Status::invalid("cannot write " + out_path + ": directory " + out.parent_path().string() +
                           " does not exist");
  }
  // lld reads inputs from files only.
  std::string tmp = (std::filesystem::temp_directory_path() / "kiln-link-XXXXXX.o").string();
  int fd = mkstemps(tmp.data(), 2);
  if (fd < 0) return Status::internal("cannot create a temporary object file in " + tmp);
  bool written = ::write(fd, object_bytes.data(), object_bytes.size()) == static_cast<ssize_t>(object_bytes.size());
  ::close(fd);
  if (!written) {
    std::remove(tmp.c_str());
    return Status::internal("cannot write temporary object file " + tmp);
  }
  std::vector<const char*> args{"ld.lld", "-m", emulation, "-shared", "--hash-style=gnu", "-z", "noexecstack",
                                "-z", "relro", "-z", "now", "--gc-sections", "-o", out_path.c_str(), tmp.c_str()};
  std::string out_text, err_text;
  int rc = 0;
  {
    // lld keeps global state: one link at a time.
    static std::mutex mutex;
    std::lock_guard<std::mutex> lock(mutex);
    llvm::raw_string_ostream out_os(out_text), err_os(err_text);
    lld::Result r = lld::lldMain(args, out_os, err_os, {{lld::Gnu, &lld::elf::link}});
    rc = r.retCode;
  }
  std::remove(tmp.c_str());
  if (rc != 0) return Status::internal("linking " + out_path + " with lld failed: " + err_text);
  return Status::ok();
}

}  // namespace kiln::codegen
