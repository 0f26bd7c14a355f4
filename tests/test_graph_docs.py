"""Every ```python block of docs/graphs.md runs as written (one interpreter, a fresh namespace per block)."""

import json
import re
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "graphs.md"

RUNNER = r"""
import json, sys, traceback
for i, code in enumerate(json.load(sys.stdin)):
    try:
        exec(compile(code, f"graphs.md block {i}", "exec"), {"__name__": "__main__"})
    except Exception:
        print(f"block {i} failed:\n" + traceback.format_exc(), file=sys.stderr)
        sys.exit(1)
"""


def test_every_python_block_of_the_graphs_page_runs(tmp_path):
    blocks = re.findall(r"^```python\n(.*?)^```", DOC.read_text(), re.S | re.M)
    assert len(blocks) >= 6
    done = subprocess.run([sys.executable, "-c", RUNNER], input=json.dumps(blocks), cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
