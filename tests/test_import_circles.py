"""Imports point one way. Every import in tts/, those written inside functions included, makes the module
graph; a strongly connected group of two or more modules is an import circle. No new circle may appear,
and the circles still being taken apart are listed here: the list only shrinks (a circle that is gone
must leave the list, so it cannot come back unnoticed)."""
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Circles still being taken apart would be listed here, each as the set of its modules; none are left.
KNOWN_CIRCLES: list[set[str]] = []


def _runtime_nodes(tree: ast.AST):
    """Every node, except those under `if TYPE_CHECKING:`: imports only a type checker reads (the models'
    typed relationships name each other's classes) never run, so they cannot form a circle."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def module_graph(package: Path = ROOT / "tts") -> dict[str, set[str]]:
    modules = {}
    for path in package.rglob("*.py"):
        name = ".".join(path.relative_to(package.parent).with_suffix("").parts)
        modules[name.removesuffix(".__init__")] = path
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package_name = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package_name.split(".")
                    base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
                targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            else:
                continue
            for target in targets:
                while target and target not in modules:  # `from tts.x import name`: the module tts.x
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def circles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected groups of two or more modules (Tarjan's algorithm, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
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
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(group)
    return found


def test_the_finder_finds_a_circle_through_an_import_inside_a_function(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.b import thing\n")
    (package / "b.py").write_text("def thing():\n    from pkg import a\n")
    (package / "c.py").write_text("from . import a\n")
    (package / "d.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import e\n")
    (package / "e.py").write_text("from pkg import d\n")  # d reads e only for a type checker: no circle
    assert circles(module_graph(package)) == [{"pkg.a", "pkg.b"}]


def test_no_new_import_circles_and_the_known_ones_only_shrink():
    found = circles(module_graph())
    new = [sorted(c) for c in found if not any(c <= known for known in KNOWN_CIRCLES)]
    assert new == [], f"new import circles (make the imports point one way): {new}"
    gone = [sorted(k) for k in KNOWN_CIRCLES if not any(c == k for c in found)]
    assert gone == [], f"these circles are gone or smaller: update KNOWN_CIRCLES to what is left: {gone}"


def test_every_module_that_registers_on_a_hook_is_imported_by_the_app(app):
    """A handler registers when its module is imported: create_app imports each such module (REACTIONS),
    so none can be missing because nothing else happened to import it first."""
    import tts
    from tts.callqueue import events

    registering = sorted(".".join(path.relative_to(ROOT).with_suffix("").parts)
                         for path in (ROOT / "tts").rglob("*.py")
                         if re.search(r"^@(\w+\.)*(register|job\()", path.read_text("utf-8"), re.M))
    assert registering and set(registering) <= set(tts.REACTIONS), registering
    assert [h.__name__ for h in events.item_created.handlers] == ["on_item_created"]
    assert [h.__name__ for h in events.call_failed.handlers] == ["on_call_failed"]
    assert {f"{h.__module__}.{h.__name__}" for h in events.person_reached.handlers} == {
        "tts.telephony.services.on_reached", "tts.cases.lifecycle.on_reached"}  # independent: any order


def test_a_hook_runs_its_handlers_in_order_once_each_and_passes_on_their_errors():
    from tts.hooks import Hook

    hook, seen = Hook("test", "for the test"), []

    def first(x):
        seen.append(("first", x))

    def second(x):
        seen.append(("second", x))
        if x == "boom":
            raise ValueError(x)

    for handler in (first, second, first):  # a module imported twice registers once
        hook.register(handler)
    assert [h.__name__ for h in hook.handlers] == ["first", "second"]
    hook.fire("a")
    assert seen == [("first", "a"), ("second", "a")]
    import pytest

    with pytest.raises(ValueError):
        hook.fire("boom")
