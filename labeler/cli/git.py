"""Git: commit labeler's files, sync with the remote, the history of one case."""

from __future__ import annotations

import argparse
import json
import sys

from labeler.cli.common import (EXIT_FAIL, EXIT_OK, _console, _open)

def cmd_commit(a: argparse.Namespace) -> int:
    from labeler.safetext import inert
    from labeler.vcs.repo import commit

    ds = _open(a.dataset)
    r = commit(ds)
    if a.json:
        print(json.dumps({"commit": r.sha, "message": r.message, "files": r.files, "set_aside": r.set_aside}))
    else:
        print(inert(f"[{r.sha}] {r.message}" if r.sha else r.message))
        for f in r.files:
            print(f"  {inert(f)}")
    for f in map(inert, r.set_aside):
        sys.stderr.write(f"note: {f} ended in an incomplete line (a crash mid-save): moved to {f}.torn, not committed\n")
    return EXIT_OK


def cmd_sync(a: argparse.Namespace) -> int:
    from labeler.safetext import inert
    from labeler.vcs.repo import sync

    ds = _open(a.dataset)
    r = sync(ds, "merge" if a.merge else "rebase")
    if a.json:
        print(json.dumps({"ok": r.ok, "message": r.message, "conflicts": r.conflicts}))
    elif r.ok:
        print(inert(r.message))
    else:
        sys.stderr.write(inert(r.message) + "\n")
    return EXIT_OK if r.ok else EXIT_FAIL


def cmd_history(a: argparse.Namespace) -> int:
    from labeler.vcs.repo import history
    from labeler.safetext import one_line

    ds = _open(a.dataset)
    # time order (who did what, when); a record without a time keeps its place at the end
    changes = sorted(history(ds, a.case), key=lambda c: (c.when is None, c.when.timestamp() if c.when else 0))
    if a.json:
        print(json.dumps([{"when": str(c.when or ""), "who": c.who, "kind": c.kind, "values": c.values, "before": c.before,
                           "commit": c.commit, "author": c.author, "note": c.note, "said": c.said} for c in changes], indent=2))
        return EXIT_OK
    from rich.table import Table
    from rich.text import Text

    from rich import box

    t = Table(title=f"history of {one_line(a.case, 60)} in {ds.name}, oldest first", title_justify="left",
              box=box.SIMPLE_HEAD, pad_edge=False)
    t.add_column("when", no_wrap=True)
    t.add_column("who", no_wrap=True)
    t.add_column("what", no_wrap=True)
    t.add_column("changed", ratio=1)  # one change a line: a criterion's name is never cut
    t.add_column("commit", no_wrap=True)
    for c in changes:
        diff = "\n".join(f"{k}: {c.before.get(k, '·')} → {v}" for k, v in c.values.items() if c.before.get(k) != v)
        cell = Text("withdrawn" if c.kind == "retract" else diff)
        for line in c.said:
            cell.append(("\n" if cell else "") + one_line(line, 200), style="italic")
        if not cell:
            cell = Text("(saved again, same values)", style="dim")
        when = c.when.strftime("%Y-%m-%d %H:%M") if c.when else ""
        t.add_row(when, one_line(c.who, 20), {"adjudication": "gold"}.get(c.kind, c.kind), cell, c.commit or "uncommitted")
    _console().print(t)
    if not changes:
        print("no labels or adjudications for this case yet")
    return EXIT_OK


def register(add) -> None:
    """The subcommands of this module, with their flags."""
    sp = add("commit", cmd_commit)
    sp.add_argument("dataset")
    sp.add_argument("--json", action="store_true")

    sp = add("sync", cmd_sync)
    sp.add_argument("dataset")
    sp.add_argument("--merge", action="store_true", help="merge instead of rebase")
    sp.add_argument("--json", action="store_true")

    sp = add("history", cmd_history)
    sp.add_argument("dataset")
    sp.add_argument("case")
    sp.add_argument("--json", action="store_true")
