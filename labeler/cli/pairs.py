"""Pairwise comparisons: build pairwise cases from two versions, and win rates per criterion."""

from __future__ import annotations

import argparse
import json
import sys

from labeler.cli.common import EXIT_FAIL, EXIT_OK, GOLD_CHOICES, GOLD_HELP, STRICT_HELP, _console, _left_out, _name, _open
from labeler.errors import LabelerError


def cmd_pair(a: argparse.Namespace) -> int:
    from labeler.truth.models import DatasetConfig
    from labeler.truth.pairing import build_pairs
    from labeler.dataset import Dataset
    from labeler.truth.store import save_model_rt

    src = _open(a.dataset)
    result = build_pairs(src, a.a, a.b)
    into = a.into or _default_into(src.name, a.a, a.b)
    folder = src.ws.datasets_dir / into
    made_rubric = None
    rubric_name = a.rubric
    if (folder / "dataset.yaml").exists():
        target = Dataset.open(src.ws, folder)
    else:
        if not rubric_name:  # one step: a pairwise rubric made from the source's, unless one exists already
            from labeler.truth.pairing import pairwise_rubric_from

            made_rubric = pairwise_rubric_from(src.rubric())
            rubric_name = made_rubric.name
            if src.ws.rubric_versions(rubric_name):
                made_rubric = None  # made before (an earlier pair): used as it is
                if not a.dry_run:
                    _write_judge_template(src.ws.rubric_dir(rubric_name))  # a crash may have come between the two files
            elif not a.dry_run:
                _write_rubric(src.ws, made_rubric)
        try:
            rubric = made_rubric or src.ws.rubric(rubric_name, max(src.ws.rubric_versions(rubric_name) or [1]))
        except LabelerError as e:
            raise LabelerError(f"--rubric {rubric_name}: {e}") from None
        if not rubric.pairwise:
            raise LabelerError(f"--rubric {rubric_name}: not a pairwise rubric (its criteria need `scale: {{type: pairwise}}`)")
        if not a.dry_run:
            save_model_rt(folder / "dataset.yaml", DatasetConfig(
                name=into, description=f"Pairwise: {a.a} (A) vs {a.b} (B) on the inputs of {src.name}.",
                rubric=rubric.name, rubric_version=rubric.version, overlap=src.config.overlap),
                header=f"# Dataset {a.into}: pairwise cases, output A and output B; labels say which is better.\n")
        target = None if a.dry_run else Dataset.open(src.ws, folder)
    if target is not None and not target.rubric().pairwise:
        raise LabelerError(f"datasets/{into}: its rubric {target.config.rubric} is not pairwise; choose another --into")
    have = set(target.cases) if target is not None else set()
    new = [c for c in result.cases if c.id not in have]
    if new and not a.dry_run:
        target.add_cases(new)
    summary = {"into": into, "rubric": rubric_name if target is None else target.config.rubric,
               "rubric_created": made_rubric is not None and not a.dry_run, "a": a.a, "b": a.b, "added": len(new) if not a.dry_run else 0, "would_add": len(new),
               "already_there": len(result.cases) - len(new), "left_out_no_output": result.missing,
               "left_out_identical": result.identical, "dry_run": a.dry_run}
    if a.json:
        print(json.dumps(summary, indent=2))
    else:
        verb = "would add" if a.dry_run else "added"
        if summary["rubric_created"]:
            print(f"wrote rubrics/{rubric_name}/v1.yaml (each criterion of {src.config.rubric} as a comparison; edit it, "
                  f"then `labeler rubric bump` once labels use it) and its judge.md")
        print(f"{verb} {len(new)} pairwise case(s) to datasets/{into}: A = {a.a}, B = {a.b}"
              f" ({summary['already_there']} already there)")
        if result.missing:
            sys.stderr.write(f"left out {len(result.missing)} case(s) where one side has no output: "
                             f"{', '.join(result.missing[:5])}{' ...' if len(result.missing) > 5 else ''}\n")
        if result.identical:
            sys.stderr.write(f"left out {len(result.identical)} case(s) where both outputs are the same text: "
                             f"{', '.join(result.identical[:5])}{' ...' if len(result.identical) > 5 else ''}\n")
        if not a.dry_run and new:
            print(f"next: `labeler label {into}` (the two outputs are shown in an order picked per annotator and case)")
    return EXIT_OK


