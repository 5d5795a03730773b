"""Rich tables for the CLI (no Textual): agreement numbers with their bands and counts."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from labeler.agreement import Coefficient
from labeler.report import Group

BAND_STYLE = {"poor": "red", "slight": "red", "fair": "yellow", "moderate": "yellow",
              "substantial": "green", "almost perfect": "bold green", "undefined": "dim"}


def coef_text(c: Coefficient, percent: bool = False) -> Text:
    if c.value is None:
        return Text("undefined", style="dim")
    return Text(f"{c.value:.1%}" if percent else f"{c.value:.3f}")


def band_text(c: Coefficient) -> Text:
    return Text(c.band, style=BAND_STYLE[c.band])


def agreement_tables(groups: list[Group], by: str) -> list[Table]:
    tables = []
    for g in groups:
        if by == "annotator":
            tables.append(_annotator_table(g))
            continue
        t = Table(title=f"{g.title}: {g.cases} cases", title_justify="left")
        for col in ("criterion", "scale", "cases (2+ labels)", "agreement", "alpha", "", "mean pairwise kappa"):
            t.add_column(col, justify="right" if col not in ("criterion", "scale", "") else "left")
        lowest = min((r.alpha.value for r in g.reports if r.alpha.value is not None), default=None)
        for r in g.reports:
            ks = [k.value for k in r.kappas.values() if k.value is not None]
            mean_k = Text(f"{sum(ks) / len(ks):.3f}") if ks else Text("undefined", style="dim")
            style = "bold" if r.alpha.value is not None and r.alpha.value == lowest and len(g.reports) > 1 else ""
            why = f" ({r.alpha.reason})" if r.alpha.reason else ""
            t.add_row(Text(r.criterion, style=style), f"{r.scale} ({r.level})", str(r.alpha.n), coef_text(r.percent, True),
                      coef_text(r.alpha), Text.assemble(band_text(r.alpha), Text(why, style="dim")), mean_k)
        tables.append(t)
    return tables


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
