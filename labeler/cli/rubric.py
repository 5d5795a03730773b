"""Rubric versions: list, show, diff, bump, health."""

from __future__ import annotations

import argparse
from typing import Callable
import json
from pathlib import Path

from labeler.cli.common import (EXIT_FAIL, EXIT_OK, EXIT_USAGE, STRICT_HELP, _coefficient, _console, _left_out, _open)
from labeler.errors import LabelerError

def cmd_rubric_list(a: argparse.Namespace) -> int:
    from labeler.dataset import Workspace

    ws = Workspace.find()
    names = sorted(p.name for p in ws.rubrics_dir.iterdir() if p.is_dir()) if ws.rubrics_dir.is_dir() else []
    if a.name:
        names = [n for n in names if n == a.name]
        if not names:
            raise LabelerError(f"{ws.rubric_dir(a.name)}: no such rubric")
    users: dict[tuple[str, int], list[str]] = {}
    for ds_name in ws.dataset_names():
        from labeler.dataset import Dataset

        ds = Dataset.open(ws, ds_name)
        for v in set(ds.table.version.v.tolist()):
            users.setdefault((ds.config.rubric, v), [])
        users.setdefault((ds.config.rubric, ds.config.rubric_version), []).append(ds_name)
    rows = []
    for n in names:
        for v, path in ws.rubric_versions(n).items():
            r = ws.rubric(n, v)
            rows.append({"rubric": n, "version": v, "criteria": list(r.criteria), "hash": r.content_hash(),
                         "in_force_for": users.get((n, v), []), "path": str(path)})
    if a.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    from rich.table import Table

    t = Table(title="rubrics")
    for col in ("rubric", "version", "criteria", "hash", "in force for"):
        t.add_column(col)
    for r in rows:
        t.add_row(r["rubric"], f"v{r['version']}", ", ".join(r["criteria"]), r["hash"], ", ".join(r["in_force_for"]))
    _console().print(t)
    return EXIT_OK


def _rubric_version(ws, name: str, version: str | None) -> int:
    from labeler.rubrics.tighten import latest_version

    if version is None or version == "latest":
        return latest_version(ws, name)
    return int(version.lstrip("v"))


def cmd_rubric_show(a: argparse.Namespace) -> int:
    from labeler.dataset import Workspace

    ws = Workspace.find()
    r = ws.rubric(a.name, _rubric_version(ws, a.name, a.version))
    if a.json:
        print(json.dumps(r.model_dump(mode="json"), indent=2))
        return EXIT_OK
    from labeler.render import rubric_view

    _console().print(rubric_view(r))
    return EXIT_OK


def cmd_rubric_diff(a: argparse.Namespace) -> int:
    from labeler.dataset import Workspace
    from labeler.rubrics.tighten import diff_rubrics

    ws = Workspace.find()
    ra = ws.rubric(a.name, _rubric_version(ws, a.name, a.a))
    rb = ws.rubric(a.name, _rubric_version(ws, a.name, a.b))
    diffs = diff_rubrics(ra, rb)
    if a.json:
        print(json.dumps([{"criterion": d.criterion, "status": d.status, "fields": {k: [list(x) for x in v] for k, v in d.fields.items()},
                           "points": d.points, "scale_type": d.scale_type} for d in diffs], indent=2))
        return EXIT_OK
    from labeler.render import rubric_diff_view

    _console().print(rubric_diff_view(diffs, ra, rb))
    return EXIT_OK


