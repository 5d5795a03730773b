"""Rich tables for the CLI (no Textual): agreement numbers with their bands and counts."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from labeler.stats.agreement import Coefficient
from labeler.stats.numbers import Group

BAND_STYLE = {"poor": "red", "slight": "red", "fair": "yellow", "moderate": "yellow",
              "substantial": "green", "almost perfect": "bold green", "undefined": "dim"}


def coef_text(c: Coefficient, percent: bool = False) -> Text:
    if c.value is None:
        return Text("undefined", style="dim")
    return Text(f"{c.value:.1%}" if percent else f"{c.value:.3f}")


def band_text(c: Coefficient) -> Text:
    return Text(c.band, style=BAND_STYLE[c.band])


def _band_of(c: Coefficient, ci) -> Text:
    """The Landis-Koch word: from the 95% interval when there is one (one band, or the span), else the point's."""
    from labeler.stats.bootstrap import band

    if ci is None or ci.low is None or c.value is None:
        return band_text(c)
    word = band(ci)
    return Text(word, style=BAND_STYLE.get(word, ""))


def _with_ci(c: Coefficient, ci, percent: bool = False) -> Text:
    """A coefficient and its 95% interval ("0.716 [0.40, 0.92]")."""
    t = coef_text(c, percent)
    if ci is not None and ci.low is not None and c.value is not None:
        t.append(f" [{ci.low:.0%}, {ci.high:.0%}]" if percent else f" [{ci.low:.2f}, {ci.high:.2f}]", style="dim")
    return t


def agreement_tables(groups: list[Group], by: str, intervals: dict | None = None) -> list[Table]:
    """With `intervals` (criterion -> {"alpha", "percent"}), each number shows its 95% interval and the
    Landis-Koch word is given only when the whole interval lies in one band."""
    tables = []
    for g in groups:
        if by == "annotator":
            tables.append(_annotator_table(g))
            tables.append(_pairwise_table(g))
            continue
        ci_note = "; [95% interval], band only when the interval is in one" if intervals else ""
        t = Table(title=f"{g.title}: {g.cases} cases; n = cases with 2+ labels{ci_note}", title_justify="left")
        for col in ("criterion", "scale", "n", "agree", "alpha", "", "mean kappa (by shared cases)"):
            t.add_column(col, justify="right" if col not in ("criterion", "scale", "") else "left")
        lowest = min((r.alpha.value for r in g.reports if r.alpha.value is not None), default=None)
        for r in g.reports:
            mk = r.mean_kappa.value
            mean_k = Text(f"{mk:.3f} (n={r.mean_kappa.n})") if mk is not None else Text("undefined", style="dim")
            style = "bold" if r.alpha.value is not None and r.alpha.value == lowest and len(g.reports) > 1 else ""
            why = f" ({r.alpha.reason})" if r.alpha.reason else ""
            scale = r.scale if r.scale == r.level else f"{r.scale} ({r.level})"
            ci = (intervals or {}).get(r.criterion)
            words = _band_of(r.alpha, ci and ci["alpha"])
            t.add_row(Text(r.criterion, style=style), scale, str(r.alpha.n), _with_ci(r.percent, ci and ci["percent"], True),
                      _with_ci(r.alpha, ci and ci["alpha"]), Text.assemble(words, Text(why, style="dim")), mean_k)
        tables.append(t)
    return tables


def _pairwise_table(g: Group) -> Table:
    t = Table(title=f"{g.title}: Cohen's kappa for each annotator pair (quadratic-weighted on ordinal scales)", title_justify="left")
    t.add_column("pair")
    for r in g.reports:
        t.add_column(f"{r.criterion}\nkappa (n)", justify="right")
    pairs = sorted({p for r in g.reports for p in r.kappas})
    for a, b in pairs:
        cells = []
        for r in g.reports:
            k = r.kappas.get((a, b))
            cells.append(Text("-", style="dim") if k is None or k.value is None else Text(f"{k.value:.2f} ({k.n})"))
        t.add_row(f"{a} / {b}", *cells)
    return t


