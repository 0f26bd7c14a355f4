"""Load a script of examples/ as a module, so tests use the example networks themselves, not copies of them."""

import importlib.util
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def example(name):
    """The module ``examples/<name>.py`` (its ``main`` is not run)."""
    spec = importlib.util.spec_from_file_location(f"lg_example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
