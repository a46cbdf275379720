# Cross build of mest's target half (runtime, driver, compiled models, their
# tests) for 64-bit ARM Linux with clang-19 and lld from Debian: the C library
# and libstdc++ of libc6-dev-arm64-cross / libstdc++-12-dev-arm64-cross, fmt
# and zlib from Debian's arm64 multiarch packages, libomp unpacked by
# scripts/install-deps.sh into MEST_AARCH64_LIBS (its arm64 package cannot be
# installed next to the host's). Tests run under qemu-aarch64 (qemu-user).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(triple aarch64-linux-gnu)
set(CMAKE_C_COMPILER clang-19)
set(CMAKE_CXX_COMPILER clang++-19)
set(CMAKE_C_COMPILER_TARGET ${triple})
set(CMAKE_CXX_COMPILER_TARGET ${triple})
set(CMAKE_LIBRARY_ARCHITECTURE ${triple})
if(NOT MEST_AARCH64_LIBS)
  set(MEST_AARCH64_LIBS /opt/mest/${triple}/lib)
endif()
set(CMAKE_EXE_LINKER_FLAGS_INIT "-fuse-ld=lld -L${MEST_AARCH64_LIBS}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-fuse-ld=lld -L${MEST_AARCH64_LIBS}")
set(CMAKE_FIND_ROOT_PATH /usr/${triple} /usr)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
# One OpenMP thread under emulation: qemu-user 7.2 on this project's machines
# hangs as soon as an emulated program starts a second thread (a plain
# std::thread too), so the emulated tests check results, not threading.
set(CMAKE_CROSSCOMPILING_EMULATOR
    qemu-aarch64 -L /usr/${triple}
    -E LD_LIBRARY_PATH=${MEST_AARCH64_LIBS}:/usr/lib/${triple}
    -E OMP_NUM_THREADS=1)
# FindOpenMP would take the host's libomp.so from clang's own library path.
set(OpenMP_omp_LIBRARY ${MEST_AARCH64_LIBS}/libomp.so CACHE FILEPATH "libomp for ${triple}")