def _annotator_table(g: Group) -> Table:
    t = Table(title=f"{g.title}: each annotator against gold", title_justify="left")
    t.add_column("annotator")
    crits = [r.criterion for r in g.reports]
    for c in crits:
        t.add_column(f"{c}\nagree / kappa (n)", justify="right")
    annotators = sorted({a for r in g.reports for a in r.vs_gold})
    for a in annotators:
        cells = []
        for r in g.reports:
            p, k = r.vs_gold.get(a, (Coefficient(None, 0), Coefficient(None, 0)))
            if p.value is None:
                cells.append(Text("-", style="dim"))
            else:
                kv = "undef" if k.value is None else f"{k.value:.2f}"
                cells.append(Text(f"{p.value:.0%} / {kv} ({p.n})"))
        t.add_row(a, *cells)
    return t


# ---------------------------------------------------------------- rubrics

from rich.console import Group as RenderGroup  # noqa: E402

from labeler.truth.models import Rubric  # noqa: E402
from labeler.rubrics.tighten import word_diff
from labeler.safetext import display  # noqa: E402


def rubric_view(r: Rubric) -> RenderGroup:
    parts: list = [Text.assemble((f"{r.name} v{r.version}", "bold"), f"  (content hash {r.content_hash()})")]
    if r.task:
        parts.append(Text(display(" ".join(r.task.split())), style="italic"))
    for cid, c in r.criteria.items():
        t = Table(title=Text.assemble((cid, "bold"), f"  {c.scale.type.value}: ", display(c.question)), title_justify="left",
                  show_header=True, expand=True)
        t.add_column("key", no_wrap=True)
        t.add_column("value", no_wrap=True)
        t.add_column("label")
        t.add_column("when it applies")
        keys = c.scale.keys()
        for v in c.scale.values():
            p = c.scale.points[v]
            t.add_row(keys[v], str(v), display(p.label), display(p.when))
        if c.description:
            parts.append(Text(""))
            parts.append(t)
            parts.append(Text(display(c.description.strip()), style="dim"))
        else:
            parts.append(t)
    if r.changelog:
        ch = Table(title="changelog", title_justify="left", expand=True)
        for col in ("version", "date", "author", "summary", "resolves"):
            ch.add_column(col)
        for e in r.changelog:
            ch.add_row(str(e.version), str(e.date or ""), display(e.author), display(e.summary.strip()), display(", ".join(e.resolves)))
        parts.append(ch)
    return RenderGroup(*parts)


def word_diff_text(ops: list[tuple[str, str]]) -> Text:
    """A word diff that reads without colour too (CI logs, pipes): [-removed-] {+added+}, as git --word-diff."""
    t = Text()
    for op, words in ops:
        style = {"=": "", "-": "red strike", "+": "green bold"}[op]
        shown = {"=": "{}", "-": "[-{}-]", "+": "{{+{}+}}"}[op].format(display(words))
        t.append(shown + " ", style=style)
    return t


def rubric_diff_view(diffs, a: Rubric, b: Rubric) -> RenderGroup:
    parts: list = [Text(f"{a.name}: v{a.version} -> v{b.version}", style="bold")]
    for d in diffs:
        mark = {"added": ("+ ", "green"), "removed": ("- ", "red"), "changed": ("~ ", "yellow"), "same": ("  ", "dim")}[d.status]
        parts.append(Text.assemble((mark[0] + d.criterion, mark[1] + " bold"), f"  {d.status}"))
        for key, ops in d.fields.items():
            parts.append(Text.assemble(f"    {key}: ", word_diff_text(ops)))
        if d.scale_type:
            parts.append(Text(f"    scale type: {d.scale_type[0]} -> {d.scale_type[1]}", style="yellow"))
        old = {str(k): p for k, p in a.criteria[d.criterion].scale.points.items()} if d.criterion in a.criteria else {}
        new = {str(k): p for k, p in b.criteria[d.criterion].scale.points.items()} if d.criterion in b.criteria else {}
        for v, what in d.points.items():
            style = {"added": "green", "removed": "red", "changed": "yellow"}[what]
            parts.append(Text(f"    point {v}: {what}", style=style))
            pa, pb = old.get(v), new.get(v)
            for field in ("label", "when"):
                before, after = (getattr(pa, field) if pa else ""), (getattr(pb, field) if pb else "")
                if before != after:
                    parts.append(Text.assemble(f"      {field}: ", word_diff_text(word_diff(before, after))))
    return RenderGroup(*parts)


