"""ruff and mypy pass on the repository, with the settings in pyproject.toml.

Both are pinned in the ``test`` extra (constraints.txt), so the rules do not change under the
code between two installs. A failure prints the tool's own report.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run_tool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing():
    done = run_tool("ruff", "check", "--no-cache", ".")
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_mypy_finds_nothing():
    done = run_tool("mypy", "--no-incremental", "--cache-dir", "/dev/null")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success" in done.stdout


def test_the_package_says_it_is_typed():
    assert (REPO / "semhash" / "py.typed").is_file()
    assert '"py.typed"' in (REPO / "pyproject.toml").read_text()
