"""fuzz/targets.py for the tests: the fuzz oracle and the splitter's reference are one code."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def load_targets() -> ModuleType:
    # fuzz/ is a folder of scripts, not a package: load its module by path, once.
    name = "bibtools_fuzz_targets"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "fuzz" / "targets.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
