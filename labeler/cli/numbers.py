"""The numbers CI gates on: agreement between annotators, and the judge calibrated against gold."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from labeler.errors import UsageError

from labeler.cli.common import (EXIT_FAIL, EXIT_OK, STRICT_HELP, GOLD_CHOICES, GOLD_HELP, _coefficient, _console, _fraction, _left_out, _name,
                                _open, _positive)

ON_HELP = ("what a gate compares with its bar: the point estimate (default) or the lower bound of its 95%% "
           "interval (a bar the data must clear beyond sampling noise)")


def _intervals_json(intervals: dict) -> dict:
    return {c: {k: ci.as_dict() for k, ci in per.items()} for c, per in intervals.items()}


def _banded(groups: list, intervals: dict) -> list[dict]:
    """Groups as JSON, alpha's Landis-Koch word from its 95% interval where there is one (as the table
    shows it): the point alone does not earn a word."""
    from labeler.stats.bootstrap import band

    out = [g.as_dict() for g in groups]
    for g in out:
        for c in g["criteria"]:
            ci = intervals.get(c["criterion"], {}).get("alpha")
            if ci is not None and c["alpha"]["value"] is not None:
                c["alpha"]["band"] = band(ci)
    return out


def cmd_agreement(a: argparse.Namespace) -> int:
    from labeler.stats.numbers import agreement_groups, agreement_intervals, check_gates

    ds = _open(a.dataset)
    groups = agreement_groups(ds, a.by, a.gold)
    gated = a.min_alpha is not None or a.min_agreement is not None
    overall = groups[0] if a.by in ("criterion", "annotator") else agreement_groups(ds, "criterion", a.gold)[0]
    intervals = agreement_intervals(ds, a.replicates, a.seed) if gated or a.by == "criterion" else {}
    failures = check_gates(overall, a.min_alpha, a.min_agreement, a.on, intervals) if gated else []
    failed = _left_out(ds, a.strict)
    on = "point estimate" if a.on == "point" else "lower bound of the 95% interval"
    if a.json:
        print(json.dumps({"dataset": ds.name, "rubric": ds.config.rubric, "rubric_version": ds.config.rubric_version,
                          "by": a.by, "gold": a.gold, "groups": _banded(groups, intervals if a.by == "criterion" else {}),
                          "intervals": {"method": "BCa bootstrap over cases, 95%", "replicates": a.replicates, "seed": a.seed,
                                        "criteria": _intervals_json(intervals)},
                          "left_out": [str(p) for p in ds.problems],
                          "gates": {"min_alpha": a.min_alpha, "min_agreement": a.min_agreement, "on": on,
                                    "failures": [{"criterion": f.criterion, "what": f.what} for f in failures]}}, indent=2))
    else:
        from labeler.render import agreement_tables

        con = _console()
        for table in agreement_tables(groups, a.by, intervals if a.by == "criterion" else None):
            con.print(table)
        if gated:
            print(f"gates on the {on} of each criterion (95% BCa bootstrap, {a.replicates} replicates, seed {a.seed})")
        for f in failures:
            sys.stderr.write(f"gate failed: {f}\n")
        if gated and not failures:
            print("gates met")
    return EXIT_FAIL if failures or failed else EXIT_OK


def cmd_calibrate(a: argparse.Namespace) -> int:
    from labeler.judge.prompts import held_out
    from labeler.stats.calibrate import below_bar, calibrate, groups

    ds = _open(a.dataset)
    meta, verdicts = ds.judge_run(a.run)
    if meta.rubric_version != ds.config.rubric_version:
        sys.stderr.write(f"note: run {a.run} used rubric v{meta.rubric_version}; the dataset is on v{ds.config.rubric_version}\n")
    if a.vs:
        return _calibrate_vs(a, ds, meta, verdicts)
    if a.min_gain is not None:
        raise UsageError("--min-gain needs --vs OLD_RUN (the run to gain on)")
    keep, excluded = held_out(ds, [meta])
    if excluded:
        sys.stderr.write(f"note: {excluded} case(s) were examples in judge prompt v{meta.prompt_version} of run {a.run}: "
                         f"measured on the other {len(keep)}\n")
    kept = set(keep)
    result = [(title, calibrate(ds, verdicts, [c for c in cases if c in kept], a.gold, a.epsilon, replicates=a.replicates,
                                seed=a.seed)) for title, cases in groups(ds, a.by)]
    overall = calibrate(ds, verdicts, keep, a.gold, a.epsilon, replicates=a.replicates, seed=a.seed) if a.by != "criterion" else result[0][1]
    intervals = {c.criterion: dict(zip(("percent", "kappa"), c.judge_ci)) for c in overall}
    failures = below_bar(overall, a.min, a.on) if a.min is not None else []
    if a.min is not None and a.on == "lower":  # judge agreement on its interval's lower bound instead of the point
        lower = [_under_lower_bound(c, intervals[c.criterion]["percent"], a.min) for c in overall]
        failures = [f for f in lower if f] + [f for f in failures if "judge agreement" not in f]
    failed = _left_out(ds, a.strict)
    on = "point estimate" if a.on == "point" else "lower bound of the 95% interval"
    if a.json:
        print(json.dumps({"dataset": ds.name, "run": a.run, "model": meta.model, "by": a.by, "min": a.min, "on": on,
                          "gold": a.gold, "prompt_version": meta.prompt_version, "excluded_examples": excluded,
                          "left_out": [str(p) for p in ds.problems],
                          "groups": [{"group": t, "criteria": [c.as_dict() for c in items]} for t, items in result],
                          "intervals": {"method": "BCa bootstrap over cases, 95%", "replicates": a.replicates,
                                        "seed": a.seed, "criteria": _intervals_json(intervals)},
                          "failures": failures}, indent=2))
    else:
        from labeler.render import calibration_tables
        from labeler.safetext import inert

        con = _console()
        for t in calibration_tables(result, a.run):
            con.print(t)
        shown = [c for c in overall if intervals[c.criterion]["percent"].low is not None]
        if shown:
            print("judge vs gold, 95% intervals (BCa bootstrap over cases):")
            width = max(len(c.criterion) for c in shown)
        for c in shown:
            ci = intervals[c.criterion]
            kap = "" if ci["kappa"].low is None else f"  kappa [{ci['kappa'].low:.2f}, {ci['kappa'].high:.2f}]"
            print(f"  {c.criterion:<{width}}  agree [{ci['percent'].low:.1%}, {ci['percent'].high:.1%}]{kap}")
        people = [(c.criterion, who, pk) for c in overall for who, pk in c.human_ci.items() if pk[0].low is not None]
        if people:
            print("annotators vs gold made without them, 95% intervals (BCa bootstrap over cases):")
            width = max(len(f"{c} {inert(who)}") for c, who, _ in people)
        for c, who, (p, k) in people:
            kap = "" if k.low is None else f"  kappa [{k.low:.2f}, {k.high:.2f}]"
            print(f"  {f'{c} {inert(who)}':<{width}}  agree [{p.low:.1%}, {p.high:.1%}]{kap}")
        for f in failures:
            sys.stderr.write(f"under the bar: {f}\n")
        if a.min is not None and not failures:
            print(f"every criterion at or above {a.min:.0%} (on the {on})")
    return EXIT_FAIL if failures or failed else EXIT_OK


def _under_lower_bound(c, ci, bar: float) -> str:
    """Why a criterion's judge agreement fails a bar on its lower 95% bound ("" when it does not)."""
    if c.judge_percent.value is None or ci.low is None:
        return f"{c.criterion}: judge agreement undefined ({c.judge_percent.reason or 'no interval'})"
    if ci.low < bar:
        return (f"{c.criterion}: judge agreement {c.judge_percent.value:.1%}, lower 95% bound {ci.low:.1%} < {bar:.0%} "
                f"(n={c.judge_percent.n})")
    return ""


