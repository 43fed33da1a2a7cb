"""Build the one-file release: `dist/connect-worker`, a zipapp (shiv) that runs with any Python 3.11.

    .venv/bin/python deploy/build.py [--output dist/connect-worker]

The file holds the project, built as a wheel from this checkout (so only what pyproject.toml packages,
package data included, goes in), and its run-time dependencies as installed in the virtualenv that
runs this script: the very versions the test suite ran against, copied from the files each
distribution's RECORD lists. Nothing is fetched, so the build works offline; a dependency the
virtualenv lacks, or holds at a version pyproject.toml does not allow, stops the build and says so
(`make test` installs them). The binary wheels among them are this machine's: the file runs on the
same platform (Linux x86_64, CPython 3.11).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from email.parser import HeaderParser
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = REPO / "dist" / "connect-worker"
ENTRY_POINT = "run:main"
SHEBANG = "/usr/bin/env python3.11"
# Top-level entries of the checkout that are never part of the wheel, left out of its copy.
NOT_SOURCES = {".git", ".venv", ".pytest_cache", ".hypothesis", "build", "dist", "data", "tests", "bench", "docs"}


class BuildFailed(Exception):
    """The release file cannot be built; the message says why and what to do."""


def build(output: Path) -> Path:
    """Build the zipapp at `output` (its folder created if missing) and return its path."""
    with tempfile.TemporaryDirectory(prefix="connect-worker-build-") as work:
        work_path = Path(work)
        site_packages = work_path / "site-packages"
        wheel = _build_project_wheel(work_path)
        _pip("install", "--no-deps", "--no-index", "--no-compile", "--target", str(site_packages), str(wheel))
        for distribution in _runtime_closure(_requirements_of(wheel)):
            _copy_installed(distribution, site_packages)
        output.parent.mkdir(parents=True, exist_ok=True)
        _run(
            sys.executable, "-m", "shiv", "--site-packages", str(site_packages), "--entry-point", ENTRY_POINT,
            "--python", SHEBANG, "--output-file", str(output), "--compressed", "--reproducible",
        )
    return output


def _build_project_wheel(work: Path) -> Path:
    """The project's wheel, built from a copy of the checkout so no build output lands in it."""
    source = work / "source"
    shutil.copytree(REPO, source, ignore=_top_level(NOT_SOURCES), symlinks=True)
    wheels = work / "wheels"
    # No build isolation: the virtualenv's setuptools builds it, with nothing fetched.
    _pip("wheel", "--no-deps", "--no-index", "--no-build-isolation", "--wheel-dir", str(wheels), str(source))
    [wheel] = wheels.glob("connect_worker-*.whl")
    return wheel


def _top_level(names: set[str]) -> Callable[[str, list[str]], Iterable[str]]:
    """copytree's `ignore`: `names` at the checkout's top, compiled files anywhere."""

    def ignore(folder: str, entries: list[str]) -> Iterable[str]:
        if Path(folder) == REPO:
            return [entry for entry in entries if entry in names or entry.endswith(".egg-info")]
        return [entry for entry in entries if entry == "__pycache__"]

    return ignore


def _requirements_of(wheel: Path) -> list[Requirement]:
    with zipfile.ZipFile(wheel) as archive:
        [metadata] = [name for name in archive.namelist() if name.endswith(".dist-info/METADATA")]
        headers = HeaderParser().parsestr(archive.read(metadata).decode())
    return [Requirement(line) for line in headers.get_all("Requires-Dist") or []]


def _runtime_closure(requirements: list[Requirement]) -> list[importlib.metadata.Distribution]:
    """Every installed distribution the requirements need, with theirs, and so on; extras' only when asked."""
    found: dict[str, importlib.metadata.Distribution] = {}
    wanted = [(requirement, "the project") for requirement in requirements if _applies(requirement, ())]
    while wanted:
        requirement, needed_by = wanted.pop()
        name = canonicalize_name(requirement.name)
        try:
            distribution = found.get(name) or importlib.metadata.distribution(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            raise BuildFailed(
                f"{requirement} (needed by {needed_by}) is not installed in {sys.prefix}: run `make test` "
                "once, which installs every dependency"
            ) from None
        if not requirement.specifier.contains(distribution.version, prereleases=True):
            raise BuildFailed(
                f"{requirement} (needed by {needed_by}) is installed at {distribution.version} in {sys.prefix}: "
                "reinstall the virtualenv (make clean test)"
            )
        first_time = name not in found
        found[name] = distribution
        if first_time or requirement.extras:
            wanted.extend(
                (Requirement(line), f"{distribution.name} {distribution.version}")
                for line in distribution.requires or []
                if _applies(Requirement(line), requirement.extras)
            )
    return sorted(found.values(), key=lambda distribution: canonicalize_name(distribution.name))


def _applies(requirement: Requirement, extras: Iterable[str]) -> bool:
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({"extra": extra}) for extra in ("", *extras))


def _copy_installed(distribution: importlib.metadata.Distribution, site_packages: Path) -> None:
    """Copy the files of an installed distribution into `site_packages`, as its wheel put them there."""
    root = Path(distribution.locate_file("")).resolve()
    for relative in _installed_files(distribution, root):
        target = site_packages / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / relative, target)


def _installed_files(distribution: importlib.metadata.Distribution, root: Path) -> Iterator[Path]:
    if distribution.files is None:
        raise BuildFailed(f"{distribution.name} {distribution.version} has no RECORD: reinstall it with pip")
    for file in distribution.files:
        path = Path(file.locate()).resolve()
        # Scripts (../../bin) are not needed, compiled files are made again where the file runs.
        if not path.is_relative_to(root) or "__pycache__" in path.parts:
            continue
        if not path.is_file():
            raise BuildFailed(f"{path} of {distribution.name} {distribution.version} is missing: reinstall it")
        yield path.relative_to(root)


def _pip(*arguments: str) -> None:
    _run(sys.executable, "-m", "pip", "--quiet", "--disable-pip-version-check", *arguments)


def _run(*command: str) -> None:
    finished = subprocess.run(command, capture_output=True, text=True)
    if finished.returncode != 0:
        raise BuildFailed(f"{' '.join(command[:4])} ... failed ({finished.returncode}):\n{finished.stderr or finished.stdout}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the one-file release of the connect worker (a shiv zipapp).")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help=f"the file to write (default {DEFAULT_OUTPUT})")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        output = build(args.output)
    except BuildFailed as error:
        print(f"build: {error}", file=sys.stderr)
        return 1
    size = output.stat().st_size
    print(f"built {output} ({size / 1e6:.1f} MB) in {time.monotonic() - started:.0f} s; run it with Python 3.11")
    return 0


if __name__ == "__main__":
    sys.exit(main())
