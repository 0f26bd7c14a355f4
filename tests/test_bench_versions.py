"""benchmarks/versions.py loads another git revision of the package under its own name, next to the current one."""

import importlib.util
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import layergraph as lg

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _versions_module():
    spec = importlib.util.spec_from_file_location("lg_bench_versions", os.path.join(ROOT, "benchmarks", "versions.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_revision_loads_as_a_separate_package_and_builds_the_same_network(tmp_path, monkeypatch):
    if shutil.which("git") is None or subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"],
                                                     capture_output=True).returncode != 0:
        pytest.skip("needs git and a git checkout")
    versions = _versions_module()
    monkeypatch.setattr(sys, "path", list(sys.path))
    old = versions.load_revision("HEAD", str(tmp_path))
    try:
        assert old.__name__ == "layergraph_old" and old.Affine is not lg.Affine
        assert old.__file__.startswith(str(tmp_path))
        rng = np.random.default_rng(0)
        x, t = rng.standard_normal((8, 784)).astype(np.float32), rng.integers(0, 10, 8)
        loss_old = versions.mlp(old, np.float32).loss_and_gradient(x, t)[0]
        loss_new = versions.mlp(lg, np.float32).loss_and_gradient(x, t)[0]
        np.testing.assert_allclose(loss_old, loss_new, rtol=1e-5)   # the same MLP, seeds and data in both
        assert not any(name == "layergraph" or name.startswith("layergraph.")
                       for name, mod in sys.modules.items() if getattr(mod, "__file__", "") and
                       str(tmp_path) in mod.__file__)
    finally:
        for name in [n for n in sys.modules if n == "layergraph_old" or n.startswith("layergraph_old.")]:
            del sys.modules[name]
