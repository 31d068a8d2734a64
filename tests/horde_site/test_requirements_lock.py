"""The lock files: what an operator installs is fully pinned, hashed and agrees with the .in files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s\\]+)")


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def top_level(path: Path) -> dict[str, str]:
    """name -> pinned version of the .in file's own requirements (includes and constraints skipped)."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            match = PIN.match(line)
            assert match, f"{path.name}: {line!r} is not pinned with =="
            pins[normal(match[1])] = match[2]
    return pins


def locked(path: Path) -> dict[str, tuple[str, int]]:
    """name -> (version, number of hashes) of a compiled lock file."""
    entries: dict[str, tuple[str, int]] = {}
    current = None
    for line in path.read_text().splitlines():
        match = PIN.match(line)
        if match:
            current = normal(match[1])
            entries[current] = (match[2], 0)
        elif current and "--hash=sha256:" in line:
            version, hashes = entries[current]
            entries[current] = (version, hashes + 1)
        elif not line.startswith(" "):
            current = None
    return entries


# Every requirements*.in has its lock: a new .in that scripts/lock.sh forgets fails here.
IN_FILES = sorted(path.stem for path in ROOT.glob("requirements*.in"))


def included(path: Path) -> dict[str, str]:
    """The .in file's own pins and those of the files it includes with `-r`."""
    pins = top_level(path)
    for line in path.read_text().splitlines():
        if line.startswith("-r "):
            pins |= included(path.parent / line.split()[1])
    return pins


def test_the_lock_script_compiles_every_in_file():
    script = (ROOT / "scripts" / "lock.sh").read_text()
    assert IN_FILES == ["requirements", "requirements-dev", "requirements-gpu", "requirements-sdk"]
    for name in IN_FILES:
        assert name in script, f"scripts/lock.sh does not compile {name}.in"
    assert "requirements-sdk.in requirements-sdk.txt" in script


@pytest.mark.parametrize("name", IN_FILES)
def test_every_package_of_a_lock_file_is_pinned_with_hashes(name):
    assert (ROOT / f"{name}.txt").is_file(), f"{name}.in has no lock file: run ./scripts/lock.sh"
    lock = locked(ROOT / f"{name}.txt")
    assert len(lock) > len(top_level(ROOT / f"{name}.in"))  # transitive dependencies are in it
    assert all(hashes for _, hashes in lock.values()), [pkg for pkg, (_, h) in lock.items() if not h]


@pytest.mark.parametrize("name", IN_FILES)
def test_a_lock_file_holds_its_top_level_requirements_at_their_pins(name):
    lock = locked(ROOT / f"{name}.txt")
    wanted = included(ROOT / f"{name}.in")
    assert wanted, f"{name}.in pins nothing"
    for package, version in wanted.items():
        assert package in lock, f"{package} is missing from {name}.txt: run ./scripts/lock.sh"
        assert lock[package][0].split("+")[0] == version, f"{package}: {lock[package][0]} != {version}"


def test_the_dev_and_gpu_locks_include_the_runtime_requirements():
    for name in ("requirements-dev", "requirements-gpu"):
        assert set(top_level(ROOT / "requirements.in")) <= set(included(ROOT / f"{name}.in"))


def test_the_dev_and_gpu_locks_keep_the_runtime_pins():
    runtime = {package: version for package, (version, _) in locked(ROOT / "requirements.txt").items()}
    for name in ("requirements-dev", "requirements-gpu"):
        other = locked(ROOT / f"{name}.txt")
        assert {package: other[package][0] for package in runtime} == runtime


def test_the_runtime_lock_installs_what_kombus_redis_transport_imports():
    # kombu.transport.redis imports `packaging` without declaring it as a dependency.
    assert "packaging" in locked(ROOT / "requirements.txt")
