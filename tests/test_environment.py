"""pyproject.toml and environment.yml name the same packages with the same bounds.

pyproject.toml is the one source of dependencies; environment.yml repeats them for
conda-forge, where torch is called "pytorch". When someone edits one and not the
other, these tests say which package differs and how.
"""

import re
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: pytest itself depends on tomli there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
CONDA_TO_PIP = {"pytorch": "torch"}  # conda-forge name -> pip name
NOT_COMPARED = {"python", "pip"}  # the interpreter and the installer, not dependencies


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def pip_requirements(lines: list[str]) -> dict[str, set[str]]:
    """{'torch': {'>=2.2', '<3'}, ...} from PEP 508 strings."""
    parsed = {}
    for line in lines:
        requirement = Requirement(line)
        parsed[requirement.name.lower()] = {str(spec) for spec in requirement.specifier}
    return parsed


def conda_sections(text: str) -> dict[str, dict[str, set[str]]]:
    """The `dependencies:` list of environment.yml, grouped by the comment above each group.

    A comment line starting with `# runtime` or `# dev` opens a section; other entries go to
    'other'. Enough YAML for this one flat file, so the test needs no YAML library.
    """
    sections: dict[str, dict[str, set[str]]] = {"runtime": {}, "dev": {}, "other": {}}
    current = "other"
    in_dependencies = False
    for line in text.splitlines():
        if not line.startswith(" ") and line.strip():
            in_dependencies = line.startswith("dependencies:")
            continue
        if not in_dependencies:
            continue
        stripped = line.strip()
        comment = re.match(r"#\s*(\w+)", stripped)
        if comment:
            current = comment.group(1) if comment.group(1) in ("runtime", "dev") else "other"
            continue
        entry = re.match(r"- ([A-Za-z0-9_.\-]+)\s*([^:]*)$", stripped.split(" #")[0].strip())
        if not entry or line.startswith("      "):  # nested lists (the pip: section) are not conda packages
            continue
        name, spec = entry.group(1).lower(), entry.group(2).replace(" ", "")
        sections[current][CONDA_TO_PIP.get(name, name)] = set(filter(None, spec.split(",")))
    return sections


@pytest.fixture(scope="module")
def conda() -> dict[str, dict[str, set[str]]]:
    return conda_sections((ROOT / "environment.yml").read_text())


def lower_bounds(specs: set[str]) -> set[str]:
    return {s for s in specs if s.startswith((">=", ">", "=="))}


def explain(pip: dict[str, set[str]], conda: dict[str, set[str]]) -> str:
    lines = [f"only in pyproject.toml: {sorted(set(pip) - set(conda))}"]
    lines.append(f"only in environment.yml: {sorted(set(conda) - set(pip))}")
    for name in sorted(set(pip) & set(conda)):
        if pip[name] != conda[name]:
            lines.append(f"{name}: pyproject.toml {sorted(pip[name])} but environment.yml {sorted(conda[name])}")
    return "\n".join(lines)


@pytest.mark.parametrize("section", ["runtime", "dev"])
def test_same_packages_and_bounds(conda, section):
    project = pyproject()["project"]
    listed = project["dependencies"] if section == "runtime" else project["optional-dependencies"]["dev"]
    pip = pip_requirements(listed)
    assert set(pip) == set(conda[section]), explain(pip, conda[section])
    for name in pip:
        assert lower_bounds(pip[name]) == lower_bounds(conda[section][name]), explain(pip, conda[section])
        assert pip[name] == conda[section][name], explain(pip, conda[section])


def test_python_version_matches_requires_python(conda):
    requires = pyproject()["project"]["requires-python"]
    assert conda["other"].get("python") == {requires}, f"environment.yml should ask for python{requires}"


def test_parser_reads_the_torch_rename():
    """The hand parser maps conda-forge's 'pytorch' to pip's 'torch' and keeps both bounds."""
    text = (
        "name: x\ndependencies:\n  # runtime\n  - pytorch>=2.2,<3  # why\n"
        "  # dev\n  - ruff>=0.5\n  - pip:\n      - -e .\n"
    )
    assert conda_sections(text) == {"runtime": {"torch": {">=2.2", "<3"}}, "dev": {"ruff": {">=0.5"}}, "other": {}}


def test_environment_file_is_valid_yaml_for_conda_forge():
    yaml = pytest.importorskip("yaml")  # PyYAML comes with jupyterlab (through jupyter-events)
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["name"] == "transfer-lab"
    assert env["channels"] == ["conda-forge"], "only conda-forge, so every package comes from one channel"
    pip_section = [item["pip"] for item in env["dependencies"] if isinstance(item, dict)]
    assert pip_section == [["-e ."]], "the project itself is installed editable by pip"
    assert "pip" in env["dependencies"], "conda needs pip listed to run the pip: section"
    named = {re.split(r"[<>=!]", d)[0] for d in env["dependencies"] if isinstance(d, str)}
    assert "torch" not in named, "conda-forge calls it pytorch"
