"""The lead's dashboard (ctrl+d from any screen): the report's numbers as plots where a picture says more.

Agreement per criterion with 95% intervals as error bars, alpha across rubric versions (did tightening
help?), score distributions of people and of each judge run, labels per day per annotator. The numbers
are computed in a thread (the screen stays responsive on a big dataset) by the same code as
`labeler report`.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Header, Static, TabbedContent, TabPane
from textual_plotext import PlotextPlot

from labeler.safetext import middle_cut, one_line
from labeler.stats.dashboard import dashboard_data
from labeler.dataset import Dataset
from labeler.ui.widgets.fitting_footer import FittingFooter


class DashboardScreen(Screen):
    DEFAULT_CSS = """
    DashboardScreen #dash-summary { height: auto; }
    DashboardScreen #dash-tabs { height: 1fr; }
    """
    # ←→ are the criterion's whatever has focus (the tabs would take them otherwise); tab switches the view
    BINDINGS = [Binding("escape,q", "app.pop_screen", "Back"),
                Binding("left,h", "criterion(-1)", "Criterion", key_display="←→", priority=True, tooltip="the previous / next criterion"),
                Binding("right,l", "criterion(1)", "Criterion", show=False, priority=True),
                Binding("tab", "view(1)", "Next view", key_display="tab", priority=True, tooltip="the next / previous plot (shift+tab)"),
                Binding("shift+tab", "view(-1)", "Prev view", show=False, priority=True)]

    def __init__(self, ds: Dataset, replicates: int = 200) -> None:
        super().__init__()
        self.ds = ds
        self.replicates = replicates
        self.data: dict | None = None
        self.focus_index = 0
        try:
            self.pairwise = ds.rubric().pairwise
        except Exception:  # a rubric that does not load is reported elsewhere; the other tabs still work
            self.pairwise = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text("computing the numbers ...", style="dim"), id="dash-summary")
        with TabbedContent(id="dash-tabs"):
            with TabPane("Agreement", id="tab-agreement"):
                yield PlotextPlot(id="plot-alpha")
            with TabPane("By version", id="tab-versions"):
                yield PlotextPlot(id="plot-versions")
            with TabPane("Scores", id="tab-scores"):
                yield PlotextPlot(id="plot-scores")
            with TabPane("Per day", id="tab-days"):
                yield PlotextPlot(id="plot-days")
            with TabPane("Drift", id="tab-drift"):
                yield PlotextPlot(id="plot-drift")
            if self.pairwise:
                with TabPane("Win rates", id="tab-wins"):
                    yield PlotextPlot(id="plot-wins")
        yield FittingFooter()

    def on_mount(self) -> None:
        self.title = f"labeler dashboard · {self.ds.name}"
        self._compute()

    @work(thread=True, exclusive=True, group="dashboard")
    def _compute(self) -> None:
        self.data = dashboard_data(self.ds, self.replicates)
        self.app.call_from_thread(self._draw)

    def action_criterion(self, delta: int) -> None:
        if self.data and self.data["criteria"]:
            self.focus_index = (self.focus_index + delta) % len(self.data["criteria"])
            self._draw()

    def action_view(self, delta: int) -> None:
        tabs = self.query_one(TabbedContent)
        panes = [p.id for p in tabs.query(TabPane)]
        tabs.active = panes[(panes.index(tabs.active) + delta) % len(panes)]

    def _draw_wins(self, wins: dict | None, criterion: str) -> None:
        """Each source's win rate on the focused criterion: gold beside each judge run, gold's 95% interval in red."""
        plot = self._fresh("#plot-wins")
        p = plot.plt
        if wins and wins["sources"]:
            names = wins["sources"]
            series = list(wins["series"])
            p.multiple_bar([one_line(n, 14) for n in names],
                           [[(wins["series"][s].get(n) or (None,))[0] or 0 for n in names] for s in series],
                           labels=[one_line(s, 16) for s in series])
            gold = wins["series"].get("gold", {})
            for i, n in enumerate(names, 1):
                _, lo, hi = gold.get(n, (None, None, None))
                if lo is not None:
                    p.plot([i, i], [lo, hi], color="red", marker="|")
            p.ylim(0, 1)
            p.title(f"win rate on {one_line(criterion, 24)}: wins / (wins + losses), by gold and each judge run")
        else:
            p.title("no pairwise outcomes yet")
        plot.refresh()

    def _fresh(self, selector: str) -> PlotextPlot:
        """A plot emptied of what it showed before (each redraw starts from a blank figure)."""
        plot = self.query_one(selector, PlotextPlot)
        plot.plt.clear_data()
        plot.plt.clear_figure()
        return plot

    def _draw(self) -> None:
        d = self.data
        if d is None:
            return
        crits = d["criteria"]
        c = crits[self.focus_index % len(crits)] if crits else None
        t = Text()  # wraps (never scrolled away or cut): the focused criterion is named whole
        t.append(f" {d['cases']} cases · k={d['k']} · {d['to_k']} labels to k", style="bold")
        t.append(" · focus ")
        t.append(one_line(c or "-", 60), style="bold")
        t.append(f" (←→) · 95%: {d['replicates']} bootstrap replicates, seed 0", style="dim")
        self.query_one("#dash-summary", Static).update(t)

        plot = self._fresh("#plot-alpha")
        p = plot.plt
        alphas = [d["alpha"][x][0] if d["alpha"][x][0] is not None else 0 for x in crits]
        # bars lie down: each criterion's name is whole on its own line of the axis, at any width
        p.bar([middle_cut(x, 30) for x in crits], alphas, width=0.4, orientation="horizontal")
        for i, x in enumerate(crits, 1):  # the interval as an error bar (plotext's own are symmetric; these are not)
            lo, hi = d["alpha"][x][1], d["alpha"][x][2]
            if lo is not None and hi is not None:
                p.plot([lo, hi], [i, i], color="red", marker="─")
        p.xlim(-0.2, 1.0)
        p.title("alpha per criterion, 95% interval (0.8 = reliable)")
        plot.refresh()

        plot = self._fresh("#plot-versions")
        p = plot.plt
        versions = set()
        for x in crits:
            pts = [(v, a) for v, a in d["by_version"].get(x, []) if a is not None]
            if pts:
                p.plot([v for v, _ in pts], [a for _, a in pts], label=middle_cut(x, 20), marker="dot")
                versions.update(v for v, _ in pts)
        if versions:  # versions are whole numbers: no 1.25 on the axis
            p.xticks(sorted(versions), [f"v{v}" for v in sorted(versions)])
        p.title("alpha by rubric version: did tightening help?")
        p.ylim(-0.2, 1.0)
        plot.refresh()

        plot = self._fresh("#plot-scores")
        p = plot.plt
        if c is not None:
            dist = d["distributions"][c]
            names = list(dist["series"])
            shares = [dist["series"][n] for n in names]
            p.multiple_bar([str(v) for v in dist["values"]], shares, labels=[middle_cut(n, 28) for n in names])
            # room above the tallest bar for the legend (one line per series), so it covers no bar
            rows = max(4, self.query_one("#dash-tabs").size.height - 7)  # the plot's rows (a hidden tab has no size)
            top = max((x for row in shares for x in row), default=1) or 1
            p.ylim(0, top * rows / max(1, rows - len(names) - 1))
            p.title(f"scores of {one_line(c, 30)}: people and each judge run (share of cases)")
        plot.refresh()

        plot = self._fresh("#plot-days")
        p = plot.plt
        for name, series in d["per_day"].items():
            if series:
                p.plot([i for i, _ in enumerate(series)], [n for _, n in series], label=one_line(name, 12), marker="dot")
        days = next((s for s in d["per_day"].values() if s), [])
        if days:
            p.xticks(list(range(len(days))), [day[5:] for day, _ in days])
        p.title("labels per day per annotator")
        plot.refresh()

        if self.pairwise and c is not None:
            self._draw_wins(d.get("wins", {}).get(c), c)

        plot = self._fresh("#plot-drift")
        p = plot.plt
        runs = d.get("drift") or []
        if runs:
            p.plot(list(range(len(runs))), [r["score"] for r in runs], marker="dot", label="drift score")
            p.xticks(list(range(len(runs))), [str(r["date"])[5:] for r in runs])
            p.hline(0.15, color="red")
            p.title("drift of production inputs over time (alert above 0.15)")
        else:
            p.title("no drift run yet: labeler drift DATASET PRODUCTION.jsonl")
        plot.refresh()