def health_table(items, min_alpha: float, min_cases: int) -> Table:
    t = Table(title=f"rubric health (stable: alpha >= {min_alpha} on {min_cases}+ cases with 2+ labels)", title_justify="left")
    t.add_column("criterion")
    versions = sorted({v for h in items for v, _, _ in h.history})
    for v in versions:
        t.add_column(f"v{v} alpha (n)", justify="right")
    t.add_column("trend")
    t.add_column("in force", justify="right")
    t.add_column("verdict")
    for h in items:
        by_v = {v: a for v, a, _ in h.history}
        cells = [Text("-", style="dim") if v not in by_v or by_v[v].value is None else Text(f"{by_v[v].value:.2f} ({by_v[v].n})") for v in versions]
        trend = sparkline([by_v[v].value if v in by_v else None for v in versions])
        now = "undefined" if h.alpha.value is None else f"{h.alpha.value:.2f} ({h.alpha.n})"
        style = {"stable": "green", "unstable": "red", "not enough data": "yellow"}[h.verdict]
        t.add_row(h.criterion, *cells, trend, now, Text(h.verdict, style=style))
    return t


def prompt_agreement_table(items) -> Table:
    """The judge against gold per judge prompt version (stats.calibrate.by_prompt_version): a row per run, a
    column per criterion with agreement, kappa and n on the run's held-out cases; the best agreement bold."""
    from labeler.safetext import one_line

    t = Table(title="judge agreement by prompt version (held-out cases: a version's own examples left out)", title_justify="left")
    for col in ("prompt", "run", "cases (left out)"):
        t.add_column(col, justify="right" if col.startswith("cases") else "left")
    crits = list(dict.fromkeys(c.criterion for it in items for c in it.criteria))
    for c in crits:
        t.add_column(f"{c}\nagree κ (n)", justify="right", overflow="fold")
    t.add_column("all\nagree (n)", justify="right")
    best = {c: max((x.judge_percent.value for it in items for x in it.criteria
                    if x.criterion == c and x.judge_percent.value is not None), default=None) for c in crits}
    for it in items:
        by_c = {x.criterion: x for x in it.criteria}
        cells = []
        for c in crits:
            x = by_c.get(c)
            if x is None or x.judge_percent.value is None:
                cells.append(Text("-", style="dim"))
                continue
            kap = "undef" if x.judge_kappa.value is None else f"{x.judge_kappa.value:.2f}"
            top = len(items) > 1 and x.judge_percent.value == best[c]
            cells.append(Text(f"{x.judge_percent.value:.0%} {kap} ({x.judge_percent.n})", style="bold" if top else ""))
        agree, n = it.pooled
        cells.append(Text("-", style="dim") if agree is None else Text(f"{agree:.0%} ({n})"))
        t.add_row(f"v{it.version}", Text(one_line(it.run, 40)), f"{it.cases} ({it.excluded})", *cells)
    return t


def sparkline(values: list[float | None]) -> Text:
    """Alpha per version as bars (alpha in [-1, 1] mapped to 8 levels; blank when undefined)."""
    bars = "▁▂▃▄▅▆▇█"
    t = Text()
    for v in values:
        if v is None:
            t.append(" ")
        else:
            i = int(round((max(-1.0, min(1.0, v)) + 1) / 2 * (len(bars) - 1)))
            t.append(bars[i], style="green" if v >= 0.8 else "yellow" if v >= 0.667 else "red")
    return t


