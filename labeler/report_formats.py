"""`labeler report` as Markdown (a CI job summary, a PR comment) and as one self-contained HTML file
(inline SVG charts: no network, no JavaScript). Both are built from the same report dict.

Every text that comes from a file (case tags, annotator names, run names) is escaped: Markdown table
cells lose their pipes and markup, HTML gets entities.
"""

from __future__ import annotations

import html
import re


def _num(c: dict | None, pct: bool = False) -> str:
    if not c or c.get("value") is None:
        return "undefined"
    v = c["value"]
    text = f"{v:.0%}" if pct else f"{v:.3f}"
    ci = c.get("ci95")
    if ci and ci.get("low") is not None:
        lo, hi = ci["low"], ci["high"]
        text += f" [{lo:.0%}, {hi:.0%}]" if pct else f" [{lo:.2f}, {hi:.2f}]"
    return text + f" (n={c['n']})"


def _md(text) -> str:
    """A Markdown table cell: no pipes, no markup, one line."""
    t = re.sub(r"\s+", " ", str(text))
    return re.sub(r"([\\`*_{}\[\]()#+!|<>~])", r"\\\1", t)


def _table(head: list[str], rows: list[list]) -> list[str]:
    out = ["| " + " | ".join(_md(h) for h in head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(_md(c) for c in r) + " |" for r in rows]
    return out + [""]


def markdown(r: dict) -> str:
    b = r["bootstrap"]
    lines = [f"# labeler report: {_md(r['dataset'])}", "",
             f"Rubric {_md(r['rubric'])} v{r['rubric_version']} · {r['cases']} cases · overlap k={r['overlap_k']} · "
             f"95% intervals: bootstrap over cases, {b['replicates']} replicates, seed {b['seed']} · {r['today']}", ""]
    c = r["composition"]
    lines += ["## Composition", "", f"Target: {_md(c['target_source'])}.", ""]
    lines += _table(["stratum", "cases", "share", "target", "to add"],
                    [[s, v["cases"], "-" if v["share"] is None else f"{v['share']:.0%}", f"{v['target']:.0%}", v["to_add"]]
                     for s, v in c["strata"].items()])
    lines += _table(["tier", "cases"], [[k, v] for k, v in c["by_tier"].items()])
    f = r["freshness"]
    lines += ["## Freshness", "",
              f"{f['older_than_days']} of {f['with_date']} dated cases are older than {f['days']} days"
              + (f" ({f['stale_share']:.0%})." if f["stale_share"] is not None else "."), ""]
    lines += _table(["criterion", "labels sent back by a rubric change"], [[k, v] for k, v in f["stale_labels_by_criterion"].items()])
    t = r["throughput"]
    lines += ["## Throughput", ""]
    lines += _table(["annotator", "labels", "per active day", "median s", "p90 s", "per hour labeling"],
                    [[a, v["labels"], v["labels_per_day"] or "-", v["median_seconds"] or "-", v["p90_seconds"] or "-",
                      v["labels_per_hour_labeling"] or "-"] for a, v in t["by_annotator"].items()])
    eta = t["projected_days_to_k"]
    lines += [f"{t['labels_to_reach_k']} labels to go for k on every case; at {t['pace_last_14_days_per_day']} a day "
              f"(last 14 days) that is " + ("done" if eta == 0 else f"{eta} days" if eta is not None else "never (no recent labeling)") + ".", ""]
    lines += ["## Quality", ""]
    lines += _table(["criterion", "alpha", "percent agreement", "mean pairwise kappa"],
                    [[k, _num(v["alpha"]), _num(v["percent_agreement"], True), _num(v["mean_pairwise_kappa"])]
                     for k, v in r["quality"].items()])
    rows = [[k, a, _num(x["percent"], True), _num(x["kappa"])] for k, v in r["quality"].items() for a, x in v["annotator_vs_gold"].items()]
    if rows:
        lines += ["Each annotator against gold made without their own label:", ""]
        lines += _table(["criterion", "annotator", "agreement", "kappa"], rows)
    for run in r["judge"]:
        lines += [f"## Judge run {_md(run['run'])} ({_md(run['model'])}, rubric v{run['rubric_version']}"
                  + (f", judge prompt v{run['prompt_version']}" if run.get("prompt_version") else "") + ")", ""]
        if run.get("excluded_examples"):
            lines += [f"Measured without the {run['excluded_examples']} case(s) its prompt showed as examples.", ""]
        rows = []
        for k, v in run["criteria"].items():
            p = v.get("pass", {})
            rows.append([k, _num(v["judge_vs_gold"]["percent"], True), _num(v["judge_vs_gold"]["kappa"]),
                         _num(v["same_cases"]["judge_percent"], True), _num(v["same_cases"]["annotators_percent"], True),
                         v["alt_test"]["summary"],
                         _num(p.get("raw_pass_rate"), True) if p else "-", _num(p.get("corrected_pass_rate"), True) if p else "-"])
        lines += _table(["criterion", "judge vs gold", "kappa", "judge, same cases", "annotators, same cases",
                         "can it replace an annotator? (alt-test)", "raw pass rate (judge only)", "corrected pass rate"], rows)
        rates = [[k, _num(v["pass"]["sensitivity"], True), _num(v["pass"]["specificity"], True)]
                 for k, v in run["criteria"].items() if v.get("pass")]
        if rates:
            lines += ["The judge's pass decisions on cases with gold (what the correction uses):", ""]
            lines += _table(["criterion", "sensitivity (passes gold's passes)", "specificity (fails gold's fails)"], rates)
        lines += ["Same cases: judge and each annotator scored against gold made without that annotator, on the cases "
                  "both labeled. Alt-test: Calderon, Reichart and Dror (2025), epsilon 0.2, Benjamini-Yekutieli.", ""]
    if r.get("win_rates"):
        lines += ["## Win rates (pairwise)", "",
                  "Win rate = wins / (wins + losses), 95% Wilson interval; ties and both-bad shown, not in the rate.", ""]
        rows = []
        for t in r["win_rates"]:
            for s in t["sources"]:
                ci = s["ci95"]
                rows.append([t["criterion"], t["by"], s["source"], s["cases"], s["wins"], s["losses"], s["ties"], s["both_bad"],
                             "-" if s["win_rate"] is None else f"{s['win_rate']:.0%}",
                             f"{ci[0]:.0%}-{ci[1]:.0%}" if ci else "-", t["inconsistent_left_out"] or ""])
        lines += _table(["criterion", "by", "source", "cases", "wins", "losses", "ties", "both bad", "win rate", "95% CI",
                         "inconsistent (judge)"], rows)
    if r.get("human_position_bias"):
        lines += ["People's position bias: decisive labels (A or B) that picked the output shown first (about 50% without bias):", ""]
        lines += _table(["annotator", "decisive labels", "picked first", "share", "95% CI"],
                        [[b["annotator"], b["decisive_labels"], b["picked_first"], f"{b['share_first']:.0%}",
                          f"{b['ci95'][0]:.0%}-{b['ci95'][1]:.0%}"] for b in r["human_position_bias"]])
    drift = r.get("drift") or {}
    if drift.get("runs"):
        lines += ["## Drift of production inputs", ""]
        lines += _table(["date", "file", "drift score", "covered", "inputs"],
                        [[x["date"], x["file"], f"{x['score']:.3f}", f"{x['covered_share']:.0%}" if x.get("covered_share") is not None else "-",
                          x.get("production_inputs", "-")] for x in drift["runs"]])
        if drift["latest_clusters"]:
            lines += ["Largest uncovered clusters in the latest run:", ""]
            lines += _table(["size", "examples"], [[c["size"], " / ".join(str(e)[:80] for e in c["examples"])]
                                                   for c in drift["latest_clusters"]])
    if r["left_out"]:
        lines += [f"Left out of these numbers: {len(r['left_out'])} record(s) (`labeler validate` lists them).", ""]
    return "\n".join(lines)


# ---------------------------------------------------------------- HTML


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _bars(title: str, items: list[tuple[str, float | None, float | None, float | None]], lo: float = 0.0, hi: float = 1.0) -> str:
    """A horizontal bar chart with 95% error bars, as inline SVG."""
    row, left, width = 22, 190, 360
    h = row * len(items) + 40
    x = lambda v: left + (min(max(v, lo), hi) - lo) / (hi - lo) * width  # noqa: E731
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 60}" height="{h}" role="img" aria-label="{_e(title)}">',
             f'<text x="0" y="14" font-size="13" font-weight="bold">{_e(title)}</text>']
    for i, (name, v, a, b) in enumerate(items):
        y = 30 + i * row
        parts.append(f'<text x="0" y="{y + 12}" font-size="12">{_e(name[:28])}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{width}" height="14" fill="#eee"/>')
        if v is not None:
            parts.append(f'<rect x="{left}" y="{y}" width="{x(v) - left:.1f}" height="14" fill="#4a7bd0"/>')
            parts.append(f'<text x="{left + width + 6}" y="{y + 12}" font-size="12">{v:.2f}</text>')
        if a is not None and b is not None:
            parts.append(f'<line x1="{x(a):.1f}" x2="{x(b):.1f}" y1="{y + 7}" y2="{y + 7}" stroke="#222" stroke-width="2"/>')
    parts.append("</svg>")
    return "".join(parts)


