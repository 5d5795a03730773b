"""The `labeler` command: thin subcommands; heavy imports (textual, numpy) only inside the one that needs them."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable

from labeler import __version__
from labeler.errors import FileFormatError, LabelerError, UsageError

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def _console(stderr: bool = False):
    from rich.console import Console

    # markup off: case text, ids, notes and rubric text print literally, never as [markup]
    return Console(stderr=stderr, highlight=False, soft_wrap=False, markup=False)


def _relative(path: Path) -> Path:
    """`path` relative to where the command runs, when it is below it (messages people can click)."""
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve())
    except (ValueError, OSError):
        return Path(path)


def _left_out(ds, strict: bool = False, limit: int = 30) -> bool:
    """Say on stderr what the numbers leave out and why (path:line), most useful first.

    Returns True when `strict` is set and something was left out (the command then exits 1)."""
    from labeler.safetext import inert

    problems = ds.problems
    if not problems:
        return False
    for p in problems[:limit]:
        where = f"{_relative(p.path)}:{p.line}" if p.line else str(_relative(p.path))
        sys.stderr.write(f"{inert(where)}: {p.severity}: {inert(p.message)}\n")
    if len(problems) > limit:
        sys.stderr.write(f"... and {len(problems) - limit} more (`labeler validate` lists every one)\n")
    errors = sum(1 for p in problems if p.severity == "error")
    sys.stderr.write(f"left out of these numbers: {errors} error(s), {len(problems) - errors} warning(s)"
                     + ("; --strict: failing" if strict else "; add --strict to fail on this") + "\n")
    return strict


def _err(msg: str) -> None:
    from labeler.safetext import inert

    sys.stderr.write(f"error: {inert(msg)}\n")


def _open(ref: str, progress: bool = True):
    """Open a dataset, with a progress bar when the first open of a big one takes a while."""
    from labeler.store import open_dataset

    if not progress or not sys.stderr.isatty():
        return open_dataset(ref)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    bar: dict[str, Any] = {}

    def tick(done: int, total: int) -> None:
        if "p" not in bar:
            p = Progress("reading cases", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=_console(True), transient=True)
            p.start()
            bar["p"], bar["t"] = p, p.add_task("cases", total=total)
        bar["p"].update(bar["t"], completed=done)

    try:
        return open_dataset(ref, tick)
    finally:
        if "p" in bar:
            bar["p"].stop()


# ---------------------------------------------------------------- commands


def cmd_init(a: argparse.Namespace) -> int:
    from labeler.scaffold import scaffold

    made = scaffold(Path(a.root), a.name, overlap=a.overlap)
    for p in made:
        print(f"created {p}")
    print(f"next: edit {made[0]}, then `labeler import {a.name} FILE.jsonl` and `labeler label {a.name}`")
    return EXIT_OK


def cmd_import(a: argparse.Namespace) -> int:
    from labeler.importer import FieldMap, import_cases

    ds = _open(a.dataset)
    fields = FieldMap(id=a.id_field, input=a.input_field, output=a.output_field, reference=a.reference_field,
                      context=a.context_field, tags=a.tags_field, tier=a.tier_field)
    result = import_cases(Path(a.file), ds.cases, fields, tier=a.tier, source=a.source or "")
    if result.added:
        ds.add_cases(result.added)
    summary = {"added": len(result.added), "duplicates_skipped": result.duplicates, "cases": len(ds.cases)}
    if a.json:
        print(json.dumps(summary))
    else:
        print(f"imported {summary['added']} new cases into {ds.name} ({summary['duplicates_skipped']} duplicates skipped; {summary['cases']} cases now)")
    return EXIT_OK


def cmd_sample(a: argparse.Namespace) -> int:
    from labeler.importer import sample

    ds = _open(a.dataset)
    picked, strata = sample(ds.cases, a.n, by=a.by, mix=a.mix, seed=a.seed)
    if len(picked) < a.n:
        sys.stderr.write(f"note: asked for {a.n} cases but {ds.name} has only {len(picked)} to pick from; picked them all\n")
    if a.into:
        from labeler.scaffold import dataset_like

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
    from labeler.validate import validate_paths

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
    from labeler.safetext import inert
    from labeler.status import dataset_status

    ds = _open(a.dataset)
    st = dataset_status(ds, days=a.days)
    failed = _left_out(ds, a.strict)
    if a.json:
        print(json.dumps(st, default=str))
        return EXIT_FAIL if failed else EXIT_OK
    from rich.table import Table

    con = _console()
    from rich.text import Text

    con.print(Text.assemble((ds.name, "bold"), f"  rubric {ds.config.rubric} v{ds.config.rubric_version}  overlap k={ds.config.overlap}"))
    t = Table(title="cases by tier")
    for col in ("tier", "cases", "with >= k labels"):
        t.add_column(col, justify="right" if col != "tier" else "left")
    for tier, row in st["tiers"].items():
        t.add_row(tier, str(row["cases"]), str(row["overlap_reached"]))
    t.add_row("all", str(st["cases"]), f"{st['overlap_reached']} ({st['overlap_reached'] / max(1, st['cases']):.0%})", style="bold")
    con.print(t)
    t = Table(title="labels per annotator")
    for col in ("annotator", "current", "stale", "flagged", "last label"):
        t.add_column(col)
    for ann, row in st["annotators"].items():
        t.add_row(ann, str(row["current"]), str(row["stale"]), str(row["flagged"]), str(row["last"] or "-"))
    con.print(t)
    con.print(f"flagged cases (rubric unclear): {len(st['flagged_cases'])}"
              + (f"  {', '.join(st['flagged_cases'][:8])}{' ...' if len(st['flagged_cases']) > 8 else ''}" if st['flagged_cases'] else ""))
    con.print(f"cases added more than {a.days} days ago still short of k labels: {len(st['old_unfinished'])}")
    return EXIT_FAIL if failed else EXIT_OK


def cmd_agreement(a: argparse.Namespace) -> int:
    from labeler.report import agreement_groups, check_gates

    ds = _open(a.dataset)
    groups = agreement_groups(ds, a.by, a.gold)
    gated = a.min_alpha is not None or a.min_agreement is not None
    overall = groups[0] if a.by in ("criterion", "annotator") else agreement_groups(ds, "criterion", a.gold)[0]
    failures = check_gates(overall, a.min_alpha, a.min_agreement) if gated else []
    failed = _left_out(ds, a.strict)
    if a.json:
        print(json.dumps({"dataset": ds.name, "rubric": ds.config.rubric, "rubric_version": ds.config.rubric_version,
                          "by": a.by, "gold": a.gold, "groups": [g.as_dict() for g in groups],
                          "left_out": [str(p) for p in ds.problems],
                          "gates": {"min_alpha": a.min_alpha, "min_agreement": a.min_agreement,
                                    "failures": [{"criterion": f.criterion, "what": f.what} for f in failures]}}, indent=2))
    else:
        from labeler.render import agreement_tables

        con = _console()
        for table in agreement_tables(groups, a.by):
            con.print(table)
        for f in failures:
            sys.stderr.write(f"gate failed: {f}\n")
        if gated and not failures:
            print("gates met")
    return EXIT_FAIL if failures or failed else EXIT_OK


def cmd_label(a: argparse.Namespace) -> int:
    from labeler.identity import resolve_identity

    ds = _open(a.dataset)
    ident = resolve_identity(a.annotator, ds.path)
    from labeler.ui.app import LabelerApp

    if a.suggest:
        ds.judge_run(a.suggest)  # a missing run is a one-line error before the screen opens
    app = LabelerApp(ds, mode="label", identity=ident, tiers=set(a.tier or []) or None, tags=set(a.tag or []) or None,
                     suggest=a.suggest)
    app.run()
    return app.return_code or EXIT_OK


def cmd_review(a: argparse.Namespace) -> int:
    from labeler.identity import resolve_identity

    ds = _open(a.dataset)
    ident = resolve_identity(a.lead, ds.path)
    from labeler.review import check_filters

    check_filters(ds, a.criterion, a.annotator)  # a filter that can match nothing: one line before the screen opens
    from labeler.ui.app import LabelerApp

    app = LabelerApp(ds, mode="review", identity=ident,
                     review_filters={"criterion": a.criterion, "tier": a.tier, "annotator": a.annotator,
                                     "include_adjudicated": a.all})
    app.run()
    return app.return_code or EXIT_OK


def cmd_rubric_list(a: argparse.Namespace) -> int:
    from labeler.store import Workspace

    ws = Workspace.find()
    names = sorted(p.name for p in ws.rubrics_dir.iterdir() if p.is_dir()) if ws.rubrics_dir.is_dir() else []
    if a.name:
        names = [n for n in names if n == a.name]
        if not names:
            raise LabelerError(f"{ws.rubric_dir(a.name)}: no such rubric")
    users: dict[tuple[str, int], list[str]] = {}
    for ds_name in ws.dataset_names():
        from labeler.store import Dataset

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
    from labeler.versioning import latest_version

    if version is None or version == "latest":
        return latest_version(ws, name)
    return int(version.lstrip("v"))


def cmd_rubric_show(a: argparse.Namespace) -> int:
    from labeler.store import Workspace

    ws = Workspace.find()
    r = ws.rubric(a.name, _rubric_version(ws, a.name, a.version))
    if a.json:
        print(json.dumps(r.model_dump(mode="json"), indent=2))
        return EXIT_OK
    from labeler.render import rubric_view

    _console().print(rubric_view(r))
    return EXIT_OK


def cmd_rubric_diff(a: argparse.Namespace) -> int:
    from labeler.store import Workspace
    from labeler.versioning import diff_rubrics

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

    from labeler.identity import git_user_name
    from labeler.store import Dataset, Workspace
    from labeler.versioning import collect_evidence, latest_version, new_version_text, resolves_from, write_version

    ws = Workspace.find()
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
    from labeler.report import rubric_health

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


def cmd_judge(a: argparse.Namespace) -> int:
    if a.target == "compare":
        return _judge_compare(a)
    if a.target == "status":
        return _judge_status(a)
    if a.target == "drop":
        return _judge_drop(a)
    if a.rest:
        raise LabelerError(f"unexpected arguments {' '.join(a.rest)!r} (usage: labeler judge DATASET --model M ...)")
    if not a.model:
        raise LabelerError("--model is required (the model name your endpoint serves)")
    from labeler.judge import JudgeConfig

    ds = _open(a.target)
    cfg = JudgeConfig(model=a.model, run=a.run or a.model.replace("/", "-").replace(":", "-"), base_url=a.base_url,
                      api_key_env=a.api_key_env, concurrency=a.concurrency, temperature=a.temperature, repeat=a.repeat,
                      timeout=a.timeout, retries=a.retries, structured=not a.no_structured, cases=a.cases, limit=a.limit)
    if a.batch:
        return _judge_batch(a, ds, cfg)
    import asyncio
    import signal

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from labeler.judge import run_async

    quiet = a.json or not sys.stderr.isatty()
    bar = Progress(TextColumn(f"judging with {cfg.model}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
                   TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                   console=_console(True), disable=quiet)
    task = bar.add_task("judge", total=None, rate="")
    started = [0.0]

    def tick(done: int, total: int) -> None:
        import time

        if not started[0]:
            started[0] = time.perf_counter()
        rate = done / max(1e-9, time.perf_counter() - started[0])
        bar.update(task, completed=done, total=total, rate=f"{rate:.1f}/s")

    async def main():
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, stop.set)
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        return await run_async(ds, cfg, tick, stop=stop)

    with bar:
        summary = asyncio.run(main())
    return _judge_report(a, ds, cfg, summary)


def _judge_report(a, ds, cfg, summary) -> int:
    from labeler.judge import self_consistency

    out = {"run": cfg.run, **summary.as_dict()}
    if cfg.repeat > 1:
        _, verdicts = ds.judge_run(cfg.run)
        out["self_consistency"] = {c: {"agreement": None if x is None else round(x, 4), "cases": n}
                                   for c, (x, n) in self_consistency(verdicts, ds.rubric()).items()}
    if a.json:
        print(json.dumps(out, indent=2))
    else:
        errs = ", ".join(f"{k} {v}" + (f" ({summary.why[k]})" if k in summary.why else "")
                         for k, v in summary.errors.items()) or "none"
        print(f"run {cfg.run}: {summary.done} judged, {summary.skipped} skipped (cached), errors: {errs}"
              + (f", tokens: {summary.tokens}" if summary.tokens_reported else "") + f", {summary.seconds:.1f}s"
              + ("" if summary.structured else " (server has no structured output: used plain JSON)"))
        for c, v in out.get("self_consistency", {}).items():
            agree = "undefined" if v["agreement"] is None else f"{v['agreement']:.0%}"
            print(f"  self-consistency {c}: repeats agree on {agree} of {v['cases']} cases")
        if summary.interrupted:
            print("interrupted: everything finished so far is saved; run the same command again to continue")
    if summary.interrupted:
        return 130
    return EXIT_FAIL if summary.errors else EXIT_OK


def _judge_batch(a, ds, cfg) -> int:
    from labeler import judge_batch

    rec = judge_batch.read_batch(ds, cfg.run)
    if rec is None or rec.collected is not None:
        rec, skipped = judge_batch.submit(ds, cfg)
        if rec is None:
            print(f"nothing to submit: {skipped} request(s) already judged in run {cfg.run}")
            return EXIT_OK
        print(f"submitted batch {rec.batch_id} with {rec.requests} request(s) ({skipped} cached); "
              f"rerun this command (or add --wait SECONDS) to collect it")
        if not a.wait:
            return EXIT_OK
    summary = judge_batch.collect(ds, cfg, wait=a.wait or 0.0, poll=a.poll)
    if summary.interrupted:
        rec = judge_batch.read_batch(ds, cfg.run)
        print(f"batch {rec.batch_id} is {rec.status}; rerun to collect it")
        return EXIT_OK
    return _judge_report(a, ds, cfg, summary)


def _judge_status(a: argparse.Namespace) -> int:
    from labeler import judge_batch
    from labeler.judge import JudgeConfig

    if not a.rest:
        raise LabelerError("usage: labeler judge status DATASET [--run RUN]")
    ds = _open(a.rest[0])
    rows = []
    for run in ([a.run] if a.run else ds.judge_runs()):
        meta, verdicts = ds.judge_run(run)
        rec = judge_batch.read_batch(ds, run)
        if rec is not None and rec.collected is None and (a.base_url or meta.endpoint_host):
            cfg = JudgeConfig(model=meta.model, run=run, base_url=a.base_url, api_key_env=a.api_key_env)
            try:
                rec = judge_batch.status(ds, cfg)
            except LabelerError:
                pass  # no key here: show what was recorded
        errors = verdicts.error_count()
        rows.append({"run": run, "model": meta.model, "rubric_version": meta.rubric_version, "cases": len(verdicts),
                     "errors": errors, "finished": str(meta.finished or ""),
                     "batch": None if rec is None else {"id": rec.batch_id, "status": rec.status, "requests": rec.requests,
                                                         "collected": str(rec.collected or "")}})
    if a.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    from rich.table import Table

    t = Table(title=f"judge runs of {ds.name}")
    for col in ("run", "model", "rubric", "cases", "errors", "finished", "batch"):
        t.add_column(col)
    for r in rows:
        b = r["batch"]
        t.add_row(r["run"], r["model"], f"v{r['rubric_version']}", str(r["cases"]), str(r["errors"]), r["finished"],
                  "-" if b is None else f"{b['id']} {b['status']}" + (" (collected)" if b["collected"] else f" ({b['requests']} requests)"))
    _console().print(t)
    return EXIT_OK


def _judge_drop(a: argparse.Namespace) -> int:
    """Remove a run's folder (a failed or unwanted run); what was committed stays in git history."""
    import shutil

    if len(a.rest) != 2:
        raise UsageError("usage: labeler judge drop DATASET RUN")
    ds = _open(a.rest[0])
    run = a.rest[1]
    ds.judge_run(run)  # a missing run is a one-line error
    folder = ds.judge_dir / run
    audits = list((folder / "audits").glob("*.yaml")) if (folder / "audits").is_dir() else []
    if audits and not a.force:
        raise LabelerError(f"{_relative(folder)}: people audited this run ({len(audits)} audit file(s)); add --force to drop it anyway")
    shutil.rmtree(folder)
    print(f"dropped judge run {run} ({_relative(folder)}); `git checkout` brings back what was committed")
    return EXIT_OK


