# -*- Python -*-
import os
import shutil

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "VSA"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".onnxtext", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "fixtures"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.vsa_obj_root, "test")

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%fixtures", os.path.join(config.vsa_src_root, "test", "fixtures")))
python = config.python_executable or shutil.which("python3")
config.substitutions.append(("%python", python))
# Compiling what vsa-translate --vrt-to-cpp emits against the runtime.
config.substitutions.append(("%vsart_include", os.path.join(config.vsa_src_root, "runtime", "include")))
config.substitutions.append(("%vsart_lib", os.path.join(config.vsa_obj_root, "runtime", "libvsart.a")))
config.environment["FILECHECK_OPTS"] = "--enable-var-scope"

llvm_config.use_default_substitutions()
llvm_config.with_system_environment(["HOME", "TMP", "TEMP", "PYTHONPATH"])

# `not`, `count`, FileCheck live next to lit; RUN lines use them after pipes.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tool_dirs = [config.vsa_tools_dir, config.llvm_tools_dir]
tools = ["vsa-opt", "vsac", "vsa-interp", "vsa-translate", "vsart-tests", "vsa-codegen-tests"]
# vsart-cuda-tests is built only where CMake found CUDA (it skips without a GPU).
if getattr(config, "vsa_has_cuda_tests", False):
    config.available_features.add("vsart-cuda")
    tools.append("vsart-cuda-tests")
llvm_config.add_tool_substitutions(tools, tool_dirs)
