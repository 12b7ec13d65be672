"""Installs are reproducible: every dependency is pinned in constraints.txt, and the README's
commands and CI install with it."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata

from conftest import REPO
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version


def pins() -> dict[str, Version]:
    out = {}
    for line in (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep, f"constraints.txt: {line!r} is not an exact pin (name==version)"
        out[canonicalize_name(name)] = Version(version)
    return out


def requirements() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    for extra in project.get("optional-dependencies", {}).values():
        reqs += [Requirement(r) for r in extra]
    return reqs


def test_every_dependency_is_pinned_inside_its_range():
    pinned = pins()
    for req in requirements():
        name = canonicalize_name(req.name)
        assert name in pinned, f"{req.name} (pyproject.toml) has no pin in constraints.txt: run .ci/update-constraints.sh"
        assert pinned[name] in req.specifier, f"constraints.txt pins {req.name}=={pinned[name]}, outside {req}"
        for extra in req.extras:  # psycopg[binary] pulls psycopg-binary: pinned too
            assert any(n.startswith(name) and n != name for n in pinned), f"{req} extra {extra!r} is not pinned"


def test_the_build_backend_is_pinned_exactly():
    """pip builds semhash in an isolated environment that ``-c constraints.txt`` does not reach:
    the build requirements themselves must name exact versions, or next month's install builds
    with another setuptools."""
    build = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["build-system"]["requires"]
    for req in map(Requirement, build):
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"build requirement {req} is not an exact pin"


def test_readme_and_ci_install_with_the_constraints():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    first_blocks = re.findall(r"```bash\n(.*?)\n```", readme, re.S)[:2]
    assert len(first_blocks) == 2
    for block in first_blocks:
        assert "pip install -c constraints.txt" in block, block
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    installs = [line for line in ci.splitlines() if line.strip().startswith("pip install")]
    assert installs and all("-c constraints.txt" in line for line in installs), installs


def test_this_environment_has_the_pinned_versions():
    """A venv that drifted from constraints.txt tests other numbers than CI: say so, and how to fix it."""
    pinned = pins()
    drifted = []
    for req in requirements():
        name = canonicalize_name(req.name)
        try:
            installed = Version(metadata.version(req.name))
        except metadata.PackageNotFoundError:
            continue  # an extra this environment did not install
        if installed != pinned[name]:
            drifted.append(f"{req.name} {installed} (pinned {pinned[name]})")
    assert not drifted, (
        "this environment differs from constraints.txt: " + ", ".join(drifted)
        + "; reinstall with pip install -c constraints.txt -e '.[test,eval]'"
    )
