"""The numbers CI gates on: agreement between annotators, and the judge calibrated against gold."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from labeler.errors import UsageError

from labeler.cli.common import (EXIT_FAIL, EXIT_OK, STRICT_HELP, GOLD_CHOICES, GOLD_HELP, _coefficient, _console, _fraction, _left_out, _name,
                                _open, _positive)

def cmd_agreement(a: argparse.Namespace) -> int:
    from labeler.stats.numbers import agreement_groups, check_gates

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


def cmd_calibrate(a: argparse.Namespace) -> int:
    from labeler.stats.calibrate import below_bar, calibrate, groups

    ds = _open(a.dataset)
    meta, verdicts = ds.judge_run(a.run)
    if meta.rubric_version != ds.config.rubric_version:
        sys.stderr.write(f"note: run {a.run} used rubric v{meta.rubric_version}; the dataset is on v{ds.config.rubric_version}\n")
    result = [(title, calibrate(ds, verdicts, cases, a.gold, a.epsilon)) for title, cases in groups(ds, a.by)]
    overall = calibrate(ds, verdicts, rule=a.gold, epsilon=a.epsilon) if a.by != "criterion" else result[0][1]
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


def cmd_report(a: argparse.Namespace) -> int:
    from labeler.report_formats import html_page, markdown
    from labeler.stats.report import build_report

    ds = _open(a.dataset)
    runs = [a.run] if a.run else None
    if a.run:
        ds.judge_run(a.run)  # a missing run is a one-line error
    report = build_report(ds, days=a.days, seed=a.seed, replicates=a.replicates, runs=runs)
    failed = _left_out(ds, a.strict)
    if a.html:
        from labeler.truth.yamlio import atomic_write

        atomic_write(Path(a.html), html_page(report))
        sys.stderr.write(f"wrote {a.html}\n")
    if a.json:
        print(json.dumps(report, indent=2, default=str))
    elif a.markdown:
        print(markdown(report))
    elif not a.html:
        from rich.markdown import Markdown

        _console().print(Markdown(markdown(report)))
    return EXIT_FAIL if failed else EXIT_OK


def cmd_regress(a: argparse.Namespace) -> int:
    from labeler.stats.regress import calibration_warnings, gates, regress

    ds = _open(a.dataset)
    min_pass = {}
    for item in (a.min_pass or "").split(","):
        if item.strip():
            tier, _, x = item.partition("=")
            try:
                min_pass[tier.strip()] = _fraction(x.strip())
            except (ValueError, argparse.ArgumentTypeError):
                raise UsageError(f"--min-pass {item!r}: expected TIER=RATE such as golden=0.85") from None
    result = regress(ds, a.base, a.candidate, a.by, a.seed, a.replicates)
    warnings = calibration_warnings(ds, a.candidate)
    if a.base != "gold":
        warnings += [w for w in calibration_warnings(ds, a.base) if w not in warnings]
    failures = gates(result, a.max_drop, min_pass)
    failed = _left_out(ds, a.strict)
    for w in warnings:
        sys.stderr.write(f"warning: {w}\n")
    if a.json:
        print(json.dumps({**result, "warnings": warnings, "failures": failures}, indent=2, default=str))
    else:
        from rich.table import Table
        from rich.text import Text

        from labeler.safetext import one_line

        con = _console()
        con.print(Text(f"base: {result['base']['what']}\ncandidate: {result['candidate']['what']}", style="bold"))
        for g in result["groups"]:
            t = Table(title=g["group"], title_justify="left")
            for col in ("criterion", "cases", "mean base", "mean cand.", "pass base", "pass cand.", "diff [95%]", "worse"):
                t.add_column(col, justify="left" if col == "criterion" else "right")
            for c, it in g["criteria"].items():
                ci = it.get("pass_diff_ci95") or {}
                diff = "-" if "pass_diff" not in it else f"{it['pass_diff']:+.1%}" + (
                    f" [{ci['low']:+.1%}, {ci['high']:+.1%}]" if ci.get("low") is not None else "")
                t.add_row(c, str(it["cases"]), str(it.get("mean_base", "-")), str(it.get("mean_candidate", "-")),
                          "-" if "pass_base" not in it else f"{it['pass_base']:.1%}",
                          "-" if "pass_candidate" not in it else f"{it['pass_candidate']:.1%}", diff, str(len(it.get("worse", []))))
            con.print(t)
        overall = result["groups"][0]
        for c, it in overall["criteria"].items():
            for w in it.get("worse", [])[:5]:
                con.print(Text(f"  worse {c}: {one_line(w['case'], 40)} {w['base']} -> {w['candidate']}  "
                               f"{one_line(w['rationale'], 100)}"))
        for f in failures:
            sys.stderr.write(f"gate failed: {f}\n")
        if (a.max_drop is not None or min_pass) and not failures:
            print("gates met")
    return EXIT_FAIL if failures or failed else EXIT_OK


def register(add) -> None:
    """The subcommands of this module, with their flags."""
    sp = add("agreement", cmd_agreement, "Agreement per criterion (percent, Krippendorff's alpha, Cohen's kappa); gates for CI.")
    sp.add_argument("dataset")
    sp.add_argument("--by", default="criterion", choices=["criterion", "version", "annotator", "tier", "tag", "suggestion"])
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--min-alpha", type=_coefficient, default=None, help="exit 1 when a criterion's alpha is below this")
    sp.add_argument("--min-agreement", type=_fraction, default=None, help="exit 1 when a criterion's percent agreement is below this (0.8 or 80%%)")
    sp.add_argument("--strict", action="store_true", help=STRICT_HELP)
    sp.add_argument("--gold", default="consensus", choices=GOLD_CHOICES, help=GOLD_HELP)

    sp = add("calibrate", cmd_calibrate, "Judge vs human gold per criterion (agreement, kappa, confusion), beside each annotator; a gate for CI.")
    sp.add_argument("dataset")
    sp.add_argument("--run", type=_name("run name"), required=True)
    sp.add_argument("--by", default="criterion", choices=["criterion", "tier", "tag"])
    sp.add_argument("--min", type=_fraction, default=None, help="exit 1 naming the criteria whose judge agreement is below this (0.8 or 80%%)")
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--strict", action="store_true", help=STRICT_HELP)
    sp.add_argument("--gold", default="consensus", choices=GOLD_CHOICES, help=GOLD_HELP)
    sp.add_argument("--epsilon", type=_fraction, default=0.2,
                    help="the alternative annotator test's cost-benefit allowance for the judge (default 0.2, the paper's value for expert annotators)")

    sp = add("report", cmd_report, "The lead's view: composition, freshness, throughput, agreement with bootstrap 95% intervals, "
             "each judge run's calibration and its corrected pass rate; Markdown for CI, one self-contained HTML file.")
    sp.add_argument("dataset")
    out = sp.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true")
    out.add_argument("--markdown", action="store_true", help="Markdown for a CI job summary or a PR comment")
    sp.add_argument("--html", metavar="FILE", default=None, help="write one self-contained HTML file (inline SVG charts)")
    sp.add_argument("--days", type=_positive, default=14, help="cases older than this many days are stale (default 14)")
    sp.add_argument("--seed", type=int, default=0, help="bootstrap seed (printed in the report; same seed, same numbers)")
    sp.add_argument("--replicates", type=_positive, default=1000, help="bootstrap replicates (default 1000)")
    sp.add_argument("--run", type=_name("run name"), default=None, help="only this judge run (default: every run)")
    sp.add_argument("--strict", action="store_true", help=STRICT_HELP)

    sp = add("regress", cmd_regress, "A candidate's judge run against a baseline (human gold on the golden outputs, or another run): "
             "per criterion mean and pass rate, the difference with a paired bootstrap 95% interval, the cases that got worse; CI gates.")
    sp.add_argument("dataset")
    sp.add_argument("--candidate", type=_name("run name"), required=True, metavar="RUN", help="the judge run that scored the new version")
    sp.add_argument("--base", default="gold", metavar="gold|RUN", help="human gold on the golden outputs (default), or a judge run")
    sp.add_argument("--by", default="criterion", choices=["criterion", "tier", "difficulty", "tag"])
    sp.add_argument("--max-drop", type=_fraction, default=None, help="exit 1 when a criterion's pass rate falls by more than this (0.01)")
    sp.add_argument("--min-pass", default=None, metavar="TIER=RATE,...", help="exit 1 when a tier's pass rate is under its floor")
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--replicates", type=_positive, default=1000)
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--strict", action="store_true", help=STRICT_HELP)
