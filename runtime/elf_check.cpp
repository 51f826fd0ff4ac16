// ELF header checks done before dlopen (architecture, class, file type).
#include "elf_check.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace kiln::rt {
namespace {

constexpr uint16_t kEmX86_64 = 62;
constexpr uint16_t kEmAarch64 = 183;
constexpr uint16_t kEtDyn = 3;
constexpr size_t kElf64HeaderBytes = 64;

uint16_t read_u16_le(const unsigned char* p) { return uint16_t(p[0] | (p[1] << 8)); }

#if defined(__x86_64__)
constexpr uint16_t kHostMachine = kEmX86_64;
#elif defined(__aarch64__)
constexpr uint16_t kHostMachine = kEmAarch64;
#else
#error "kiln runtime supports x86_64 and aarch64 hosts"
#endif

}  // namespace

const char* host_arch_name() {
  return kHostMachine == kEmX86_64 ? "x86_64" : "aarch64";
}

std::string elf_machine_name(uint16_t e_machine, bool is_64bit) {
  switch (e_machine) {
    case kEmX86_64: return "x86_64";
    case kEmAarch64: return "aarch64";
    case 3: return "i386";
    case 40: return "arm";
    case 8: return is_64bit ? "mips64" : "mips";
    case 21: return "ppc64";
    case 22: return "s390x";
    case 243: return is_64bit ? "riscv64" : "riscv32";
    case 190: return "cuda";
    default: return "machine " + std::to_string(e_machine);
  }
}

std::string check_elf_header(const std::string& path, const unsigned char* h, size_t size) {
  if (size < 20 || std::memcmp(h, "\x7f" "ELF", 4) != 0)
    return path + " is not a shared object (no ELF header)";
  const bool is_64bit = h[4] == 2;
  const bool little = h[5] == 1;
  const uint16_t machine = little ? read_u16_le(h + 18) : uint16_t((h[18] << 8) | h[19]);
  if (machine != kHostMachine || !is_64bit || !little) {
    std::string what = elf_machine_name(machine, is_64bit);
    if (machine == kHostMachine) what += is_64bit ? " (big-endian)" : " (32-bit)";
    return path + " was compiled for " + what + ", but this machine is " + host_arch_name();
  }
  if (size < kElf64HeaderBytes) return path + " is not a shared object (truncated ELF header)";
  const uint16_t type = read_u16_le(h + 16);
  if (type != kEtDyn) return path + " is not a shared object (ELF type " + std::to_string(type) + ")";
  return "";
}

std::string check_elf_file(const std::string& path, bool* missing) {
  *missing = false;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    *missing = errno == ENOENT;
    return "cannot open " + path + ": " + std::strerror(errno);
  }
  unsigned char header[kElf64HeaderBytes] = {};
  const size_t got = std::fread(header, 1, sizeof(header), f);
  std::fclose(f);
  return check_elf_header(path, header, got);
}

}  // namespace kiln::rt
