# -*- Python -*-
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "MEST"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["unit", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.mest_obj_root, "test")
config.substitutions.append(("%mest_src_root", config.mest_src_root))
config.substitutions.append(("%mest_obj_root", config.mest_obj_root))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()
tool_dirs = [config.mest_tools_dir, config.llvm_tools_dir]
llvm_config.add_tool_substitutions(
    ["mest-opt", "mest-model", "mest-import", "mestc", "FileCheck", "not", "count", "llvm-objdump"], tool_dirs)
