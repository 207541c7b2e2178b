"""The apps depend on each other one way, top to bottom, and no module imports itself back
round a circle (DESIGN: Layout). Read from the source with `ast`, nothing imported.

    dashboard, operations → intake → documents → casework → destinations → accounts
        → audit → privacy

`config` wires the apps (settings, URLs, Celery) and may import any of them; an app may use
a config module only if that module imports no app (a helper such as `config.step_up`), so
no path leads from a lower app back up through config.
"""

import ast
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Top to bottom. An app imports the apps below it, never one above it or beside it.
LAYERS = (
    ("dashboard", "operations"),
    ("intake",),
    ("documents",),
    ("casework",),
    ("destinations",),
    ("accounts",),
    ("audit",),
    ("privacy",),
)
RANK = {app: rank for rank, apps in enumerate(LAYERS) for app in apps}
PACKAGES = (*RANK, "config")
# Seeding demo data is the only code that needs fake values; Faker is a demo/test extra.
DEMO_MODULES = ("operations.management.commands.seed_demo",)


@dataclass
class Module:
    name: str
    path: Path
    is_package: bool
    # Every import, wherever it is: one inside a function is a dependency all the same.
    imports: set[str] = field(default_factory=set)


def source_files() -> Iterator[Path]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.relative_to(ROOT).parts:
                yield path


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """Dotted names an import statement may load: `from a import b` may load `a.b`."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        anchor = package[: len(package) - node.level + 1]
        base = ".".join([*anchor, base] if base else anchor)
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def load_modules() -> dict[str, Module]:
    modules = {}
    for path in source_files():
        name = module_name(path)
        module = Module(name, path, path.name == "__init__.py")
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            module.imports.update(imported_names(node, name, module.is_package))
        modules[name] = module
    return modules


MODULES = load_modules()


def project_module(dotted: str) -> str | None:
    """The most specific project module a dotted name loads, if any."""
    parts = dotted.split(".")
    while parts:
        name = ".".join(parts)
        if name in MODULES:
            return name
        parts.pop()
    return None


def app_of(name: str) -> str:
    return name.split(".")[0]


def edges(names: set[str]) -> set[str]:
    targets = {project_module(name) for name in names if not name.startswith(".")}
    targets.discard(None)
    # `from a import b` names `a` as well as `a.b`: only the most specific one is a target.
    return {t for t in targets if not any(o.startswith(f"{t}.") for o in targets)}


def upward(module: Module) -> list[str]:
    found = []
    app = app_of(module.name)
    for target in sorted(edges(module.imports)):
        other = app_of(target)
        if other == app:
            continue
        if other == "config":
            # A config helper is fine as long as it leads to no app.
            if app != "config" and any(
                app_of(t) != "config" for t in edges(MODULES[target].imports)
            ):
                found.append(f"{module.name} -> {target} (config wiring)")
        elif app != "config" and RANK[other] <= RANK[app]:
            found.append(f"{module.name} -> {target}")
    return found


def test_apps_import_only_the_layers_below_them():
    violations = [line for module in MODULES.values() for line in upward(module)]
    assert violations == []


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, without recursion (the graph has hundreds of modules)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def test_no_module_imports_itself_back_round_a_circle():
    """Imports inside functions count: they hide a circle from Python, not from a reader
    (accounts.models and accounts.second_factor needed each other that way)."""
    graph = {name: edges(module.imports) - {name} for name, module in MODULES.items()}
    assert [c for c in strongly_connected(graph) if len(c) > 1] == []


def test_the_circle_finder_finds_a_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert [c for c in strongly_connected(graph) if len(c) > 1] == [["a", "b", "c"]]


def demo(name: str) -> bool:
    return name in DEMO_MODULES


def test_only_the_demo_seeding_imports_faker():
    """The web app and the workers run without the demo extra installed."""
    importers = sorted(
        name
        for name, module in MODULES.items()
        if any(imported.split(".")[0] == "faker" for imported in module.imports)
    )
    assert [name for name in importers if not demo(name)] == []
    reaching_demo = [
        name
        for name, module in MODULES.items()
        if not demo(name) and any(demo(target) for target in edges(module.imports))
    ]
    assert reaching_demo == []


def test_faker_is_a_demo_and_test_extra_not_a_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

    def names(requirements: list[str]) -> set[str]:
        return {r.split(">")[0].split("=")[0].split("[")[0].strip().lower() for r in requirements}

    assert "faker" not in names(project["dependencies"])
    assert "faker" in names(project["optional-dependencies"]["demo"])
    assert "faker" in names(project["optional-dependencies"]["test"])