def calibration_tables(result, run: str) -> list[Table]:
    """Per group: the judge against gold, the people against gold made without them (a table of their own,
    one column per person, so both fit 80 columns), the alternative annotator test, the confusion matrices."""
    tables = []
    for title, items in result:
        t = Table(title=f"judge {run} vs gold: {title}", title_justify="left")
        pairwise = any(c.position for c in items)
        cols = ["criterion", "n", "agree", "kappa", "", "no gold", "errors"]
        if pairwise:
            cols.append("order-consistent")
        for col in cols:
            t.add_column(col, justify="left" if col in ("criterion", "") else "right")
        for c in items:
            row = [c.criterion, str(c.judge_percent.n), coef_text(c.judge_percent, True), coef_text(c.judge_kappa),
                   _band_of(c.judge_kappa, c.judge_ci and c.judge_ci[1]), str(c.no_gold), str(c.errors)]
            if pairwise:
                rate, n = c.position or (None, 0)
                ci = f" {_ci(c.position_ci)}" if c.position_ci else ""
                row.append(Text("—" if rate is None else f"{rate:.0%}{ci} of {n} ({c.inconsistent} left out)",
                                style="yellow" if c.inconsistent else ""))
            t.add_row(*row)
        tables.append(t)
        people = sorted({a for c in items for a in c.humans})
        if people:
            h = Table(title=f"annotators vs gold made without them (agree, kappa): {title}", title_justify="left")
            h.add_column("criterion")
            for a in people:
                h.add_column(a, justify="right")
            for c in items:
                h.add_row(c.criterion, *[_person_cell(c.humans.get(a)) for a in people])
            tables.append(h)
        tables.append(alt_test_table(items, title))
        for c in items:
            if not c.judge_percent.n:
                continue
            m = Table(title=f"{c.criterion}: rows judge, columns gold", title_justify="left", show_edge=False)
            m.add_column("")
            for v in c.values:
                m.add_column(str(v), justify="right")
            for v, row in zip(c.values, c.confusion):
                m.add_row(str(v), *[Text(str(x), style="bold" if i == c.values.index(v) else ("red" if x else "dim")) for i, x in enumerate(row)])
            tables.append(m)
    return tables


def _person_cell(pk) -> str:
    if pk is None:
        return "-"
    p, k = pk
    return f"{_pct(p.value)} κ{'undef' if k.value is None else f'{k.value:.2f}'}"


def alt_test_table(items, title: str) -> Table:
    """Per criterion: can the judge replace an annotator? The alternative annotator test, per left-out annotator."""
    eps = next((c.alt.epsilon for c in items if c.alt), None)
    t = Table(title=f"can the judge replace an annotator? (alternative annotator test, Calderon et al. 2025): {title}",
              title_justify="left",
              caption=f"beats: annotators the judge beats, of those tested; ρ winning rate; epsilon {eps}, "
                      "Benjamini-Yekutieli q=0.05; per person: n, share judge as good or better, p",
              caption_justify="left")
    for col in ("criterion", "result", "per annotator"):
        t.add_column(col)
    for c in items:
        if not c.alt:
            continue
        per = "\n".join(f"{x.annotator} n={x.n} {x.judge_advantage:.0%} "
                        + ("untested" if x.p is None else f"p={x.p:.3f}{' won' if x.judge_wins else ''}")
                        for x in c.alt.comparisons)
        style = "green" if c.alt.passed else ("red" if c.alt.passed is False else "dim")
        tested = c.alt.tested
        short = (f"{'passes' if c.alt.passed else 'fails'} {sum(bool(x.judge_wins) for x in tested)}/{len(tested)} "
                 f"ρ={c.alt.winning_rate:.2f}" if tested else f"untested (<{c.alt.min_cases} cases)")
        if c.alt.paper_rule and not c.alt.passed:
            short += f"\nno better than its labels shuffled (p={c.alt.chance_p:.2f})"
        result = Text(short, style=style)
        if c.alt.warning:
            result.append(f"\nwarning: {c.alt.warning}", style="yellow")
        t.add_row(c.criterion, result, per or "-")
    return t


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.0%}"


