"""Commands that bring cases in and say where a dataset stands: init, import, sample, validate, status."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from types import SimpleNamespace

from labeler.cli.common import (EXIT_FAIL, EXIT_OK, STRICT_HELP, _console, _left_out, _mix, _name, _open, _positive, _relative)
from labeler.errors import LabelerError, UsageError


def cmd_init(a: argparse.Namespace) -> int:
    from labeler.flows.scaffold import scaffold

    made = scaffold(Path(a.root), a.name, overlap=a.overlap)
    for p in made:
        print(f"created {p}")
    print(f"next: edit {made[0]}, then `labeler import {a.name} FILE.jsonl` and `labeler label {a.name}`")
    return EXIT_OK


def cmd_import(a: argparse.Namespace) -> int:
    from labeler.truth.importer import FieldMap, import_cases

    ds = _open(a.dataset)
    fields = FieldMap(id=a.id_field, input=a.input_field, output=a.output_field, reference=a.reference_field,
                      context=a.context_field, tags=a.tags_field, tier=a.tier_field, output_b=a.output_b_field)
    result = import_cases(Path(a.file), ds.cases, fields, tier=a.tier, source=a.source or "", pairwise=ds.rubric().pairwise)
    if result.added:
        ds.add_cases(result.added)
    ids = sorted(result.id_fields)
    summary = {"added": len(result.added), "duplicates_skipped": result.duplicates, "cases": len(ds.cases),
               "ids_from": [f or "content hash" for f in ids]}
    if a.json:
        print(json.dumps(summary))
    else:
        said = " and ".join(f"field {f!r}" if f else "the content hash" for f in ids)
        print(f"imported {summary['added']} new cases into {ds.name} ({summary['duplicates_skipped']} duplicates skipped; "
              f"{summary['cases']} cases now)" + (f"; ids from {said}" if ids else ""))
    return EXIT_OK


def cmd_sample(a: argparse.Namespace) -> int:
    from labeler.truth.importer import sample

    ds = _open(a.dataset)
    picked, strata = sample(ds.cases, a.n, by=a.by, mix=a.mix, seed=a.seed)
    if len(picked) < a.n:
        sys.stderr.write(f"note: asked for {a.n} cases but {ds.name} has only {len(picked)} to pick from; picked them all\n")
    if a.into:
        from labeler.flows.scaffold import dataset_like

        target = dataset_like(ds, a.into)
        new = [ds.cases[cid] for cid in picked if cid not in target.cases]
        if new:
            target.add_cases(new)
    if a.json:
        print(json.dumps({"seed": a.seed, "picked": picked, "strata": {k: {"picked": p, "available": n} for k, (p, n) in strata.items()}}))
        return EXIT_OK
    from rich.table import Table

    t = Table(title=f"sample of {len(picked)} from {ds.name} (seed {a.seed})")
    t.add_column("stratum")
    t.add_column("picked", justify="right")
    t.add_column("available", justify="right")
    for k, (p, n) in strata.items():
        t.add_row(k, str(p), str(n))
    _console().print(t)
    if a.into:
        print(f"wrote {len(picked)} cases into datasets/{a.into}")
    else:
        print("\n".join(picked))
    return EXIT_OK


def cmd_validate(a: argparse.Namespace) -> int:
    from labeler.flows.validate import validate_paths

    paths = [Path(p) for p in a.paths] or [Path.cwd()]
    findings = validate_paths(paths)
    errors = [f for f in findings if f.severity == "error"]
    for f in findings:
        f.path = _relative(f.path)
    if a.json:
        print(json.dumps([{"path": str(f.path), "line": f.line, "severity": f.severity, "message": f.message} for f in findings]))
    else:
        from labeler.safetext import inert

        for f in findings:
            print(inert(str(f)))
        print(f"{len(errors)} error(s), {len(findings) - len(errors)} warning(s)" if findings else "ok: everything validates")
    return EXIT_FAIL if errors else EXIT_OK


def cmd_status(a: argparse.Namespace) -> int:
    st, problems = _status(a.dataset, a.days)
    failed = _left_out(SimpleNamespace(problems=problems), a.strict)
    if a.json:
        print(json.dumps(st, default=str))
        return EXIT_FAIL if failed else EXIT_OK
    from rich.table import Table

    con = _console()
    from rich.text import Text

    con.print(Text.assemble((st["dataset"], "bold"), f"  rubric {st['rubric']} v{st['rubric_version']}  overlap k={st['overlap_k']}"))
    t = Table(title="cases by tier")
    for col in ("tier", "cases", "with >= k labels"):
        t.add_column(col, justify="right" if col != "tier" else "left")
    for tier, row in st["tiers"].items():
        t.add_row(tier, str(row["cases"]), str(row["overlap_reached"]))
    t.add_row("all", str(st["cases"]), f"{st['overlap_reached']} ({st['overlap_reached'] / max(1, st['cases']):.0%})", style="bold")
    con.print(t)
    t = Table(title="labels per annotator")
    for col in ("annotator", "current", "stale labels", "stale criteria", "flagged", "last label"):
        t.add_column(col)
    for ann, row in st["annotators"].items():
        t.add_row(ann, str(row["current"]), str(row["stale"]), str(row["stale_criteria"]), str(row["flagged"]), str(row["last"] or "-"))
    con.print(t)
    con.print(f"flagged cases (rubric unclear): {len(st['flagged_cases'])}"
              + (f"  {', '.join(st['flagged_cases'][:8])}{' ...' if len(st['flagged_cases']) > 8 else ''}" if st['flagged_cases'] else ""))
    con.print(f"cases added more than {a.days} days ago still short of k labels: {len(st['old_unfinished'])}")
    return EXIT_FAIL if failed else EXIT_OK


def _status(ref: str, days: int) -> tuple[dict, list]:
    """`labeler status` as plain JSON values, and what it left out: from the summary under the dataset's
    .cache/ when no file it was read from changed since (a few stat calls), else read from the files."""
    from datetime import date

    from labeler.derived import summary
    from labeler.workspace import dataset_folder

    folder = dataset_folder(ref)
    extra = {"days": days, "today": date.today().isoformat()}
    key = summary.stamp([folder, folder.parent.parent / "rubrics"]) if folder else None
    saved = summary.read(folder / ".cache" / SUMMARY, key, extra) if folder else None
    try:
        return saved["status"], [SimpleNamespace(path=Path(p), line=n, severity=s, message=m) for p, n, s, m in saved["problems"]]
    except (TypeError, KeyError, ValueError):  # none saved (or not in the shape written): read the files
        pass
    from labeler.stats.status import dataset_status

    ds = _open(ref)
    st = json.loads(json.dumps(dataset_status(ds, days=days, today=date.fromisoformat(extra["today"])), default=str))
    if folder == ds.path and ds.cache_dir is not None:  # a cache git tracks is neither read nor written
        summary.write(ds.cache_dir / SUMMARY, key, extra,
                      {"status": st, "problems": [[str(p.path), p.line, p.severity, p.message] for p in ds.problems]})
    return st, ds.problems


SUMMARY = "status.json"
"""`labeler status`'s last answer, under the dataset's .cache/."""


def cmd_import_labels(a: argparse.Namespace) -> int:
    from labeler.truth.label_import import label_key, parse_pairs, plan_import, read_found

    ds = _open(a.dataset)
    rubric = ds.rubric(a.rubric_version) if a.rubric_version else ds.rubric()
    value_map: dict[str, dict[str, str]] = {}
    for item in a.value_map or []:
        crit, _, pair = item.partition(":")
        if not pair or crit not in rubric.criteria:
            raise UsageError(f"--value-map {item!r}: expected CRITERION:THEIRS=OURS with a criterion of rubric {rubric.name} v{rubric.version}")
        value_map.setdefault(crit, {}).update(parse_pairs([pair], "--value-map"))
    table = ds.table
    existing = {label_key(table.annotators[int(table.ann.a[row])], table.label(row)) for row, e in table.extras.items() if "imported" in e}
    notes: list[str] = []
    path = Path(a.file)
    done_suggestions: set[str] = set()
    if a.suggestions_run:
        if a.format != "argilla":
            raise UsageError("--suggestions-run reads Argilla suggestions: use it with --format argilla")
        from labeler.names import check_safe_name

        try:
            check_safe_name(a.suggestions_run, "run name")
        except ValueError as e:
            raise UsageError(f"--suggestions-run: {e}") from None
        if a.suggestions_run in ds.judge_runs():
            meta, verdicts = ds.judge_run(a.suggestions_run)
            if meta.rubric_hash != rubric.content_hash() or not meta.prompt_template.startswith("(imported"):
                raise LabelerError(f"judge run {a.suggestions_run!r} exists and is not an import of suggestions under "
                                   f"rubric v{rubric.version}: choose another --suggestions-run name")
            done_suggestions = set(verdicts)
    ignore = set(a.ignore or [])

    def gold_there(case: str, values: dict) -> bool:
        """This gold is already the import lead's latest word on each of its criteria (from any file)."""
        for c, v in values.items():
            g = ds.adjudications.gold(case, c, lambda *_: True)
            if g.decision is None or g.decision.lead != a.gold_lead or g.decision.value != v:
                return False
        return True

    plan = plan_import(read_found(path, a.format, a.case_field, notes, ignore), cases=ds.cases, rubric=rubric, fmt=a.format,
                       source=path.name, question_map=parse_pairs(a.map, "--map"), value_map=value_map,
                       annotator_map=parse_pairs(a.annotator_map, "--annotator-map"), existing=existing, gold_lead=a.gold_lead,
                       add_cases=a.add_cases, suggestions_run=a.suggestions_run, done_suggestions=done_suggestions,
                       existing_gold=gold_there)
    written = sum(len(v) for v in plan.labels.values())
    if not a.dry_run:
        if plan.new_cases:
            ds.add_cases(plan.new_cases)
        for who, labels in plan.labels.items():
            ds.save_labels(who, labels)
        for g in plan.gold:
            ds.save_adjudication(a.gold_lead, g)
        if plan.suggestions:
            from labeler.judge.imported import save_imported_run

            save_imported_run(ds, a.suggestions_run, rubric, plan.suggestions, plan.agents, f"argilla: {path.name}")
    report = {"dry_run": a.dry_run, "labels": written, "adjudications": len(plan.gold), "new_cases": len(plan.new_cases),
              "suggestions": len(plan.suggestions), "suggestions_run": a.suggestions_run,
              "by_annotator": plan.counts,
              "skipped": plan.skipped, "problems": plan.problems, "dropped": plan.dropped, "notes": notes + plan.notes}
    from labeler.safetext import inert

    if a.json:
        print(json.dumps(report, indent=2))
    else:
        verb = "would write" if a.dry_run else "wrote"
        print(f"{verb} {written} label(s) and {len(plan.gold)} adjudication(s) into {ds.name}"
              + (f", and {len(plan.suggestions)} suggestion(s) as judge run {a.suggestions_run}" if a.suggestions_run else "")
              + (f"; skipped: {', '.join(f'{n} {why}' for why, n in plan.skipped.items())}" if plan.skipped else ""))
        for who, per in sorted(plan.counts.items()):
            print(f"  {inert(who)}: " + ", ".join(f"{c} {n}" for c, n in sorted(per.items())))
        for n in notes + plan.notes:
            print(f"note: {inert(n)}")
    for p in plan.problems + plan.dropped:
        sys.stderr.write(f"{_relative(path)}: {inert(p)}\n")
    if plan.problems:
        sys.stderr.write(f"{len(plan.problems)} record(s) not imported (see above)\n")
    if plan.dropped:
        sys.stderr.write(f"{len(plan.dropped)} value(s) left out of records that were imported (see above)\n")
    return EXIT_FAIL if plan.problems or plan.dropped else EXIT_OK