def cmd_rubric_bump(a: argparse.Namespace) -> int:
    import os
    import subprocess
    import tempfile

    from labeler.vcs.identity import git_user_name
    from labeler.dataset import Dataset, Workspace
    from labeler.rubrics.tighten import (collect_evidence, finish_pending, latest_version, new_version_text, resolves_from,
                                         write_version)

    ws = Workspace.find()
    done = finish_pending(ws, a.name)
    if done is not None:  # a crash interrupted the last bump: finish that one, start no other
        if a.json:
            print(json.dumps({"path": str(done.path), "version": done.rubric.version, "finished_interrupted": True,
                              "moved": done.moved}))
        else:
            print(f"finished an interrupted bump: {done.path} (v{done.rubric.version})")
            for d in done.moved:
                print(f"dataset {d} now uses {a.name} v{done.rubric.version}")
        return EXIT_OK
    n = latest_version(ws, a.name)
    evidence = []
    for ds_name in ws.dataset_names():
        ds = Dataset.open(ws, ds_name)
        if ds.config.rubric == a.name and ds.config.rubric_version == n:
            evidence += collect_evidence(ds)
    resolves = [x.strip() for x in a.resolves.split(",") if x.strip()] if a.resolves else resolves_from(evidence)
    author = a.author or git_user_name(ws.root) or ""
    summary = a.summary or f"Tightened after {len(resolves)} flagged or gap-marked case(s)."
    version, text = new_version_text(ws, a.name, author=author, summary=summary, resolves=resolves)
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if not a.no_edit and editor:
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False, encoding="utf-8") as f:
            f.write(text)
        try:
            subprocess.run([*editor.split(), f.name], check=True)
            text = Path(f.name).read_text(encoding="utf-8")
        finally:
            os.unlink(f.name)
    bump = write_version(ws, a.name, version, text, move_datasets=not a.keep_datasets)
    if a.json:
        print(json.dumps({"path": str(bump.path), "version": version, "resolves": resolves, "moved": bump.moved}))
    else:
        print(f"created {bump.path} (v{version}); resolves: {', '.join(resolves) or 'none'}")
        for d in bump.moved:
            print(f"dataset {d} now uses {a.name} v{version}")
        if not a.no_edit and not editor:
            print(f"no $EDITOR set: edit {bump.path} now, before anyone labels under it, then run `labeler validate`")
    return EXIT_OK


def cmd_rubric_health(a: argparse.Namespace) -> int:
    from labeler.stats.numbers import rubric_health

    ds = _open(a.dataset)
    items = rubric_health(ds, a.min_alpha, a.min_cases)
    failed = _left_out(ds, a.strict)
    if a.json:
        print(json.dumps({"dataset": ds.name, "rubric_version": ds.config.rubric_version, "min_alpha": a.min_alpha,
                          "min_cases": a.min_cases, "criteria": [h.as_dict() for h in items]}, indent=2))
    else:
        from labeler.render import health_table

        _console().print(health_table(items, a.min_alpha, a.min_cases))
    return EXIT_FAIL if failed else EXIT_OK


def register_group(sub, parser_class, help: str) -> None:
    """`labeler rubric ...`: a group of subcommands (`help`: its line in cli/main.py's COMMANDS)."""
    rp = sub.add_parser("rubric", help=help, description=help)
    rsub = rp.add_subparsers(dest="rubric_command", metavar="SUBCOMMAND", parser_class=parser_class)
    rp.set_defaults(func=lambda a: (rp.print_help(), EXIT_USAGE)[1])

    def radd(name: str, func: Callable, help: str) -> argparse.ArgumentParser:
        x = rsub.add_parser(name, help=help.replace("%", "%%"), description=help)
        x.set_defaults(func=func)
        return x

    x = radd("list", cmd_rubric_list, "Rubrics, their versions and content hashes, and which datasets use which version.")
    x.add_argument("name", nargs="?")
    x.add_argument("--json", action="store_true")
    x = radd("show", cmd_rubric_show, "Show one version readably: criteria, scale points, descriptions, changelog.")
    x.add_argument("name")
    x.add_argument("version", nargs="?", help="N or vN (default: latest)")
    x.add_argument("--json", action="store_true")
    x = radd("diff", cmd_rubric_diff, "What changed between two versions, criterion by criterion (word-level for text).")
    x.add_argument("name")
    x.add_argument("a")
    x.add_argument("b")
    x.add_argument("--json", action="store_true")
    x = radd("bump", cmd_rubric_bump, "Create v(N+1) from the latest version with a changelog entry; datasets move to it.")
    x.add_argument("name")
    x.add_argument("--summary", default=None, help="changelog summary (default: a count of the cases behind it)")
    x.add_argument("--resolves", default=None, help="comma-separated case ids (default: rubric-gap marks and rubric-unclear flags since the last version)")
    x.add_argument("--author", default=None, help="default: git user.name")
    x.add_argument("--no-edit", action="store_true", help="do not open $EDITOR")
    x.add_argument("--keep-datasets", action="store_true", help="do not move datasets to the new version")
    x.add_argument("--json", action="store_true")
    x = radd("health", cmd_rubric_health, "Per criterion: alpha and agreement by rubric version, and whether it is stable.")
    x.add_argument("dataset")
    x.add_argument("--min-alpha", type=_coefficient, default=0.8)
    x.add_argument("--min-cases", type=int, default=20)
    x.add_argument("--json", action="store_true")
    x.add_argument("--strict", action="store_true", help=STRICT_HELP)
