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
        if session is not None and hasattr(session, "jump"):
            for cid in session.ds.cases:
                cmds.append((f"label: jump to case {cid}", partial(screen.jump_to, cid), "open this case"))
            tiers = sorted(set(session.ds.cases.tiers.tolist()))
            for t in tiers + ["all"]:
                cmds.append((f"label: filter tier {t}", partial(self._filter, "tiers", None if t == "all" else {t}), "queue only this tier"))
            tags = sorted({tag for tags in session.ds.cases.tags for tag in tags})
            for tag in tags:
                cmds.append((f"label: filter tag {tag}", partial(self._filter, "tags", {tag}), "queue only cases with this tag"))
        for name in app.ds.ws.dataset_names():
            if name != app.ds.name:
                cmds.append((f"dataset: switch to {name}", partial(app.switch_dataset, name), "open another dataset"))
        return cmds

    def _filter(self, attr: str, value) -> None:
        screen = self.screen
        q = screen.session.queue
        setattr(q, attr, value)
        q.refresh()
        screen.show_outcome(screen.session.next())

    async def discover(self) -> Hits:
        for name, cb, help in self._commands():
            if not name.startswith("label: jump"):
                yield DiscoveryHit(name, cb, help=help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, cb, help in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), cb, help=help)
