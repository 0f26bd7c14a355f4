"""Every ```python block of README.md and docs/*.md runs as written.

The blocks of one file run in order, in one namespace (a later block may use what an earlier one defined), in a
fresh Python subprocess whose working directory is an empty temporary directory, with a timeout. Blocks fenced
```` ```python fragment ```` (signatures, sketches with placeholders) are skipped; other languages are not run.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TIMEOUT = 120  # seconds per file; the blocks themselves are meant to take seconds
XFAIL = {}  # doc name -> reason, for files whose blocks are known not to run yet

_FENCE = re.compile(r"^```(\S*)[ \t]*(.*?)\n(.*?)^```[ \t]*$", re.S | re.M)

_RUNNER = r"""
import json, sys
blocks = json.load(sys.stdin)
namespace = {"__name__": "__main__"}
for name, line, code in blocks:
    # pad with blank lines so that tracebacks give the line number in the Markdown file
    exec(compile("\n" * line + code, name, "exec"), namespace)
"""


def python_blocks(path):
    """``(line, code)`` of every block fenced exactly ```` ```python ```` (no ``fragment`` tag) in *path*."""
    text = path.read_text(encoding="utf-8")
    out = []
    for m in _FENCE.finditer(text):
        lang, tags = m.group(1), m.group(2).split()
        if lang == "python" and "fragment" not in tags:
            out.append((text.count("\n", 0, m.start(3)), m.group(3)))
    return out


def test_fence_parser_finds_runnable_blocks_only():
    sample = ("x\n```python\na = 1\n```\n\n```python fragment\nf(...)\n```\n"
              "```bash\nls\n```\n```python\nb = a + 1\n```\n")
    path = ROOT / "build" / "_fence_sample.md"
    path.parent.mkdir(exist_ok=True)
    path.write_text(sample)
    try:
        assert python_blocks(path) == [(2, "a = 1\n"), (12, "b = a + 1\n")]
    finally:
        path.unlink()


def run_blocks(name, blocks, cwd):
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0")
    payload = json.dumps([[name, line, code] for line, code in blocks])
    return subprocess.run([sys.executable, "-c", _RUNNER], input=payload, capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=TIMEOUT)


def test_a_raising_block_fails(tmp_path):
    proc = run_blocks("demo.md", [(1, "x = 1\n"), (5, "raise ValueError('boom')\n")], tmp_path)
    assert proc.returncode != 0 and "demo.md" in proc.stderr and "line 6" in proc.stderr


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_doc_python_blocks_run(doc, tmp_path):
    blocks = python_blocks(doc)
    if not blocks:
        pytest.skip(f"{doc.name} has no runnable python block")
    if doc.name in XFAIL:
        pytest.xfail(XFAIL[doc.name])
    proc = run_blocks(doc.name, blocks, tmp_path)
    assert proc.returncode == 0, f"{doc.name}: a python block failed\n{proc.stderr[-3000:]}"