def _judge_compare(a: argparse.Namespace) -> int:
    from labeler.judge import compare_runs

    if len(a.rest) != 3:
        raise LabelerError("usage: labeler judge compare DATASET RUN_A RUN_B")
    ds = _open(a.rest[0])
    ma, va = ds.judge_run(a.rest[1])
    mb, vb = ds.judge_run(a.rest[2])
    if ma.rubric_version != mb.rubric_version:
        sys.stderr.write(f"note: runs used rubric v{ma.rubric_version} and v{mb.rubric_version}\n")
    comps = compare_runs(va, vb, ds.rubric())
    if a.json:
        print(json.dumps([{"criterion": c.criterion, "agreement": c.agreement, "cases": c.n,
                           "differ": [{"case": cid, "a": x, "b": y} for cid, x, y in c.differ]} for c in comps], indent=2))
        return EXIT_OK
    from rich.table import Table

    from labeler.safetext import one_line

    t = Table(title=f"{a.rest[1]} vs {a.rest[2]}")
    for col in ("criterion", "agreement", "cases", "differ on"):
        t.add_column(col)
    for c in comps:
        pct = "undefined" if c.agreement is None else f"{c.agreement:.0%}"
        cases = ", ".join(f"{one_line(cid, 40)} ({x}/{y})" for cid, x, y in c.differ[:6]) + (" ..." if len(c.differ) > 6 else "")
        t.add_row(c.criterion, pct, str(c.n), cases or "-")
    _console().print(t)
    return EXIT_OK