def cmd_candidate(a: argparse.Namespace) -> int:
    from labeler.truth.candidates import read_candidate
    from labeler.truth.importer import FieldMap

    if a.action != "add" or len(a.rest) != 3:
        raise UsageError("usage: labeler candidate add DATASET NAME FILE [--model M] [--prompt-version V] [--commit C] [--meta K=V]")
    dataset, name, file = a.rest
    ds = _open(dataset)
    meta = {"model": a.model or "", "prompt_version": a.prompt_version or "", "commit": a.commit or "",
            "metadata": dict(kv.split("=", 1) for kv in (a.meta or []) if "=" in kv)}
    bad = [kv for kv in (a.meta or []) if "=" not in kv]
    if bad:
        raise UsageError(f"--meta {bad[0]!r}: expected KEY=VALUE")
    fields = FieldMap(id=a.id_field, input=a.input_field, output=a.output_field)
    try:
        from labeler.names import check_safe_name

        check_safe_name(name, "candidate name")
    except ValueError as e:
        raise UsageError(str(e)) from None
    result = read_candidate(Path(file), name, ds.cases, fields, meta)
    for u in result.unmatched:
        sys.stderr.write(f"{file}: {u}\n")
    if not result.candidate.outputs:
        raise LabelerError(f"{file}: no row matches a case of {ds.name}; nothing written")
    path = ds.save_candidate(result.candidate)
    n = len(result.candidate.outputs)
    summary = {"candidate": name, "path": str(_relative(path)), "outputs": n, "unmatched": len(result.unmatched),
               "cases_without_output": len(ds.cases) - n}
    if a.json:
        print(json.dumps(summary))
    else:
        print(f"wrote {summary['path']}: {n} output(s) for {ds.name}; {len(result.unmatched)} row(s) matched no case; "
              f"{summary['cases_without_output']} case(s) have no output from this candidate")
    return EXIT_FAIL if result.unmatched else EXIT_OK


