# find_package(mest): the installed mest (cmake --install). Provides
#   mest::mestc                   the compiler (imported executable)
#   mest::runtime, mest::driver   the libraries a training binary links
#   mest::driver_main             the training binary's main()
#   mest_compile_model(), mest_add_training_binary()   (MestModel.cmake)
# Example: docs/training.md, "Outside mest's tree".
include(CMakeFindDependencyMacro)
find_dependency(fmt)
find_dependency(ZLIB)
find_dependency(OpenMP)
include("${CMAKE_CURRENT_LIST_DIR}/mestTargets.cmake")
get_filename_component(_mest_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
if(NOT TARGET mest::mestc)
  add_executable(mest::mestc IMPORTED)
  set_target_properties(mest::mestc PROPERTIES IMPORTED_LOCATION "${_mest_prefix}/bin/mestc")
endif()
set(MEST_MESTC mest::mestc)
include("${CMAKE_CURRENT_LIST_DIR}/MestModel.cmake")