def cmd_calibrate(a: argparse.Namespace) -> int:
    from labeler.calibrate import below_bar, calibrate, groups

    ds = _open(a.dataset)
    meta, verdicts = ds.judge_run(a.run)
    if meta.rubric_version != ds.config.rubric_version:
        sys.stderr.write(f"note: run {a.run} used rubric v{meta.rubric_version}; the dataset is on v{ds.config.rubric_version}\n")
    result = [(title, calibrate(ds, verdicts, cases, a.gold)) for title, cases in groups(ds, a.by)]
    overall = calibrate(ds, verdicts, rule=a.gold) if a.by != "criterion" else result[0][1]
    failures = below_bar(overall, a.min) if a.min is not None else []
    failed = _left_out(ds, a.strict)
    if a.json:
        print(json.dumps({"dataset": ds.name, "run": a.run, "model": meta.model, "by": a.by, "min": a.min, "gold": a.gold,
                          "left_out": [str(p) for p in ds.problems],
                          "groups": [{"group": t, "criteria": [c.as_dict() for c in items]} for t, items in result],
                          "failures": failures}, indent=2))
    else:
        from labeler.render import calibration_tables

        con = _console()
        for t in calibration_tables(result, a.run):
            con.print(t)
        for f in failures:
            sys.stderr.write(f"under the bar: {f}\n")
        if a.min is not None and not failures:
            print(f"every criterion at or above {a.min:.0%}")
    return EXIT_FAIL if failures or failed else EXIT_OK


