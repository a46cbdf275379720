# The target half of mest for a cross build (included by the top-level
# CMakeLists.txt when CMAKE_CROSSCOMPILING): the runtime and driver built for
# the target, models compiled by the host's mestc for the target triple, and
# the tests that compare them with the reference kernels, run by ctest under
# CMAKE_CROSSCOMPILING_EMULATOR.
if(NOT MEST_HOST_MESTC OR NOT EXISTS ${MEST_HOST_MESTC})
  message(FATAL_ERROR "a cross build needs the host's mestc: -DMEST_HOST_MESTC=<host build>/bin/mestc")
endif()
add_executable(mestc IMPORTED GLOBAL)
set_target_properties(mestc PROPERTIES IMPORTED_LOCATION ${MEST_HOST_MESTC})
if(CMAKE_CROSSCOMPILING)
  set(MEST_MESTC_TARGET_FLAGS --target ${CMAKE_CXX_COMPILER_TARGET})
  set(MEST_NATIVE OFF CACHE BOOL "" FORCE)
endif()
include_directories(${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
find_package(fmt REQUIRED)
enable_testing()
include(${PROJECT_SOURCE_DIR}/tools/mestc/MestModel.cmake)
add_subdirectory(runtime)
# scripts/train-binary.sh: one training binary of a user's model, nothing else.
if(MEST_USER_MODEL)
  separate_arguments(options UNIX_COMMAND "${MEST_USER_OPTIONS}")
  mest_add_training_binary(${MEST_USER_BINARY} MODEL ${MEST_USER_MODEL} OPTIONS ${options})
  return()
endif()
find_package(Catch2 2 REQUIRED)
include(Catch)
add_subdirectory(test/unit)
add_subdirectory(test/codegen)
# A training binary for the emulated end-to-end run (test/CMakeLists.txt, host side).
mest_add_training_binary(mest-train-test-cnn MODEL ${PROJECT_SOURCE_DIR}/test/driver/small-cnn.mlir)
option(MEST_CROSS_BENCH "Also build the ResNet-32 benchmark binaries (scripts/bench-aarch64.sh)" OFF)
if(MEST_CROSS_BENCH)
  add_subdirectory(bench/qemu)
endif()
