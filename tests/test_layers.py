"""The layers: each imports only the ones below it, and only labeler/ui imports Textual.

truth/ holds what is on disk, derived/ builds columns and indexes from it, labeler/dataset.py is the one
door that opens a dataset and hands out its views, and everything above comes in through that door.
The direction is read from the code's own imports (lazy ones inside functions too), so it cannot decay.
"""

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import labeler

LAYERS = [
    ("shared", {"errors", "names", "safetext", "workspace"}),
    ("truth", {"truth"}),
    ("derived", {"derived"}),
    ("dataset", {"dataset"}),
    ("stats", {"stats"}),
    ("judge", {"judge"}),
    ("rubrics", {"rubrics"}),
    ("flows", {"flows"}),
    ("vcs", {"vcs"}),
    ("output", {"report_formats", "render"}),
    ("serve", {"serve"}),
    ("ui", {"ui"}),
    ("cli", {"cli", "__main__"}),
]
"""Low to high: a module may import from its own layer and the ones before it, never after."""
RANK = {part: i for i, (_, parts) in enumerate(LAYERS) for part in parts}
PACKAGE = Path(labeler.__file__).parent


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "labeler":
        return None
    return RANK.get(parts[1]) if len(parts) > 1 else RANK["errors"]  # the package itself (its version) is shared


def import_arrows() -> list[tuple[str, str, int]]:
    """(importing module, imported module, line) for every import of labeler code, lazy ones included."""
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(("labeler", *path.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("labeler"):
                targets = [node.module] if node.module != "labeler" else [
                    f"labeler.{a.name}" if (PACKAGE / a.name).is_dir() or (PACKAGE / f"{a.name}.py").is_file() else "labeler"
                    for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names if a.name.startswith("labeler")]
            else:
                continue
            out += [(module, t, node.lineno) for t in targets]
    return out


def test_every_module_has_a_layer():
    modules = {m for m, _, _ in import_arrows()} | {t for _, t, _ in import_arrows()}
    assert "labeler.dataset" in modules and "labeler.truth.store" in modules
    assert [m for m in sorted(modules) if _layer(m) is None] == []


def test_no_import_goes_up_a_layer():
    up = [f"{a}:{line} -> {b} ({LAYERS[_layer(a)][0]} imports {LAYERS[_layer(b)][0]})"
          for a, b, line in import_arrows() if _layer(a) is not None and _layer(b) is not None and _layer(b) > _layer(a)]
    assert up == [], "imports up the layer order:\n" + "\n".join(up)


def test_no_circle_between_layers():
    edges = {(LAYERS[_layer(a)][0], LAYERS[_layer(b)][0]) for a, b, _ in import_arrows()
             if _layer(a) is not None and _layer(b) is not None and _layer(a) != _layer(b)}
    both_ways = sorted((x, y) for x, y in edges if (y, x) in edges and x < y)
    assert both_ways == [], f"layers importing each other: {both_ways}"


def test_truth_and_derived_never_reach_the_door():
    """The file layer and the derived views read no Dataset: the door is built from them, not the reverse."""
    bad = [f"{a}:{line} -> {b}" for a, b, line in import_arrows()
           if a.split(".")[1] in ("truth", "derived") and _layer(b) >= RANK["dataset"]]
    assert bad == []


def test_domain_does_not_import_textual():
    modules = sorted(m.name for m in pkgutil.walk_packages(labeler.__path__, "labeler.")
                     if not m.name.startswith("labeler.ui") and m.name != "labeler.__main__")
    assert len(modules) > 30 and "labeler.derived.label_table" in modules
    code = (
        f"import sys, importlib\nfor m in {modules!r}: importlib.import_module(m)\n"
        "bad = [m for m in ('textual',) if m in sys.modules]\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_the_cli_starts_without_openai_or_git():
    code = "import sys, labeler.cli.main\nprint(','.join(m for m in ('textual', 'openai', 'git', 'numpy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_the_door_builds_one_version_index_per_rubric_in_force(example: Path):
    """Every view of one open dataset shares its VersionIndex (regress built three); a new rubric in force gets a new one."""
    from labeler.dataset import open_dataset
    from labeler.derived.current import Current
    from labeler.derived.queue import LabelQueue
    from labeler.stats.numbers import gold

    ds = open_dataset(example / "datasets" / "support-summary")
    first = ds.versions
    assert ds.versions is first and Current(ds).versions is first and LabelQueue(ds, "amy").versions is first
    gold(ds)
    assert ds.versions is first and first.in_force.version == 2
    ds.config.rubric_version = 1
    assert ds.versions is not first and ds.versions.in_force.version == 1 and ds.versions is ds.versions


def module_cycles(arrows: list[tuple[str, str, int]]) -> list[list[str]]:
    """Groups of labeler modules that import each other, directly or round a circle (lazy imports too):
    the strongly connected components of more than one module."""
    graph: dict[str, set[str]] = {}
    for a, b, _ in arrows:
        if a != b:
            graph.setdefault(a, set()).add(b)
            graph.setdefault(b, set())

    def reach(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in graph[todo.pop()] - seen:
                seen.add(nxt)
                todo.append(nxt)
        return seen

    reachable = {m: reach(m) for m in graph}
    groups = {frozenset({m} | {o for o in reachable[m] if m in reachable[o]}) for m in graph}
    return sorted(sorted(g) for g in groups if len(g) > 1)


def test_no_module_imports_itself_round_a_circle():
    """Within a layer too: two modules that need each other are one idea in two files, or a shared piece
    that belongs further down (judge/prompts.py and judge/run.py were such a pair)."""
    assert module_cycles(import_arrows()) == []


def test_a_circle_is_found():
    arrows = [("labeler.a", "labeler.b", 1), ("labeler.b", "labeler.c", 1), ("labeler.c", "labeler.a", 1),
              ("labeler.c", "labeler.d", 1)]
    assert module_cycles(arrows) == [["labeler.a", "labeler.b", "labeler.c"]]