def _calibrate_vs(a: argparse.Namespace, ds, meta, verdicts) -> int:
    """Two runs on the same held-out cases: per criterion each one's agreement, the paired difference, the flips."""
    from labeler.judge.prompts import held_out
    from labeler.stats.calibrate import compare_runs, pooled

    if a.by != "criterion" or a.min is not None:
        raise UsageError("--vs compares two runs per criterion: leave out --by and --min")
    old_meta, old = ds.judge_run(a.vs)
    keep, excluded = held_out(ds, [meta, old_meta])
    changes = compare_runs(ds, verdicts, old, keep, a.gold, a.replicates, a.seed)
    p_old, p_new, gain, gain_ci = pooled(changes, a.replicates, a.seed)
    failures = [f"{c.criterion}: agreement fell {c.diff:+.1%} (95% interval {c.percent_ci[0]:+.1%} to {c.percent_ci[1]:+.1%}, "
                f"n={c.n})" for c in changes if c.significant_loss]
    on = "point estimate" if a.on == "point" else "lower bound of the 95% interval"
    gated = gain if a.on == "point" else gain_ci[0]
    if a.min_gain is not None and (gated is None or gated < a.min_gain):
        failures.append("overall: " + ("no case scored by both runs" if gain is None else
                                       f"agreement gain {gain:+.1%} [{gain_ci[0]:+.1%}, {gain_ci[1]:+.1%}], its {on} "
                                       f"< {a.min_gain:+.1%} ({p_old:.1%} -> {p_new:.1%})"))
    failed = _left_out(ds, a.strict)
    shown = " and ".join(dict.fromkeys(f"v{m.prompt_version}" for m in (meta, old_meta) if m.prompt_version is not None))
    what = (f"{excluded} case(s) used as examples by judge prompt {shown} left out; " if excluded else "") + \
        f"measured on {len(keep)} held-out case(s)"
    if a.json:
        print(json.dumps({"dataset": ds.name, "run": a.run, "vs": a.vs, "gold": a.gold, "seed": a.seed, "replicates": a.replicates,
                          "prompt_versions": {"run": meta.prompt_version, "vs": old_meta.prompt_version},
                          "excluded_examples": excluded, "held_out_cases": len(keep),
                          "overall": {"old": p_old, "new": p_new, "gain": gain,
                                      "gain_ci95": None if gain_ci[0] is None else {"low": round(gain_ci[0], 4), "high": round(gain_ci[1], 4)}},
                          "criteria": [c.as_dict() for c in changes],
                          "min_gain": a.min_gain, "min_gain_on": on, "failures": failures, "left_out": [str(p) for p in ds.problems]}, indent=2))
    else:
        from rich.table import Table
        from rich.text import Text

        from labeler.safetext import one_line

        pct = lambda x: "-" if x is None else f"{x:.0%}"  # noqa: E731
        kap = lambda x: "undef" if x is None else f"{x:.2f}"  # noqa: E731
        con = _console()
        t = Table(title=f"new {a.run} vs old {a.vs} ({what})", title_justify="left")
        for col in ("criterion", "cases", "agree old", "agree new", "diff [95%]", "κ old", "κ new", "wrong→right", "right→wrong"):
            t.add_column(col, justify="left" if col == "criterion" else "right")
        for c in changes:
            ci = "" if c.percent_ci[0] is None else f" [{c.percent_ci[0]:+.0%}, {c.percent_ci[1]:+.0%}]"
            t.add_row(c.criterion, str(c.n), pct(c.old_percent.value), pct(c.new_percent.value),
                      ("-" if c.diff is None else f"{c.diff:+.0%}") + ci, kap(c.old_kappa.value), kap(c.new_kappa.value),
                      str(len(c.fixed)), Text(str(len(c.broke)), style="bold red" if c.broke else ""))
        con.print(t)
        for c in changes:
            for label, ids in (("wrong→right", c.fixed), ("right→wrong", c.broke)):
                if ids:
                    con.print(Text(f"  {c.criterion} {label}: " + ", ".join(one_line(x, 40) for x in ids[:8])
                                   + (f" and {len(ids) - 8} more" if len(ids) > 8 else "")))
        if gain is not None:
            ci = "" if gain_ci[0] is None else f", 95% interval [{gain_ci[0]:+.1%}, {gain_ci[1]:+.1%}]"
            print(f"overall agreement {p_old:.1%} -> {p_new:.1%} ({gain:+.1%}{ci})")
        if a.min_gain is not None:
            print(f"--min-gain {a.min_gain:+.1%}: on the {on} of the overall gain")
        for f in failures:
            sys.stderr.write(f"gate failed: {f}\n")
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
    from labeler.stats.regress import calibration_warnings, check_tiers, default_base, gates, instrument_warning, regress

    ds = _open(a.dataset)
    min_pass = {}
    for item in (a.min_pass or "").split(","):
        if item.strip():
            tier, _, x = item.partition("=")
            try:
                min_pass[tier.strip()] = _fraction(x.strip())
            except (ValueError, argparse.ArgumentTypeError):
                raise UsageError(f"--min-pass {item!r}: expected TIER=RATE such as golden=0.85") from None
    check_tiers(min_pass)
    base = a.base or default_base(ds, a.candidate)
    result = regress(ds, base, a.candidate, a.by, a.seed, a.replicates)
    # every gate is evaluated on its own grouping, whatever --by shows
    overall = result if a.by == "criterion" or a.max_drop is None else regress(ds, base, a.candidate, "criterion", a.seed, a.replicates)
    tiers = result if a.by == "tier" or not min_pass else regress(ds, base, a.candidate, "tier", a.seed, a.replicates)
    warnings = instrument_warning(ds, base, a.candidate) + calibration_warnings(ds, a.candidate)
    if base != "gold":
        warnings += [w for w in calibration_warnings(ds, base) if w not in warnings]
    failures = gates(overall, a.max_drop, min_pass, a.on, tiers)
    failed = _left_out(ds, a.strict)
    rule = {"max_drop": a.max_drop, "max_drop_rule": "the whole 95% interval of the difference below -max_drop",
            "min_pass": min_pass, "min_pass_on": "point estimate" if a.on == "point" else "lower bound of the 95% interval"}
    for w in warnings:
        sys.stderr.write(f"warning: {w}\n")
    if a.json:
        print(json.dumps({**result, "warnings": warnings, "gates": rule, "failures": failures}, indent=2, default=str))
    else:
        from rich.table import Table
        from rich.text import Text

        from labeler.safetext import one_line

        con = _console()
        con.print(Text(f"base: {result['base']['what']}\ncandidate: {result['candidate']['what']}", style="bold"))
        if result.get("excluded_examples"):
            con.print(Text(f"{result['excluded_examples']} case(s) left out: a judge prompt showed them as examples"))
        for g in result["groups"]:
            t = Table(title=g["group"], title_justify="left")
            for col in ("criterion", "cases", "mean base", "mean cand.", "pass base", "pass cand.", "diff [95%]", "worse"):
                t.add_column(col, justify="left" if col == "criterion" else "right")
            for c, it in g["criteria"].items():
                ci = it.get("pass_diff_ci95") or {}
                diff = "-" if "pass_diff" not in it else f"{it['pass_diff']:+.1%}" + (
                    f" [{ci['low']:+.1%}, {ci['high']:+.1%}]" if ci.get("low") is not None else "")
                t.add_row(c, str(it["cases"]), str(it.get("mean_base", "-")), str(it.get("mean_candidate", "-")),
                          _rate(it, "pass_base"), _rate(it, "pass_candidate"), diff, str(len(it.get("worse", []))))
            con.print(t)
        if not result["groups"]:
            con.print(f"no case has a {a.by}")
        for c, it in (result["groups"][0]["criteria"] if result["groups"] else {}).items():
            for w in it.get("worse", [])[:5]:
                con.print(Text(f"  worse {c}: {one_line(w['case'], 40)} {w['base']} -> {w['candidate']}  "
                               f"{one_line(w['rationale'], 100)}"))
        if a.max_drop is not None:
            print(f"--max-drop {a.max_drop:.1%}: a drop counts when its whole 95% interval is beyond the margin")
        if min_pass:
            print(f"--min-pass: on the {rule['min_pass_on']} of each tier's pass rate")
        for f in failures:
            sys.stderr.write(f"gate failed: {f}\n")
        if (a.max_drop is not None or min_pass) and not failures:
            print("gates met")
    return EXIT_FAIL if failures or failed else EXIT_OK


