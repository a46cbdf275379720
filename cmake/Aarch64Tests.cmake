# The aarch64 half of make test: the runtime, the driver, the test models and
# their tests cross-built for aarch64-linux-gnu (cmake/aarch64-linux-gnu.cmake,
# cmake/CrossTarget.cmake) with this build's mestc, and run under qemu-user:
#   aarch64-tests     every generated kernel and both compiled train steps
#                     against the reference kernels, the unit tests (one ctest
#                     of the cross build, run from this one)
#   aarch64-vs-host   a short training run equals the host's, and resumes
# scripts/install-deps.sh installs the cross toolchain, qemu and the arm64
# libraries; without them the tests are skipped, loudly.
set(MEST_AARCH64_LIBS /opt/mest/aarch64-linux-gnu/lib)
find_program(MEST_QEMU_AARCH64 qemu-aarch64)
set(missing)
if(NOT MEST_QEMU_AARCH64)
  list(APPEND missing "qemu-aarch64 (qemu-user)")
endif()
foreach(file /usr/aarch64-linux-gnu/lib/libc.so.6 /usr/lib/aarch64-linux-gnu/libz.so
             /usr/lib/aarch64-linux-gnu/libfmt.so ${MEST_AARCH64_LIBS}/libomp.so)
  if(NOT EXISTS ${file})
    list(APPEND missing ${file})
  endif()
endforeach()
if(missing)
  message(WARNING "aarch64 cross build and emulated tests SKIPPED, missing: ${missing}. "
                  "scripts/install-deps.sh installs them; then reconfigure.")
  return()
endif()

include(ExternalProject)
set(dir ${CMAKE_BINARY_DIR}/aarch64)
ExternalProject_Add(mest-aarch64
  SOURCE_DIR ${PROJECT_SOURCE_DIR}
  BINARY_DIR ${dir}
  CMAKE_GENERATOR Ninja
  CMAKE_ARGS -DCMAKE_TOOLCHAIN_FILE=${PROJECT_SOURCE_DIR}/cmake/aarch64-linux-gnu.cmake
             -DMEST_AARCH64_LIBS=${MEST_AARCH64_LIBS}
             -DMEST_HOST_MESTC=$<TARGET_FILE:mestc>
             -DCMAKE_BUILD_TYPE=Release
             -DMEST_WERROR=${MEST_WERROR}
  BUILD_ALWAYS ON
  INSTALL_COMMAND ""
  DEPENDS mestc
  USES_TERMINAL_BUILD ON)

add_test(NAME aarch64-tests
  COMMAND ${CMAKE_CTEST_COMMAND} --test-dir ${dir} --output-on-failure --timeout 600)
add_test(NAME aarch64-vs-host
  COMMAND ${PROJECT_SOURCE_DIR}/test/driver/aarch64-vs-host.sh
          $<TARGET_FILE:mest-train-test-cnn> ${dir}/mest-train-test-cnn
          ${CMAKE_CURRENT_BINARY_DIR}/aarch64-vs-host
          ${MEST_QEMU_AARCH64} -L /usr/aarch64-linux-gnu
          -E LD_LIBRARY_PATH=${MEST_AARCH64_LIBS}:/usr/lib/aarch64-linux-gnu)
set_tests_properties(aarch64-vs-host PROPERTIES TIMEOUT 300)
# The documented command for a board's training binary (docs/aarch64.md).
add_test(NAME aarch64-train-binary
  COMMAND ${PROJECT_SOURCE_DIR}/test/tools/train-binary.sh ${PROJECT_SOURCE_DIR}
          ${CMAKE_BINARY_DIR} ${CMAKE_CURRENT_BINARY_DIR}/train-binary)
set_tests_properties(aarch64-train-binary PROPERTIES TIMEOUT 600)