def _default_into(name: str, a: str, b: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9._-]+", "-", f"{name}-{a}-vs-{b}").strip("-.")[:100]


def _write_rubric(ws, rubric) -> None:
    """judge.md first, v1.yaml last: v1.yaml is what says the rubric exists, so a crash between the two
    leaves a folder a rerun completes (it writes judge.md when it is missing)."""
    from labeler.truth.yamlio import atomic_write, dump_rt, merge_into

    folder = ws.rubric_dir(rubric.name)
    text = dump_rt(merge_into({}, rubric.model_dump(mode="json", exclude_defaults=True)))
    _write_judge_template(folder)
    atomic_write(folder / "v1.yaml", f"# Pairwise rubric {rubric.name}: made by `labeler pair` from the single-output "
                                     f"rubric; tighten it like any rubric.\n{text}")


def _write_judge_template(folder) -> None:
    from labeler.judge.run import DEFAULT_PAIR_TEMPLATE
    from labeler.truth.yamlio import atomic_write

    if not (folder / "judge.md").exists():
        atomic_write(folder / "judge.md", DEFAULT_PAIR_TEMPLATE)


def cmd_winrate(a: argparse.Namespace) -> int:
    from labeler.stats.winrate import human_position_bias, win_tables

    ds = _open(a.dataset)
    runs = a.run or None
    for r in runs or []:
        ds.judge_run(r)  # a missing run is a one-line error
    try:
        tables = win_tables(ds, a.by, runs, a.gold)
    except ValueError as e:
        raise LabelerError(str(e)) from None
    bias = human_position_bias(ds)
    failed = _left_out(ds, a.strict)
    if a.json:
        print(json.dumps({"dataset": ds.name, "by": a.by, "gold": a.gold, "tables": [t.as_dict() for t in tables],
                          "human_position_bias": [b.as_dict() for b in bias],
                          "left_out": [str(p) for p in ds.problems]}, indent=2))
    else:
        from labeler.render import position_bias_table, winrate_tables

        con = _console()
        for t in winrate_tables(tables, a.by):
            con.print(t)
        if bias:
            con.print(position_bias_table(bias))
    return EXIT_FAIL if failed else EXIT_OK


def register(add) -> None:
    sp = add("pair", cmd_pair)
    sp.add_argument("dataset", help="the dataset whose inputs (and candidates) are paired")
    sp.add_argument("--a", required=True, help="the version shown as A: a candidate name, or `golden`")
    sp.add_argument("--b", required=True, help="the version shown as B: a candidate name, or `golden`")
    sp.add_argument("--into", default=None, type=_name("dataset name"),
                    help="the pairwise dataset to add the cases to (created if new; default DATASET-A-vs-B)")
    sp.add_argument("--rubric", type=_name("rubric name"), default=None,
                    help="the pairwise rubric of a new --into dataset (its latest version; default: one made from DATASET's "
                         "rubric, each criterion as a comparison, written to rubrics/RUBRIC-pairwise/)")
    sp.add_argument("--dry-run", action="store_true", help="say what would be added; write nothing")
    sp.add_argument("--json", action="store_true")

    sp = add("winrate", cmd_winrate)
    sp.add_argument("dataset")
    sp.add_argument("--by", default="source", choices=["source", "tier", "tag"], help="split: head to head (default), per tier, per tag")
    sp.add_argument("--run", action="append", help="a judge run to include (repeatable; default: every run of the rubric)")
    sp.add_argument("--gold", default="consensus", choices=GOLD_CHOICES, help=GOLD_HELP)
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--strict", action="store_true", help=STRICT_HELP)
