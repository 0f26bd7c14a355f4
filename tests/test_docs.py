"""Every ```python block of README.md and docs/*.md runs as written.

The blocks of one file run in order, in one namespace (a later block may use what an earlier one defined), in a
fresh Python subprocess whose working directory is an empty temporary directory, with a timeout. Blocks fenced
```` ```python fragment ```` (signatures, sketches with placeholders) are skipped; other languages are not run.

A block whose first line is a comment naming a relative ``.py`` path (``# mypkg/layers.py``) is a file listing: it
is written to that path (new directories get an ``__init__.py``, except ``tests``) instead of being executed, so
later blocks can import it; a listed ``test_*.py`` file is then run with pytest, which must pass.

Blocks fenced ```` ```python needs-mnist ```` read the real MNIST files: they run with ``LAYERGRAPH_DATA`` set to
the tests' data directory, and are left out (the rest of the file still runs) when the files are absent.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MNIST_DIR, shared_data_dir

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TIMEOUT = 120  # seconds per file; the blocks themselves are meant to take seconds
XFAIL = {}  # doc name -> reason, for files whose blocks are known not to run yet

_FENCE = re.compile(r"^```(\S*)[ \t]*(.*?)\n(.*?)^```[ \t]*$", re.S | re.M)

_RUNNER = r"""
import json, os, re, subprocess, sys
sys.path.insert(0, os.getcwd())
blocks = json.load(sys.stdin)
namespace = {"__name__": "__main__"}
for name, line, code in blocks:
    listing = re.match(r"# ([\w./-]+\.py)\n", code)
    if listing:
        path = listing.group(1)
        parts = path.split("/")[:-1]
        for i in range(len(parts)):
            d = os.path.join(*parts[:i + 1])
            os.makedirs(d, exist_ok=True)
            if parts[i] != "tests" and not os.path.exists(os.path.join(d, "__init__.py")):
                open(os.path.join(d, "__init__.py"), "w").close()
        with open(path, "w") as fh:
            fh.write(code)
        if os.path.basename(path).startswith("test_"):
            proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", path])
            if proc.returncode:
                sys.exit(f"{name}:{line}: pytest {path} failed")
        continue
    # pad with blank lines so that tracebacks give the line number in the Markdown file
    exec(compile("\n" * line + code, name, "exec"), namespace)
"""


HAVE_MNIST = (MNIST_DIR / "t10k-images-idx3-ubyte.gz").is_file()


def python_blocks(path, mnist=True):
    """``(line, code)`` of every runnable ```` ```python ```` block in *path* (tagged ``fragment``: never;
    tagged ``needs-mnist``: only when *mnist*)."""
    text = path.read_text(encoding="utf-8")
    out = []
    for m in _FENCE.finditer(text):
        lang, tags = m.group(1), m.group(2).split()
        if lang == "python" and "fragment" not in tags and (mnist or "needs-mnist" not in tags):
            out.append((text.count("\n", 0, m.start(3)), m.group(3)))
    return out


def test_fence_parser_finds_runnable_blocks_only():
    sample = ("x\n```python\na = 1\n```\n\n```python fragment\nf(...)\n```\n"
              "```bash\nls\n```\n```python\nb = a + 1\n```\n```python needs-mnist\nc = 2\n```\n")
    path = ROOT / "build" / "_fence_sample.md"
    path.parent.mkdir(exist_ok=True)
    path.write_text(sample)
    try:
        assert python_blocks(path, mnist=False) == [(2, "a = 1\n"), (12, "b = a + 1\n")]
        assert python_blocks(path)[-1] == (15, "c = 2\n")
    finally:
        path.unlink()


def run_blocks(name, blocks, cwd):
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0", LAYERGRAPH_DATA=str(shared_data_dir()))
    payload = json.dumps([[name, line, code] for line, code in blocks])
    return subprocess.run([sys.executable, "-c", _RUNNER], input=payload, capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=TIMEOUT)


def test_file_listings_are_written_and_listed_tests_run(tmp_path):
    ok = run_blocks("demo.md", [(1, "# pkg/mod.py\nVALUE = 3\n"), (4, "import pkg.mod\nassert pkg.mod.VALUE == 3\n"),
                                (8, "# tests/test_x.py\nimport pkg.mod\n\ndef test_v():\n    assert pkg.mod.VALUE == 3\n")],
                    tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "pkg" / "__init__.py").is_file() and not (tmp_path / "tests" / "__init__.py").exists()
    bad = run_blocks("demo.md", [(1, "# tests/test_y.py\ndef test_v():\n    assert False\n")], tmp_path)
    assert bad.returncode != 0 and "demo.md:1: pytest tests/test_y.py failed" in bad.stderr


def test_a_raising_block_fails(tmp_path):
    proc = run_blocks("demo.md", [(1, "x = 1\n"), (5, "raise ValueError('boom')\n")], tmp_path)
    assert proc.returncode != 0 and "demo.md" in proc.stderr and "line 6" in proc.stderr


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_doc_python_blocks_run(doc, tmp_path):
    blocks = python_blocks(doc, mnist=HAVE_MNIST)
    if not blocks:
        pytest.skip(f"{doc.name} has no runnable python block")
    if doc.name in XFAIL:
        pytest.xfail(XFAIL[doc.name])
    proc = run_blocks(doc.name, blocks, tmp_path)
    assert proc.returncode == 0, f"{doc.name}: a python block failed\n{proc.stderr[-3000:]}"
