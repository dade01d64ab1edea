"""``requirements.lock`` is what a fresh install gets: it pins every package that
``pyproject.toml`` asks for (with the test extra), directly or through another package, at a
version ``pyproject.toml`` allows, and the environment the suite runs in was installed from it.

Refresh it with the command in its first lines (the README's "Test it" names it too)."""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
REFRESH = "refresh the lock with the command at the top of requirements.lock"


def read_lock(text: str) -> dict[str, str]:
    """Package name (canonical) → pinned version, from a ``name==version`` per line file."""
    pins: dict[str, str] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version.split(";", 1)[0].strip()
    return pins


def direct_requirements() -> list[Requirement]:
    """What ``pyproject.toml`` asks for: its dependencies and the test extra."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    return [Requirement(name) for name in names]


def installed_closure(requirements: list[Requirement]) -> dict[str, str]:
    """Every installed distribution those requirements pull in (markers and extras honoured)."""
    found: dict[str, str] = {}
    pending = [(req, frozenset(req.extras)) for req in requirements]
    while pending:
        req, extras = pending.pop()
        name = canonicalize_name(req.name)
        if name in found:
            continue
        found[name] = metadata.version(req.name)
        for text in metadata.requires(req.name) or []:
            child = Requirement(text)
            wanted = [{"extra": extra} for extra in extras] or [{"extra": ""}]
            if child.marker is None or any(child.marker.evaluate(env) for env in wanted):
                pending.append((child, frozenset(child.extras)))
    return found


def test_read_lock_takes_pins_and_skips_comments() -> None:
    text = (
        "# header\nAltair==6.3.0\n    # via streamlit\n"
        "async_timeout==5.0.1 ; python_version < '3.12'\n"
    )

    assert read_lock(text) == {"altair": "6.3.0", "async-timeout": "5.0.1"}


def test_the_lock_pins_every_direct_requirement_within_its_range() -> None:
    pins = read_lock(LOCK.read_text(encoding="utf-8"))

    problems = [
        f"{req} is pinned at {pins.get(canonicalize_name(req.name), 'nothing')}"
        for req in direct_requirements()
        if not req.specifier.contains(pins.get(canonicalize_name(req.name), "0"), prereleases=True)
    ]

    assert not problems, f"pyproject.toml and requirements.lock disagree ({REFRESH}): {problems}"


def test_the_environment_was_installed_from_the_lock() -> None:
    pins = read_lock(LOCK.read_text(encoding="utf-8"))

    installed = installed_closure(direct_requirements())
    unlocked = sorted(set(installed) - set(pins))
    drifted = sorted(
        f"{name} {version} (lock: {pins[name]})"
        for name, version in installed.items()
        if pins.get(name, version) != version
    )

    assert not unlocked, f"needed but not in requirements.lock ({REFRESH}): {unlocked}"
    assert not drifted, (
        f"installed versions differ from requirements.lock: {drifted}; install with "
        '`pip install -c requirements.lock -e ".[test]"`'
    )