def cmd_audit(a: argparse.Namespace) -> int:
    from labeler.identity import resolve_identity

    ds = _open(a.dataset)
    ds.judge_run(a.run)  # a missing run is a one-line error before the screen opens
    if a.vs:
        ds.judge_run(a.vs)
    ident = resolve_identity(a.auditor, ds.path)
    from labeler.ui.app import LabelerApp

    app = LabelerApp(ds, mode="audit", identity=ident, audit_runs=(a.run, a.vs))
    app.run()
    return app.return_code or EXIT_OK


def cmd_commit(a: argparse.Namespace) -> int:
    from labeler.gitops import commit

    ds = _open(a.dataset)
    r = commit(ds)
    if a.json:
        print(json.dumps({"commit": r.sha, "message": r.message, "files": r.files}))
    else:
        print(f"[{r.sha}] {r.message}" if r.sha else r.message)
        for f in r.files:
            print(f"  {f}")
    return EXIT_OK


def cmd_sync(a: argparse.Namespace) -> int:
    from labeler.gitops import sync

    ds = _open(a.dataset)
    r = sync(ds, "merge" if a.merge else "rebase")
    if a.json:
        print(json.dumps({"ok": r.ok, "message": r.message, "conflicts": r.conflicts}))
    elif r.ok:
        print(r.message)
    else:
        sys.stderr.write(r.message + "\n")
    return EXIT_OK if r.ok else EXIT_FAIL


