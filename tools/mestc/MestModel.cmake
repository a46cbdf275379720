# mest_compile_model(<target> MODEL <file.mlir> [EXPORT_KERNELS] [EXCLUDE_FROM_ALL]
#                    [OPTIONS <mestc flags>...])
#
# Compiles a mest model ahead of time with mestc into <target>, a static library
# holding the generated object and the model descriptor, with the model's header
# (model.h) and the runtime on its public interface.
#
# Used in mest's own tree and, installed, by find_package(mest) (mestConfig.cmake):
# MEST_MESTC names the compiler target (mestc here, mest::mestc installed).
find_package(OpenMP REQUIRED)
if(NOT MEST_MESTC)
  set(MEST_MESTC mestc)
endif()

function(mest_compile_model target)
  cmake_parse_arguments(ARG "EXPORT_KERNELS;EXCLUDE_FROM_ALL" "MODEL" "OPTIONS" ${ARGN})
  if(NOT ARG_MODEL)
    message(FATAL_ERROR "mest_compile_model(${target}): MODEL <file.mlir> is required")
  endif()
  get_filename_component(model ${ARG_MODEL} ABSOLUTE)
  set(dir ${CMAKE_CURRENT_BINARY_DIR}/${target}.mest)
  set(flags ${ARG_OPTIONS})
  if(ARG_EXPORT_KERNELS)
    list(APPEND flags --export-kernels)
  endif()
  add_custom_command(
    OUTPUT ${dir}/model.o ${dir}/model.h
    COMMAND ${CMAKE_COMMAND} -E make_directory ${dir}
    COMMAND ${MEST_MESTC} ${model} -o ${dir}/model.o --emit-header ${dir}/model.h ${flags}
            ${MEST_MESTC_TARGET_FLAGS}
    DEPENDS ${MEST_MESTC} $<TARGET_FILE:${MEST_MESTC}> ${model}
    COMMENT "mestc: compiling ${ARG_MODEL}"
    VERBATIM)
  file(GENERATE OUTPUT ${dir}/descriptor.c
       CONTENT "#define MEST_DEFINE_MODEL_DESCRIPTOR\n#include \"model.h\"\n")
  set_source_files_properties(${dir}/model.o PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)
  set(exclude)
  if(ARG_EXCLUDE_FROM_ALL)
    set(exclude EXCLUDE_FROM_ALL)
  endif()
  add_library(${target} STATIC ${exclude} ${dir}/model.o ${dir}/model.h ${dir}/descriptor.c)
  target_include_directories(${target} PUBLIC ${dir})
  target_link_libraries(${target} PUBLIC mest::runtime OpenMP::OpenMP_CXX)
endfunction()

# mest_add_training_binary(<name> MODEL <file.mlir> [OPTIONS <mestc flags>...])
#
# A training binary: the model compiled ahead of time, linked with the runtime
# and the training driver (run it with --help).
function(mest_add_training_binary name)
  cmake_parse_arguments(ARG "" "MODEL" "OPTIONS" ${ARGN})
  mest_compile_model(${name}_model MODEL ${ARG_MODEL} OPTIONS ${ARG_OPTIONS})
  # main() comes from mest::driver_main; an executable needs a source of its own.
  set(stub ${CMAKE_CURRENT_BINARY_DIR}/${name}_model.mest/binary.cpp)
  file(GENERATE OUTPUT ${stub} CONTENT "// ${name}: main() is in mest::driver_main.\n")
  add_executable(${name} ${stub})
  # The driver calls the model (mest_model_*): the model after the driver.
  target_link_libraries(${name} PRIVATE mest::driver_main mest::driver ${name}_model)
endfunction()
