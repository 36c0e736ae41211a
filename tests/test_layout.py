"""The package a learner opens stays layered: read from the source with `ast`, nothing is imported.

helpers/ imports no module of tools/, its modules import each other without a cycle and at the
top of the file, and the code map (helpers/__init__.py and README's "Code map") lists exactly
the modules there are, lowest layer first.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HELPERS = sorted(path for path in (ROOT / "helpers").glob("*.py") if path.name != "__init__.py")
TOOLS = sorted(path for path in (ROOT / "tools").glob("*.py") if path.name != "__init__.py")


def imported_modules(tree: ast.AST, package: str = "helpers") -> list[tuple[str, int]]:
    """(dotted name, line) of every import in `tree`, at any depth.

    `import helpers.data` gives helpers.data; `from helpers import data` gives helpers and
    helpers.data; `from helpers.data import to_float` gives helpers.data and helpers.data.to_float.
    A relative import (`from . import data`) is resolved against `package`.
    """
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(filter(None, [package, base]))
            found.append((base, node.lineno))
            found += [(f"{base}.{alias.name}", node.lineno) for alias in node.names]
    return found


def helpers_modules(tree: ast.AST) -> list[tuple[str, int]]:
    """(module of helpers, line) for every import of one: helpers.data.to_float gives data."""
    return [(name.split(".")[1], line) for name, line in imported_modules(tree) if name.startswith("helpers.")]


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def import_graph() -> dict[str, set[str]]:
    """{module: the helpers modules it imports}, every import counted, top of the file or not."""
    return {path.stem: {module for module, _ in helpers_modules(parse(path))} - {path.stem} for path in HELPERS}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A list of modules that import each other in a circle (first == last), or None."""
    done, path = set(), []

    def visit(module: str) -> list[str] | None:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return None
        path.append(module)
        for imported in sorted(graph.get(module, ())):
            cycle = visit(imported)
            if cycle:
                return cycle
        path.pop()
        done.add(module)
        return None

    for module in sorted(graph):
        cycle = visit(module)
        if cycle:
            return cycle
    return None


def test_find_cycle_finds_one_and_only_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_every_module_parses():
    for path in [*HELPERS, *TOOLS]:
        parse(path)


def test_helpers_modules_import_each_other_without_a_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "helpers modules import each other in a circle: " + " -> ".join(cycle)


@pytest.mark.parametrize("path", HELPERS, ids=[path.name for path in HELPERS])
def test_helpers_never_import_tools(path):
    lines = [line for name, line in imported_modules(parse(path)) if name.split(".")[0] == "tools"]
    assert not lines, f"{path.name} imports tools/ at line(s) {sorted(set(lines))}"


def lazy_helpers_imports(tree: ast.Module) -> list[int]:
    """Line numbers of imports of helpers made inside a function rather than at the top of the file."""
    lines = set()
    for function in ast.walk(tree):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lines |= {line for name, line in imported_modules(function) if name.split(".")[0] == "helpers"}
    return sorted(lines)


@pytest.mark.parametrize("path", HELPERS, ids=[path.name for path in HELPERS])
def test_helpers_import_helpers_at_the_top_of_the_file(path):
    lines = lazy_helpers_imports(parse(path))
    assert not lines, f"{path.name} imports helpers inside a function at line(s) {lines}: import at the top"


@pytest.mark.parametrize("path", [*HELPERS, *TOOLS], ids=[f"{p.parent.name}/{p.name}" for p in [*HELPERS, *TOOLS]])
def test_every_imported_helpers_module_exists(path):
    known = {p.stem for p in HELPERS}
    missing = [(module, line) for module, line in helpers_modules(parse(path)) if module not in known]
    assert not missing, f"{path.relative_to(ROOT)} imports modules helpers does not have: {missing}"


# --- the code map ---------------------------------------------------------------------------------


def docstring_map() -> tuple[list[str], list[str]]:
    """(helpers modules, tools modules) as listed, in order, in helpers/__init__.py's docstring."""
    docstring = ast.get_docstring(parse(ROOT / "helpers" / "__init__.py"))
    helpers = re.findall(r"^    (\w+)  +\S", docstring, flags=re.MULTILINE)
    tools = re.findall(r"^    tools\.(\w+)  +\S", docstring, flags=re.MULTILINE)
    return helpers, tools


def readme_map() -> tuple[list[str], list[str]]:
    """(helpers modules, tools modules) as listed, in order, in the tables of README's "Code map"."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Code map\n", 1)[1].split("\n## ", 1)[0]
    helpers = re.findall(r"^\| `helpers/(\w+)\.py`", section, flags=re.MULTILINE)
    tools = re.findall(r"^\| `tools/(\w+)\.py`", section, flags=re.MULTILINE)
    return helpers, tools


def test_helpers_init_imports_nothing():
    assert not imported_modules(parse(ROOT / "helpers" / "__init__.py")), (
        "helpers/__init__.py is a map, not a place to import from"
    )


@pytest.mark.parametrize("where, listed", [("helpers/__init__.py", docstring_map), ("README.md", readme_map)])
def test_the_code_map_lists_every_module_once(where, listed):
    helpers, tools = listed()
    files = [p.stem for p in HELPERS]
    assert sorted(helpers) == files, f"{where} lists helpers {helpers}; the files are {files}"
    files = [p.stem for p in TOOLS]
    assert sorted(tools) == files, f"{where} lists tools {tools}; the files are {files}"


def test_the_code_map_lists_modules_lowest_layer_first():
    helpers, _ = docstring_map()
    assert readme_map()[0] == helpers, "README's code map and helpers/__init__.py list modules in another order"
    graph = import_graph()
    for position, module in enumerate(helpers):
        later = graph[module] & set(helpers[position:])
        assert not later, f"helpers.{module} imports {sorted(later)}, listed below it in the code map"