def cmd_history(a: argparse.Namespace) -> int:
    from labeler.gitops import history
    from labeler.safetext import one_line

    ds = _open(a.dataset)
    changes = history(ds, a.case)
    if a.json:
        print(json.dumps([{"when": str(c.when or ""), "who": c.who, "kind": c.kind, "values": c.values, "before": c.before,
                           "commit": c.commit, "author": c.author, "note": c.note} for c in changes], indent=2))
        return EXIT_OK
    from rich.table import Table

    t = Table(title=f"history of {one_line(a.case, 60)} in {ds.name}", title_justify="left")
    for col in ("when", "who", "what", "changed", "commit", "git author"):
        t.add_column(col)
    for c in changes:
        diff = ", ".join(f"{k}: {c.before.get(k, '·')} → {v}" for k, v in c.values.items() if c.before.get(k) != v)
        if c.kind == "retract":
            diff = "withdrawn"
        t.add_row(str(c.when or ""), one_line(c.who, 30), c.kind, one_line(diff or "(same values)", 120), c.commit or "uncommitted",
                  one_line(c.author, 30))
    _console().print(t)
    if not changes:
        print("no labels or adjudications for this case yet")
    return EXIT_OK


# ---------------------------------------------------------------- parser


def _fraction(s: str) -> float:
    try:
        x = float(s.rstrip("%")) / (100 if s.endswith("%") else 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{s!r} is not a number (0.8 or 80%)") from None
    if not 0 <= x <= 1:
        raise argparse.ArgumentTypeError("must be between 0 and 1 (or a percentage like 80%)")
    return x


def _coefficient(s: str) -> float:
    try:
        x = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{s!r} is not a number such as 0.8") from None
    if not -1 <= x <= 1:
        raise argparse.ArgumentTypeError(f"a coefficient lies between -1 and 1, not {s}")
    return x


def _positive(s: str) -> int:
    try:
        n = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{s!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {n}")
    return n


def _seconds(s: str) -> float:
    try:
        x = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{s!r} is not a number of seconds") from None
    if not x > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, not {s}")
    return x


def _mix(s: str) -> list[float]:
    try:
        parts = [float(x.strip().rstrip("%")) for x in s.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{s!r} is not a list of percentages such as 60,25,15") from None
    if any(x < 0 for x in parts) or not sum(parts) > 0:
        raise argparse.ArgumentTypeError(f"{s!r}: shares must be 0 or more, and not all 0")
    return parts


def _name(what: str):
    """An argparse type for names that become file names (annotators, leads, runs): never a path."""
    from labeler.names import check_safe_name

    def check(s: str) -> str:
        try:
            return check_safe_name(s, what)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    check.__name__ = what
    return check


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: `labeler CMD: error: what (see --help)`, exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        from labeler.safetext import inert

        self.exit(EXIT_USAGE, f"{self.prog}: error: {inert(message)} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="labeler", description="Golden sets for LLM features: label, agree, adjudicate, judge. Plain YAML in git.")
    p.add_argument("--version", action="version", version=f"labeler {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def add(name: str, func: Callable, help: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, description=help)
        sp.set_defaults(func=func)
        return sp

    sp = add("init", cmd_init, "Scaffold a rubric (rubrics/NAME/v1.yaml) and an empty dataset (datasets/NAME/).")
    sp.add_argument("name", type=_name("dataset name"))
    sp.add_argument("--root", default=".", help="workspace folder (default: here)")
    sp.add_argument("--overlap", type=_positive, default=2, help="labels wanted per case (default 2)")

    sp = add("import", cmd_import, "Import cases from JSONL or CSV; duplicates (same input + output) are skipped.")
    sp.add_argument("dataset")
    sp.add_argument("file")
    sp.add_argument("--id-field", default=None, help="field holding a case id (default: an id from the content hash)")
    sp.add_argument("--input-field", default="input")
    sp.add_argument("--output-field", default="output")
    sp.add_argument("--reference-field", default="reference")
    sp.add_argument("--context-field", default="context")
    sp.add_argument("--tags-field", default="tags")
    sp.add_argument("--tier-field", default="tier")
    sp.add_argument("--tier", default="golden", choices=["golden", "adversarial", "regression"], help="tier for rows without one")
    sp.add_argument("--source", default=None, help="where the cases came from (default: the file name)")
    sp.add_argument("--json", action="store_true")

    sp = add("sample", cmd_sample, "Pick a reproducible stratified golden set (common / edge / adversarial by default).")
    sp.add_argument("dataset")
    sp.add_argument("--n", type=_positive, default=300)
    sp.add_argument("--by", default=None, help="stratify by a case field (tier, difficulty, source) or tag:NAME")
    sp.add_argument("--mix", type=_mix, default=None, help="percentages per stratum, e.g. 60,25,15 (one per stratum)")
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--into", type=_name("dataset name"), default=None, help="write the selection into this dataset (created with the same rubric)")
    sp.add_argument("--json", action="store_true")

    sp = add("validate", cmd_validate, "Check every rubric, dataset, label and reference; path:line messages; exit 1 on errors.")
    sp.add_argument("paths", nargs="*")
    sp.add_argument("--json", action="store_true")

    sp = add("status", cmd_status, "Cases by tier, labels per annotator, overlap reached, flagged and old cases.")
    sp.add_argument("dataset")
    sp.add_argument("--days", type=_positive, default=14)
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--strict", action="store_true", help="exit 1 when any record is left out of the numbers (CI)")

    sp = add("agreement", cmd_agreement, "Agreement per criterion (percent, Krippendorff's alpha, Cohen's kappa); gates for CI.")
    sp.add_argument("dataset")
    sp.add_argument("--by", default="criterion", choices=["criterion", "version", "annotator", "tier", "tag", "suggestion"])
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--min-alpha", type=_coefficient, default=None, help="exit 1 when a criterion's alpha is below this")
    sp.add_argument("--min-agreement", type=_fraction, default=None, help="exit 1 when a criterion's percent agreement is below this (0.8 or 80%%)")
    sp.add_argument("--strict", action="store_true", help="exit 1 when any record is left out of the numbers (CI)")
    sp.add_argument("--gold", default="consensus", choices=["consensus", "majority"],
                    help="gold where no lead adjudicated: consensus (2+ labels, all equal; default) or majority (2+ labels, one value on more than half)")

    rp = sub.add_parser("rubric", help="Rubric versions: list, show, diff, bump, health.",
                        description="Rubric versions: list, show, diff, bump, health.")
    rsub = rp.add_subparsers(dest="rubric_command", metavar="SUBCOMMAND", parser_class=_Parser)
    rp.set_defaults(func=lambda a: (rp.print_help(), EXIT_USAGE)[1])

    def radd(name: str, func: Callable, help: str) -> argparse.ArgumentParser:
        x = rsub.add_parser(name, help=help, description=help)
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
    x.add_argument("--strict", action="store_true", help="exit 1 when any record is left out of the numbers (CI)")

    sp = add("judge", cmd_judge, "Score cases with an LLM judge through any OpenAI-compatible endpoint. "
             "Also: `labeler judge compare DATASET RUN_A RUN_B`, `labeler judge status DATASET` and "
             "`labeler judge drop DATASET RUN` (remove a failed run).")
    sp.add_argument("target", metavar="DATASET", help="the dataset (or 'compare' / 'status' / 'drop', see above)")
    sp.add_argument("rest", nargs="*", help=argparse.SUPPRESS)
    sp.add_argument("--model", default=None)
    sp.add_argument("--base-url", default=None, help="an OpenAI-compatible endpoint (default: OpenAI)")
    sp.add_argument("--api-key-env", default="OPENAI_API_KEY", help="the environment variable holding the key (never stored)")
    sp.add_argument("--run", type=_name("run name"), default=None, help="run name (default: the model name)")
    sp.add_argument("--concurrency", type=_positive, default=8)
    sp.add_argument("--cases", default=None, help="tier:NAME, tag:NAME, or ids (comma-separated, * allowed)")
    sp.add_argument("--limit", type=_positive, default=None)
    sp.add_argument("--temperature", type=float, default=0.0)
    sp.add_argument("--repeat", type=_positive, default=1, help="ask R times (needs --temperature > 0) to measure self-consistency")
    sp.add_argument("--timeout", type=_seconds, default=60.0, help="seconds per request")
    sp.add_argument("--retries", type=int, default=2, help="retries with backoff on 429, 5xx and timeouts")
    sp.add_argument("--no-structured", action="store_true", help="ask for JSON in words instead of a response_format schema")
    sp.add_argument("--batch", action="store_true", help="use the Batch API (submit; rerun to collect)")
    sp.add_argument("--wait", type=float, default=0.0, help="with --batch: poll up to this many seconds for the result")
    sp.add_argument("--poll", type=float, default=10.0, help=argparse.SUPPRESS)
    sp.add_argument("--force", action="store_true", help="with drop: drop a run that people audited")
    sp.add_argument("--json", action="store_true")

    sp = add("calibrate", cmd_calibrate, "Judge vs human gold per criterion (agreement, kappa, confusion), beside each annotator; a gate for CI.")
    sp.add_argument("dataset")
    sp.add_argument("--run", type=_name("run name"), required=True)
    sp.add_argument("--by", default="criterion", choices=["criterion", "tier", "tag"])
    sp.add_argument("--min", type=_fraction, default=None, help="exit 1 naming the criteria whose judge agreement is below this (0.8 or 80%%)")
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--strict", action="store_true", help="exit 1 when any record is left out of the numbers (CI)")
    sp.add_argument("--gold", default="consensus", choices=["consensus", "majority"],
                    help="gold where no lead adjudicated: consensus (2+ labels, all equal; default) or majority (2+ labels, one value on more than half)")

    sp = add("audit", cmd_audit, "Audit the judge: its verdicts beside gold and each annotator; mark right or wrong.")
    sp.add_argument("dataset")
    sp.add_argument("--run", type=_name("run name"), required=True)
    sp.add_argument("--vs", type=_name("run name"), default=None, help="a second run to show side by side")
    sp.add_argument("--auditor", type=_name("auditor"), default=None, help="default: the repo's git user.name")

    sp = add("commit", cmd_commit, "Commit only labeler's files of this dataset and its rubric, with a message that says what changed.")
    sp.add_argument("dataset")
    sp.add_argument("--json", action="store_true")

    sp = add("sync", cmd_sync, "Commit, fetch, rebase (or --merge) and push; a real conflict is reported, nothing overwritten.")
    sp.add_argument("dataset")
    sp.add_argument("--merge", action="store_true", help="merge instead of rebase")
    sp.add_argument("--json", action="store_true")

    sp = add("history", cmd_history, "Every change to one case's labels and adjudications: who, when, what, which commit.")
    sp.add_argument("dataset")
    sp.add_argument("case")
    sp.add_argument("--json", action="store_true")

    sp = add("label", cmd_label, "Open the labeling screen for one annotator (blind to the others).")
    sp.add_argument("dataset")
    sp.add_argument("--annotator", type=_name("annotator"), default=None, help="default: the repo's git user.name")
    sp.add_argument("--tier", action="append", choices=["golden", "adversarial", "regression"], help="only this tier (repeatable)")
    sp.add_argument("--tag", action="append", help="only cases with this tag (repeatable)")
    sp.add_argument("--suggest", default=None, metavar="RUN",
                    help="pre-fill the judge's values of RUN as suggestions (off by default: they anchor annotators; recorded per label)")

    sp = add("review", cmd_review, "Open the lead's disagreement queue: side by side, adjudicate gold.")
    sp.add_argument("dataset")
    sp.add_argument("--lead", type=_name("lead"), default=None, help="who adjudicates (default: the repo's git user.name)")
    sp.add_argument("--criterion", default=None, help="only disagreements on this criterion")
    sp.add_argument("--tier", default=None, choices=["golden", "adversarial", "regression"])
    sp.add_argument("--annotator", type=_name("annotator"), default=None, help="only cases this annotator labeled")
    sp.add_argument("--all", action="store_true", help="include cases already adjudicated")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.func(args)
    except UsageError as e:
        _err(str(e))
        return EXIT_USAGE
    except FileFormatError as e:
        _err(str(FileFormatError(_relative(e.path), e.line, e.message)))
        return EXIT_FAIL
    except LabelerError as e:
        _err(str(e))
        return EXIT_FAIL
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as e:  # a bug: one line for the user, the traceback in a file for the report
        path = _crash_report()
        _err(f"internal error ({type(e).__name__}: {e}); nothing saved was lost; details in {path}")
        return EXIT_FAIL


def _crash_report() -> str:
    """Write the current exception's traceback to a temp file; its path (never the traceback) is shown."""
    import tempfile
    import traceback

    try:
        fd, path = tempfile.mkstemp(prefix="labeler-crash-", suffix=".txt")
        with open(fd, "w", encoding="utf-8") as f:
            traceback.print_exc(file=f)
        return path
    except OSError:
        return "(no file: the temp folder is not writable)"


if __name__ == "__main__":
    sys.exit(main())
