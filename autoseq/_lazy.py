"""Package attributes loaded on first use: ``__getattr__ = lazy_attributes(__name__, {...})``.

The top-level package stays light (importing ``autoseq`` loads no TensorFlow), and a stage's
own modules can import their siblings without running the stage's public entry points first.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(package: str, names: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``names[name]`` and returns its ``name``.

    Each attribute is stored on the package once loaded, so later lookups are plain ones.
    """

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
