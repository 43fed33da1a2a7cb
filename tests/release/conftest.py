"""The one-file release, built once per test session (`deploy/build.py`, as `make dist` runs it) and run
as on a VM with only Python 3.11: a bare virtualenv's interpreter, found by the file's shebang on a PATH
that holds nothing else, from a folder outside the checkout, with no PYTHONPATH."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.processes import REPO

BUILD_TIMEOUT_SECONDS = 600
_BUILD_SECONDS: list[float] = []


@dataclass(frozen=True)
class Release:
    file: Path
    python_bin: Path  # the folder of an interpreter with nothing installed
    shiv_root: Path  # where the file unpacks itself (SHIV_ROOT), kept out of the home folder
    cwd: Path

    @property
    def env(self) -> dict[str, str]:
        return {"PATH": str(self.python_bin), "SHIV_ROOT": str(self.shiv_root), "HOME": str(self.cwd), "LANG": "C.UTF-8"}

    def run(self, *arguments: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """`connect-worker ARGUMENTS` to its end: exit code, stdout and stderr."""
        return subprocess.run(
            [str(self.file), *arguments], cwd=self.cwd, env=self.env, capture_output=True, text=True, timeout=timeout
        )

    def start(self, *arguments: str) -> subprocess.Popen[str]:
        """`connect-worker ARGUMENTS` in the background, its output captured."""
        return subprocess.Popen(
            [str(self.file), *arguments], cwd=self.cwd, env=self.env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True,
        )


@pytest.fixture(scope="session")
def release(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Release]:
    folder = tmp_path_factory.mktemp("release")
    started = time.monotonic()
    built = subprocess.run(
        [sys.executable, str(REPO / "deploy" / "build.py"), "--output", str(folder / "connect-worker")],
        capture_output=True, text=True, timeout=BUILD_TIMEOUT_SECONDS,
    )
    assert built.returncode == 0, built.stderr
    _BUILD_SECONDS.append(time.monotonic() - started)
    bare = folder / "python"
    # The interpreter the virtualenv was made from, without the virtualenv's packages: nothing installed.
    base_python = Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    subprocess.run([str(base_python), "-m", "venv", "--without-pip", str(bare)], check=True, timeout=120)
    cwd = folder / "elsewhere"
    cwd.mkdir()
    yield Release(folder / "connect-worker", bare / "bin", folder / "shiv", cwd)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _BUILD_SECONDS:
        terminalreporter.write_line(f"release: dist/connect-worker built in {_BUILD_SECONDS[0]:.1f} s for tests/release/")
