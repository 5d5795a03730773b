"""Command palette: jump to a case, filter by tier or tag, switch dataset."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class LabelerCommands(Provider):
    def _commands(self):
        app = self.app
        screen = self.screen  # the screen the palette was opened over (app.screen is the palette itself)
        session = getattr(screen, "session", None)
        cmds = []
        if session is not None and hasattr(session, "set_filter"):
            tiers = sorted(set(session.ds.cases.tiers.tolist()))
            for t in tiers:
                cmds.append((f"label: filter tier {t}", partial(self._filter, tiers={t}), "queue only this tier"))
            cmds.append(("label: filter tier all", partial(self._filter, tiers=None), "queue every tier again (the tag filter stays)"))
            tags = sorted({tag for tags in session.ds.cases.tags for tag in tags})
            for tag in tags:
                cmds.append((f"label: filter tag {tag}", partial(self._filter, tags={tag}), "queue only cases with this tag"))
            cmds.append(("label: filter tag all", partial(self._filter, tags=None), "queue every tag again (the tier filter stays)"))
            cmds.append(("label: clear filters", partial(self._filter, tiers=None, tags=None), "queue every case again"))
        cmds.append(("dashboard: open", app.action_dashboard, "agreement with intervals, by version, score distributions, labels per day"))
        cmds.append(("git: commit", app.action_commit, "commit labeler's files of this dataset"))
        for name in app.ds.ws.dataset_names():
            if name != app.ds.name:
                cmds.append((f"dataset: switch to {name}", partial(app.switch_dataset, name), "open another dataset"))
        return cmds

    def _filter(self, **filters) -> None:
        self.screen.show_outcome(self.screen.session.set_filter(**filters))

    async def discover(self) -> Hits:
        for name, cb, help in self._commands():
            if ": jump to case" not in name:
                yield DiscoveryHit(name, cb, help=help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, cb, help in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), cb, help=help)
        for name, cb, help in self._jumps(query):
            yield Hit(matcher.match(name) or 0.5, matcher.highlight(name), cb, help=help)

    def _jumps(self, query: str, limit: int = 40):
        """"label: jump to case ID" for ids that contain the query: at most `limit`, so that a palette
        over 100,000 cases stays instant (ids are matched as text, not fuzzily)."""
        screen = self.screen
        session = getattr(screen, "session", None)
        needle = query.strip().lower()
        for prefix in ("label:", "review:", "jump to case", "jump to", "jump", "case"):
            needle = needle.removeprefix(prefix).strip()
        if session is None or not hasattr(session, "jump") or len(needle) < 2:
            return
        ids = session.case_ids() if hasattr(session, "case_ids") else session.ds.cases
        mode = "review" if hasattr(session, "case_ids") else "label"
        n = 0
        for cid in ids:
            if needle in cid.lower():
                yield (f"{mode}: jump to case {cid}", partial(screen.jump_to, cid), "open this case")
                n += 1
                if n >= limit:
                    return
