"""The README's two commands stay true: CI runs the test command, and the example builds."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```sh\n(.+?)\n```", readme)


def test_readme_opens_with_the_install_and_the_test_command():
    install, test = _commands()[:2]
    assert install.endswith("pip install . && bibtools build")
    assert test.endswith("pip install -e '.[test]' && python -m pytest")


def test_ci_runs_exactly_the_readme_test_command():
    test = _commands()[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    last = [line for line in ci.splitlines() if line.strip() and not line.startswith("#")][-1]
    assert test.endswith(last), (test, last)


def test_the_python_api_example_runs_and_prints_what_it_says(capsys) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Python API") :]
    code = re.search(r"```python\n(.+?)\n```", section, re.S).group(1)
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "<string>:5: error: @article{broken" in out  # the broken entry, with its line
    assert "['knuth84']" in out
    assert "@string{jacm" in out and "journal = jacm" in out  # the macro stays a macro
    assert '"title": "Literate Programming"' in out
