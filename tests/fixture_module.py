"""The generator module (make_fixtures.py) of a fixture directory under tests/data/, loaded for its values."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType


def load_generator(directory: Path) -> ModuleType:
    """``directory``/make_fixtures.py as a module (its parameters and the numbers computed from them)."""
    spec = importlib.util.spec_from_file_location(f"{directory.name}_fixtures", directory / "make_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
