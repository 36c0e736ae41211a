"""pyproject.toml, environment.yml and requirements.lock agree.

pyproject.toml is the one source of dependencies; environment.yml repeats them for
conda-forge, where torch is called "pytorch". When someone edits one and not the
other, these tests say which package differs and how. requirements.lock (`make lock`)
pins one release of every package for each OS and Python, inside pyproject's ranges,
and the Makefile installs .venv with it.
"""

import re
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: pytest itself depends on tomli there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
CONDA_TO_PIP = {"pytorch": "torch"}  # conda-forge name -> pip name
NOT_COMPARED = {"python", "pip"}  # the interpreter and the installer, not dependencies
LOCK = ROOT / "requirements.lock"
# The lock is universal: each dependency must have exactly one pin on each of these.
PLATFORMS = {
    "Linux": {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix"},
    "macOS": {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "arm64", "os_name": "posix"},
    "Windows": {"sys_platform": "win32", "platform_system": "Windows", "platform_machine": "AMD64", "os_name": "nt"},
}
PYTHONS = ["3.10", "3.11", "3.12", "3.13", "3.14"]


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


def environments() -> dict[str, dict[str, str]]:
    """Marker values for each OS and Python the lock covers, e.g. 'macOS, Python 3.12'."""
    return {
        f"{platform}, Python {python}": {**markers, "python_version": python, "python_full_version": f"{python}.0"}
        for platform, markers in PLATFORMS.items()
        for python in PYTHONS
    }


def lock_lines() -> list[str]:
    """The lines of requirements.lock without comments and blank lines."""
    lines = (re.sub(r"(^|\s)#.*", "", line).strip() for line in LOCK.read_text().splitlines())
    return [line for line in lines if line]


def lock_pins() -> dict[str, list[Requirement]]:
    """{'numpy': [numpy==2.2.6 ; python_full_version < '3.11', ...], ...}: a name has one pin per marker."""
    pins: dict[str, list[Requirement]] = {}
    for line in lock_lines():
        if line.startswith("-"):  # an option, which test_lock_lines_are_exact_pins reports
            continue
        requirement = Requirement(line)
        pins.setdefault(canonicalize_name(requirement.name), []).append(requirement)
    return pins


def test_lock_lines_are_exact_pins():
    header = [line for line in LOCK.read_text().splitlines() if line.startswith("#")]
    assert any("make lock" in line for line in header), "the lock's header should say it is made by `make lock`"
    not_pins = []
    for line in lock_lines():
        try:
            specifiers = list(Requirement(line).specifier)
        except ValueError:  # -i, --extra-index-url, --find-links, -e, -r ...
            specifiers = []
        if len(specifiers) != 1 or specifiers[0].operator != "==" or "*" in specifiers[0].version:
            not_pins.append(line)
    assert not not_pins, f"requirements.lock holds only `name==version ; markers` lines, not: {not_pins}"


@pytest.mark.parametrize("section", ["runtime", "dev", "hub"])  # hub: deploy/jupyterhub's extra, not in environment.yml
def test_lock_pins_every_dependency_inside_its_range(section):
    project = pyproject()["project"]
    listed = project["dependencies"] if section == "runtime" else project["optional-dependencies"][section]
    pins = lock_pins()
    problems = set()
    not_one: dict[tuple[str, int], list[str]] = {}  # (name, pins that apply) -> where, when not exactly 1
    for line in listed:
        wanted = Requirement(line)
        for where, environment in environments().items():
            if wanted.marker and not wanted.marker.evaluate(environment):
                continue
            name = canonicalize_name(wanted.name)
            here = [pin for pin in pins.get(name, []) if not pin.marker or pin.marker.evaluate(environment)]
            if len(here) != 1:
                not_one.setdefault((name, len(here)), []).append(where)
                continue
            version = next(iter(here[0].specifier)).version
            if not wanted.specifier.contains(version, prereleases=True):
                problems.add(f"{name}=={version} in requirements.lock is outside pyproject.toml's {wanted.specifier}")
    for (name, count), where in not_one.items():
        problems.add(f"{name}: {count} pins in requirements.lock apply on {'; '.join(where)}, not 1")
    assert not problems, "\n".join(sorted(problems)) + "\nrun `make lock`"


def test_lock_names_every_package_environment_yml_names(conda):
    named = {canonicalize_name(name) for section in ("runtime", "dev") for name in conda[section]}
    missing = named - set(lock_pins())
    assert not missing, f"environment.yml names {sorted(missing)}, requirements.lock pins none of them"


def makefile_rules() -> dict[str, tuple[str, list[str]]]:
    """{target: (prerequisites, recipe lines)} for each rule of the Makefile, variables as written."""
    rules: dict[str, tuple[str, list[str]]] = {}
    recipe: list[str] = []
    for line in (ROOT / "Makefile").read_text().splitlines():
        rule = re.match(r"([^\s#=:][^=:]*):(?!=)(.*)", line)
        if rule:
            recipe = []
            rules[rule.group(1).strip()] = (rule.group(2), recipe)
        elif line.startswith("\t"):
            recipe.append(line.strip())
    return rules


@pytest.mark.parametrize("target", ["$(VENV)/.installed", "$(VENV)/.dev-installed", "$(VENV)/.hub-installed"])
def test_makefile_installs_with_the_lock(target):
    prerequisites, recipe = makefile_rules()[target]
    normal = prerequisites.split("|")[0].split()  # after | come order-only prerequisites
    assert "requirements.lock" in normal, f"{target} should depend on requirements.lock, so a new lock reinstalls"
    installs = [line for line in recipe if "pip install" in line]
    assert installs, f"{target} installs nothing"
    for line in installs:
        assert "-c requirements.lock" in line, f"{target} installs without the lock: {line}"
