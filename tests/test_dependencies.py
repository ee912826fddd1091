"""The lock files (pip-tools, `make lock`) pin what is deployed: every dependency pyproject.toml names is pinned,
within its bounds, with hashes, and the test lock installs the same versions as the runtime one."""
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent


def _pins(name: str) -> dict[str, str]:
    text = (ROOT / name).read_text()
    pins = dict(re.findall(r"^([a-z0-9][a-z0-9._-]*)==([^ \\\n]+)", text, re.MULTILINE))
    blocks = re.split(r"\n(?=[a-z0-9])", text)
    for block in blocks:  # every pin carries at least one sha256
        if "==" in block.splitlines()[0]:
            assert "--hash=sha256:" in block, block.splitlines()[0]
    return pins


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_dependency_is_pinned_within_its_bounds():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime, test = _pins("requirements.txt"), _pins("requirements-test.txt")
    for lock, requirements in ((runtime, project["dependencies"]),
                               (test, project["dependencies"] + project["optional-dependencies"]["test"])):
        for line in requirements:
            requirement = Requirement(line)
            name = _canonical(requirement.name)
            assert name in lock, f"{name} is not in the lock file: run make lock"
            assert requirement.specifier.contains(lock[name]), f"{name}=={lock[name]} is outside {requirement.specifier}"
            assert requirement.specifier and any(s.operator == "<" for s in requirement.specifier), \
                f"{name} has no upper bound in pyproject.toml"


def test_the_test_lock_installs_the_runtime_locks_versions():
    runtime, test = _pins("requirements.txt"), _pins("requirements-test.txt")
    assert {name: version for name, version in test.items() if name in runtime} == runtime