def _rate(it: dict, key: str) -> str:
    """A pass rate with its 95% interval, or '-'."""
    if key not in it:
        return "-"
    ci = it.get(f"{key}_ci95") or {}
    return f"{it[key]:.1%}" + (f" [{ci['low']:.0%}, {ci['high']:.0%}]" if ci.get("low") is not None else "")


def _interval_flags(sp) -> None:
    sp.add_argument("--on", default="point", choices=["point", "lower"], help=ON_HELP)
    sp.add_argument("--seed", type=int, default=0, help="bootstrap seed of the 95%% intervals")
    sp.add_argument("--replicates", type=_positive, default=1000, help="bootstrap replicates (default 1000)")


def _gain(text: str) -> float:
    """A gain from -1 to 1, as 0.05 or 5%."""
    if text.strip().startswith("-"):
        return -_fraction(text.strip()[1:])
    return _fraction(text)


def register(add) -> None:
    """The subcommands of this module, with their flags."""
    sp = add("agreement", cmd_agreement)
    sp.add_argument("dataset")
    sp.add_argument("--by", default="criterion", choices=["criterion", "version", "annotator", "tier", "tag", "suggestion"])
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--min-alpha", type=_coefficient, default=None, help="exit 1 when a criterion's alpha is below this")
    sp.add_argument("--min-agreement", type=_fraction, default=None, help="exit 1 when a criterion's percent agreement is below this (0.8 or 80%%)")
    sp.add_argument("--strict", action="store_true", help=STRICT_HELP)
    sp.add_argument("--gold", default="consensus", choices=GOLD_CHOICES, help=GOLD_HELP)
    _interval_flags(sp)

    sp = add("calibrate", cmd_calibrate)
    sp.add_argument("dataset")
    sp.add_argument("--run", type=_name("run name"), required=True)
    sp.add_argument("--by", default="criterion", choices=["criterion", "tier", "tag"])
    sp.add_argument("--min", type=_fraction, default=None, help="exit 1 naming the criteria whose judge agreement is below this (0.8 or 80%%)")
    sp.add_argument("--vs", type=_name("run name"), default=None, metavar="OLD_RUN",
                    help="before and after: RUN against OLD_RUN on the same held-out cases (paired bootstrap 95%% interval, "
                         "flipped cases); exit 1 when a criterion's agreement fell significantly")
    sp.add_argument("--min-gain", type=_gain, default=None, help="with --vs: exit 1 unless agreement over all criteria "
                                                                 "rose by at least this (0.05 or 5%%; 0: no loss), on the "
                                                                 "point estimate or with --on lower the interval's lower bound")
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--strict", action="store_true", help=STRICT_HELP)
    sp.add_argument("--gold", default="consensus", choices=GOLD_CHOICES, help=GOLD_HELP)
    sp.add_argument("--epsilon", type=_fraction, default=0.2,
                    help="the alternative annotator test's cost-benefit allowance for the judge (default 0.2, the paper's value for expert annotators)")
    _interval_flags(sp)

    sp = add("report", cmd_report)
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

    sp = add("regress", cmd_regress)
    sp.add_argument("dataset")
    sp.add_argument("--candidate", type=_name("run name"), required=True, metavar="RUN", help="the judge run that scored the new version")
    sp.add_argument("--base", default=None, metavar="gold|RUN", help="a judge run, or human gold on the golden outputs (default: "
                    "the same judge's run on the golden outputs, one instrument on both sides; else gold, with a warning)")
    sp.add_argument("--by", default="criterion", choices=["criterion", "tier", "difficulty", "tag"])
    sp.add_argument("--max-drop", type=_fraction, default=None, help="exit 1 when a criterion's pass rate falls by more than "
                    "this over all cases, the whole 95%% interval of the difference beyond it (0.01)")
    sp.add_argument("--min-pass", default=None, metavar="TIER=RATE,...", help="exit 1 when a tier's pass rate is under its floor")
    sp.add_argument("--on", default="point", choices=["point", "lower"], help=ON_HELP)
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--replicates", type=_positive, default=1000)
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--strict", action="store_true", help=STRICT_HELP)
