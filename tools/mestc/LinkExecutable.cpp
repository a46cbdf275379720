//===- LinkExecutable.cpp - mestc --emit exe: a training binary -----------===//
#include "LinkExecutable.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <vector>

using namespace llvm;

namespace {

/// Where the runtime's libraries and headers are: installed next to mestc, or
/// the build tree it was built in (MEST_BUILD_RUNTIME_DIR, MEST_SOURCE_DIR).
bool findRuntime(StringRef argv0, std::string &libDir, std::string &includeDir,
                 std::string &error) {
  static int anchor;
  std::string exe = sys::fs::getMainExecutable(argv0.str().c_str(), &anchor);
  SmallString<256> prefix(sys::path::parent_path(sys::path::parent_path(exe)));
  SmallString<256> lib(prefix), include(prefix);
  sys::path::append(lib, "lib", "mest");
  sys::path::append(include, "include", "mest");
  auto has = [](StringRef dir, StringRef file) {
    SmallString<256> p(dir);
    sys::path::append(p, file);
    return sys::fs::exists(p);
  };
  if (has(lib, "libmest_driver_main.a") && has(include, "runtime/abi/mest_abi.h")) {
    libDir = lib.str().str();
    includeDir = include.str().str();
    return true;
  }
#if defined(MEST_BUILD_RUNTIME_DIR) && defined(MEST_SOURCE_DIR)
  if (has(MEST_BUILD_RUNTIME_DIR, "libmest_driver_main.a")) {
    libDir = MEST_BUILD_RUNTIME_DIR;
    includeDir = MEST_SOURCE_DIR;
    return true;
  }
#endif
  error = ("no mest runtime next to " + exe + ": expected " + lib + "/libmest_driver_main.a " +
           "(an install: cmake --install BUILD --prefix PREFIX) or mest's build tree")
              .str();
  return false;
}

std::string findCompiler(ArrayRef<StringRef> names) {
  for (StringRef name : names)
    if (ErrorOr<std::string> path = sys::findProgramByName(name)) return *path;
  return "";
}

bool run(ArrayRef<std::string> args, std::string &error) {
  SmallVector<StringRef> refs(args.begin(), args.end());
  std::string message;
  int rc = sys::ExecuteAndWait(refs[0], refs, std::nullopt, {}, 0, 0, &message);
  if (rc == 0) return true;
  raw_string_ostream os(error);
  os << "the command failed (exit " << rc << (message.empty() ? "" : ", " + message) << "):";
  for (StringRef a : refs) os << ' ' << a;
  return false;
}

} // namespace

bool mest::linkTrainingBinary(StringRef argv0, StringRef object, StringRef header,
                              StringRef output, std::string &error) {
  std::string libDir, includeDir;
  if (!findRuntime(argv0, libDir, includeDir, error)) return false;
  std::string cc = findCompiler({"clang-19", "clang"}), cxx = findCompiler({"clang++-19", "clang++"});
  if (cc.empty() || cxx.empty()) {
    error = "--emit exe links with clang-19 (clang and clang++), which is not on PATH";
    return false;
  }
  // The descriptor: the header's data, compiled once (docs/abi.md).
  SmallString<256> dir(sys::path::parent_path(object));
  SmallString<256> descriptorC(dir), descriptorO(dir);
  sys::path::append(descriptorC, "descriptor.c");
  sys::path::append(descriptorO, "descriptor.o");
  {
    std::error_code ec;
    raw_fd_ostream os(descriptorC, ec);
    if (ec) {
      error = ("cannot write " + descriptorC + ": " + ec.message()).str();
      return false;
    }
    SmallString<256> absolute(header);
    sys::fs::make_absolute(absolute);
    os << "#define MEST_DEFINE_MODEL_DESCRIPTOR\n#include \"" << absolute << "\"\n";
  }
  if (!run({cc, "-c", "-O2", "-I" + includeDir, descriptorC.str().str(), "-o",
            descriptorO.str().str()},
           error))
    return false;
  auto lib = [&](StringRef name) { return libDir + "/lib" + name.str() + ".a"; };
  std::vector<std::string> command{cxx, "-o", output.str(), object.str(), descriptorO.str().str(),
                                   lib("mest_driver_main"), lib("mest_driver"),
                                   lib("mest_runtime"), "-lfmt", "-lz", "-fopenmp"};
#ifdef MEST_MPI_LIBRARIES  // the driver was built with OpenMPI (data-parallel training)
  SmallVector<StringRef> mpi;
  StringRef(MEST_MPI_LIBRARIES).split(mpi, '|', -1, false);
  for (StringRef l : mpi) command.push_back(l.str());
#endif
  return run(command, error);
}