def _html_table(head: list[str], rows: list[list]) -> str:
    return ("<table><thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr></thead><tbody>"
            + "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>" for r in rows) + "</tbody></table>")


def html_page(r: dict) -> str:
    md_sections = markdown(r)
    q = r["quality"]
    ci = lambda c: (c.get("ci95") or {}).get("low"), lambda c: (c.get("ci95") or {}).get("high")  # noqa: E731
    alpha = _bars("Krippendorff's alpha per criterion (95% interval)",
                  [(k, v["alpha"]["value"], ci[0](v["alpha"]), ci[1](v["alpha"])) for k, v in q.items()], -0.2, 1.0)
    pct = _bars("Percent agreement per criterion (95% interval)",
                [(k, v["percent_agreement"]["value"], ci[0](v["percent_agreement"]), ci[1](v["percent_agreement"])) for k, v in q.items()])
    judge_charts = "".join(
        _bars(f"Judge {run['run']} vs gold per criterion (95% interval)",
              [(k, v["judge_vs_gold"]["percent"]["value"], ci[0](v["judge_vs_gold"]["percent"]), ci[1](v["judge_vs_gold"]["percent"]))
               for k, v in run["criteria"].items()])
        for run in r["judge"])
    wins = "".join(
        _bars(f"Win rate per source: {t['criterion']} by {t['by']} (95% interval)",
              [(s["source"], s["win_rate"], *(s["ci95"] or (None, None))) for s in t["sources"]])
        for t in r.get("win_rates") or [])
    comp = r["composition"]["strata"]
    strata = _bars("Strata: share now (bar) against target (interval marks the target)",
                   [(s, v["share"], v["target"], v["target"]) for s, v in comp.items()])
    body = []
    for block in md_sections.split("\n\n"):
        lines = block.strip().splitlines()
        if not lines:
            continue
        if lines[0].startswith("#"):
            level = len(lines[0]) - len(lines[0].lstrip("#"))
            body.append(f"<h{level}>{_e(_unmd(lines[0].lstrip('#').strip()))}</h{level}>")
            lines = lines[1:]
        if lines and lines[0].startswith("|"):
            cells = [[_unmd(c.strip()) for c in ln.strip().strip("|").split(" | ")] for ln in lines if not ln.startswith("|---")]
            body.append(_html_table(cells[0], cells[1:]))
        elif lines:
            body.append(f"<p>{_e(_unmd(' '.join(lines)))}</p>")
    style = ("body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;color:#222}"
             "table{border-collapse:collapse;margin:0.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}"
             "th{background:#f4f4f4}svg{display:block;margin:1em 0}")
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>labeler report: {_e(r['dataset'])}</title><style>{style}</style></head><body>"
            + "".join(body) + "<h2>Charts</h2>" + strata + alpha + pct + judge_charts + wins + "</body></html>\n")


def _unmd(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)