def _ci(ci) -> str:
    return "" if not ci else f"[{ci[0]:.0%}, {ci[1]:.0%}]"


def winrate_tables(tables, by: str) -> list[Table]:
    """Per criterion and judge: each source's wins, losses, ties and win rate with its interval;
    the head-to-head matchups, and the Bradley-Terry ranking where there are more than two sources."""
    out = []
    for t in tables:
        title = Text.assemble((display(t.criterion), "bold"), f"  by {display(t.by)}")
        if by != "source":
            title.append(f"  ·  {by} {display(t.group)}")
        if t.inconsistent:
            title.append(f"  ·  {t.inconsistent} inconsistent verdict(s) left out", style="yellow")
        tab = Table(title=title, title_justify="left")
        for col, j in (("source", "left"), ("cases", "right"), ("wins", "right"), ("losses", "right"), ("ties", "right"),
                       ("both bad", "right"), ("win rate", "right"), ("95% CI", "right")):
            tab.add_column(col, justify=j)
        for s in sorted(t.sources.values(), key=lambda s: -(s.rate or 0)):
            d = s.as_dict()
            tab.add_row(display(s.source), str(s.n), str(s.wins), str(s.losses), str(s.ties), str(s.both_bad),
                        _pct(s.rate), _ci(d["ci95"]))
        if not t.sources:
            tab.add_row("(no outcomes yet)", "", "", "", "", "", "", "")
        out.append(tab)
        if len(t.matchups) > 1:
            mt = Table(title=Text(f"  head to head: {t.criterion} by {t.by}"), title_justify="left")
            for col in ("A", "B", "cases", "A wins", "B wins", "ties", "both bad", "A win rate", "95% CI"):
                mt.add_column(col)
            for m in t.matchups.values():
                d = m.as_dict()
                mt.add_row(display(m.a), display(m.b), str(d["cases"]), str(m.a_wins), str(m.b_wins), str(m.ties),
                           str(m.both_bad), _pct(d["a_win_rate"]), _ci(d["ci95"]))
            out.append(mt)
        for g, ranks in enumerate(t.ranking or [], 1):
            part = f" (group {g} of {len(t.ranking)}: sources compared with each other; groups are not ranked against each other)" \
                if len(t.ranking) > 1 else ""
            rt = Table(title=Text(f"  Bradley-Terry ranking: {t.criterion} by {t.by}{part}"), title_justify="left")
            rt.add_column("rank", justify="right")
            rt.add_column("source")
            rt.add_column("strength", justify="right")
            rt.add_column("95% CI", justify="right")
            for i, (s, p) in enumerate(ranks, 1):
                lo, hi = t.ranking_ci.get(s, (None, None))
                rt.add_row(str(i), display(s), f"{p:.3f}", "-" if lo is None else f"[{lo:.3f}, {hi:.3f}]")
            out.append(rt)
    return out


def position_bias_table(bias) -> Table:
    """Each annotator's share of decisive pairwise labels that picked the output shown first (about 50% unbiased)."""
    t = Table(title="people's position bias: decisive labels (A or B) that picked the output shown first; about 50% "
                    "without bias", title_justify="left")
    for col in ("annotator", "decisive labels", "picked first", "share", "95% CI"):
        t.add_column(col, justify="left" if col == "annotator" else "right")
    for b in bias:
        d = b.as_dict()
        lo, hi = d["ci95"] or (None, None)
        off = lo is not None and (lo > 0.5 or hi < 0.5)
        t.add_row(display(b.annotator), str(b.decisive), str(b.first), Text(_pct(d["share_first"]), style="bold yellow" if off else ""),
                  _ci(d["ci95"]))
    return t