def cmd_export(a: argparse.Namespace) -> int:
    from labeler.derived.current import Current
    from labeler.stats.numbers import gold
    from labeler.truth.export import case_record, render

    ds = _open(a.dataset)
    rubric = ds.rubric()
    g = gold(ds)
    outputs = ds.candidate(a.candidate).outputs if a.candidate else None
    cur = Current(ds) if a.annotators else None
    values = {c: cur.values(c) for c in rubric.criteria} if cur else {}
    records = []
    for j, cid in enumerate(ds.cases.ids):
        if a.tier and ds.cases.field(j, "tier") not in a.tier:
            continue
        gv = {c: x.value for c, x in g.get(cid, {}).items()}
        if a.only_gold and not gv:
            continue
        if outputs is not None and cid not in outputs:
            continue
        case = ds.cases.case(j)
        ann = None
        if cur is not None:
            ann = {}
            for c, by in values.items():
                for who, vals in by.items():
                    if cid in vals:
                        ann.setdefault(who, {})[c] = vals[cid]
        records.append(case_record(case, rubric, gv, ann, outputs[cid] if outputs is not None else case.output))
    if a.grader and (a.format != "promptfoo" or not a.out):
        raise UsageError("--grader writes a promptfooconfig.yaml beside the tests: use it with --format promptfoo and --out FILE")
    if a.array and a.format != "deepeval":
        raise UsageError("--array is for --format deepeval (the JSON array add_goldens_from_json_file reads)")
    config = Path(a.out).parent / "promptfooconfig.yaml" if a.grader else None
    if config is not None and config.exists() and not config.read_text(errors="replace").startswith("# labeler export of"):
        raise LabelerError(f"{config}: exists and was not written by labeler; move it away or --out elsewhere (nothing written)")
    exp = render(a.format, records, rubric, legacy=a.legacy, raw_formulas=a.raw_formulas, array=a.array)
    from labeler.safetext import inert

    for why in exp.left_out:
        sys.stderr.write(f"left out {inert(why)}\n")
    for n in exp.notes:
        sys.stderr.write(f"note: {n}\n")
    if a.out:
        from labeler.truth.export import promptfoo_config
        from labeler.truth.yamlio import atomic_write

        out = Path(a.out)
        atomic_write(out, exp.text)
        written = len(records) - len(exp.left_out)
        sys.stderr.write(f"wrote {written} record(s) to {a.out}" + (f" ({len(exp.left_out)} left out, see above)" if exp.left_out else "") + "\n")
        if config is not None:
            atomic_write(config, promptfoo_config(out.name, a.grader, ds.name, rubric))
            sys.stderr.write(f"wrote {config}: run `npx promptfoo eval -c {config}` (grader {a.grader})\n")
    else:
        sys.stdout.write(exp.text)
    return EXIT_OK


