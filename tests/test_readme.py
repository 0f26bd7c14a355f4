"""The README's Python example runs as written, and its Quick start names the commands CI runs."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_python_examples_run(capsys):
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "README has no python example"
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "PASS" in out and "step 4: loss" in out


def test_quick_start_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    commands = re.search(r"## Quick start.*?```bash\n(.*?)```", readme, flags=re.S).group(1).strip().splitlines()
    assert len(commands) == 2
    install_and_test = commands[1].split("&& ", 2)[-1]  # after creating and activating the environment
    assert install_and_test in ci