def register(add) -> None:
    """The subcommands of this module, with their flags."""
    sp = add("init", cmd_init)
    sp.add_argument("name", type=_name("dataset name"))
    sp.add_argument("--root", default=".", help="workspace folder (default: here)")
    sp.add_argument("--overlap", type=_positive, default=2, help="labels wanted per case (default 2)")

    sp = add("import", cmd_import)
    sp.add_argument("dataset")
    sp.add_argument("file")
    sp.add_argument("--id-field", default=None, help="field holding a case id (default: `id` when rows have one, else an id from the content hash)")
    sp.add_argument("--input-field", default="input")
    sp.add_argument("--output-field", default="output", help="the output judged (a pairwise row: output A; `output_a` also works)")
    sp.add_argument("--output-b-field", default="output_b", help="a pairwise row's second output (B); source_a / source_b say where each came from")
    sp.add_argument("--reference-field", default="reference")
    sp.add_argument("--context-field", default="context")
    sp.add_argument("--tags-field", default="tags")
    sp.add_argument("--tier-field", default="tier")
    sp.add_argument("--tier", default="golden", choices=["golden", "adversarial", "regression"], help="tier for rows without one")
    sp.add_argument("--source", default=None, help="where the cases came from (default: the file name)")
    sp.add_argument("--json", action="store_true")

    sp = add("sample", cmd_sample)
    sp.add_argument("dataset")
    sp.add_argument("--n", type=_positive, default=300)
    sp.add_argument("--by", default=None, help="stratify by a case field (tier, difficulty, source) or tag:NAME")
    sp.add_argument("--mix", type=_mix, default=None, help="percentages per stratum, e.g. 60,25,15 (one per stratum)")
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--into", type=_name("dataset name"), default=None, help="write the selection into this dataset (created with the same rubric)")
    sp.add_argument("--json", action="store_true")

    sp = add("validate", cmd_validate)
    sp.add_argument("paths", nargs="*")
    sp.add_argument("--json", action="store_true")

    sp = add("status", cmd_status)
    sp.add_argument("dataset")
    sp.add_argument("--days", type=_positive, default=14)
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--strict", action="store_true", help=STRICT_HELP)

    sp = add("import-labels", cmd_import_labels)
    sp.add_argument("dataset")
    sp.add_argument("file")
    sp.add_argument("--format", required=True, choices=["csv", "jsonl", "label-studio", "argilla", "prodigy"])
    sp.add_argument("--map", action="append", metavar="QUESTION=CRITERION", help="a question (column, from_name) to a criterion (or to `note`)")
    sp.add_argument("--value-map", action="append", metavar="CRITERION:THEIRS=OURS", help="a value of theirs to a scale point")
    sp.add_argument("--ignore", action="append", metavar="FIELD", help="Label Studio JSON-MIN: a task data field that is not a "
                    "question (labeler's own export columns are known)")
    sp.add_argument("--annotator-map", action="append", metavar="ID=NAME", help="a user id of theirs to an annotator name")
    sp.add_argument("--case-field", default="id", help="the field holding the case id (default: id; else input + output match)")
    sp.add_argument("--rubric-version", type=_positive, default=None, help="the rubric version the labels were made under (default: in force)")
    sp.add_argument("--gold-lead", type=_name("lead"), default="imported", help="lead name for gold from the source (default: imported)")
    sp.add_argument("--add-cases", action="store_true", help="records with input and output that match no case become new cases")
    sp.add_argument("--suggestions-run", default=None, metavar="RUN", help="Argilla: the records' suggestions become judge run RUN "
                                                                            "(calibrate and audit them like any judge)")
    sp.add_argument("--dry-run", action="store_true", help="print what would be written; write nothing")
    sp.add_argument("--json", action="store_true")

    sp = add("candidate", cmd_candidate)
    sp.add_argument("action", choices=["add"])
    sp.add_argument("rest", nargs="*", metavar="DATASET NAME FILE")
    sp.add_argument("--id-field", default=None, help="field holding the case id (default: id)")
    sp.add_argument("--input-field", default="input")
    sp.add_argument("--output-field", default="output")
    sp.add_argument("--model", default=None, help="the model that produced these outputs")
    sp.add_argument("--prompt-version", default=None)
    sp.add_argument("--commit", default=None, help="the code version (a git sha)")
    sp.add_argument("--meta", action="append", metavar="KEY=VALUE", help="free-form metadata (repeatable)")
    sp.add_argument("--json", action="store_true")

    sp = add("export", cmd_export)
    sp.add_argument("dataset")
    sp.add_argument("--format", required=True, choices=["jsonl", "csv", "inspect", "promptfoo", "openai-evals", "deepeval"])
    sp.add_argument("--tier", action="append", choices=["golden", "adversarial", "regression"], help="only this tier (repeatable)")
    sp.add_argument("--only-gold", action="store_true", help="only cases with gold for at least one criterion")
    sp.add_argument("--candidate", type=_name("candidate name"), default=None, help="that candidate's outputs instead of the golden ones")
    sp.add_argument("--annotators", action="store_true", help="each annotator's current values too")
    sp.add_argument("--legacy", action="store_true", help="openai-evals: the legacy registry shape (chat input, ideal: the reference, "
                    "or an output gold passed; other cases are left out and named)")
    sp.add_argument("--raw-formulas", action="store_true", help="csv: leave cells that start with = + - @ as they are (by default a ' "
                    "in front keeps a spreadsheet from running them; import takes it off again)")
    sp.add_argument("--grader", default=None, metavar="PROVIDER", help="promptfoo: also write promptfooconfig.yaml beside --out, "
                    "graded by this promptfoo provider (e.g. openai:chat:gpt-4o-mini)")
    sp.add_argument("--array", action="store_true", help="deepeval: one JSON array (what add_goldens_from_json_file reads) "
                    "instead of JSON lines")
    sp.add_argument("--out", default=None, metavar="FILE", help="write here (default: standard output)")
