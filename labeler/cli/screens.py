"""Commands that open a screen: label, review, audit (the checks that can fail come before the screen opens)."""

from __future__ import annotations

import argparse

from labeler.errors import UsageError
from labeler.cli.common import (EXIT_OK, _name, _open)

def _warm_start(a: argparse.Namespace):
    """The app for a warm start (labeler/ui/first_frame.py), when the last session left a fresh record for
    this dataset and annotator and no flag changes what opens first; else None, and the usual start."""
    if a.tier or a.tag or a.suggest:
        return None
    from labeler.vcs.identity import Identity, resolve_identity
    from labeler.workspace import dataset_folder

    folder = dataset_folder(a.dataset)
    if folder is None:
        return None
    folder = folder.resolve()
    # --annotator names the record; whether git's identity is the annotator's own (then recorded with each
    # label) is asked in the load, after the first frame (two `git config` runs)
    ident = Identity(a.annotator) if a.annotator else resolve_identity(None, folder)
    if ident is None:
        return None
    from labeler.ui.first_frame import read_fresh

    record = read_fresh(folder, ident.name)
    if record is None:
        return None
    from labeler.ui.app import LabelerApp

    def load():
        from labeler.dataset import open_dataset

        ds = open_dataset(folder)
        if a.annotator:
            app.identity = resolve_identity(a.annotator, folder)
        return ds

    app = LabelerApp(None, mode="label", identity=ident, first=record, loader=load, ds_path=folder)
    return app


def cmd_label(a: argparse.Namespace) -> int:
    app = _warm_start(a)
    if app is not None:
        app.run()
        return app.return_code or EXIT_OK
    from labeler.vcs.identity import resolve_identity

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
    from labeler.vcs.identity import resolve_identity

    ds = _open(a.dataset)
    ident = resolve_identity(a.lead, ds.path)
    from labeler.flows.review import check_filters

    check_filters(ds, a.criterion, a.annotator)  # a filter that can match nothing: one line before the screen opens
    from labeler.ui.app import LabelerApp

    app = LabelerApp(ds, mode="review", identity=ident,
                     review_filters={"criterion": a.criterion, "tier": a.tier, "annotator": a.annotator,
                                     "include_adjudicated": a.all})
    app.run()
    return app.return_code or EXIT_OK


def cmd_audit(a: argparse.Namespace) -> int:
    from labeler.vcs.identity import resolve_identity

    ds = _open(a.dataset)
    ds.judge_run(a.run)  # a missing run is a one-line error before the screen opens
    if a.vs:
        ds.judge_run(a.vs)
    ident = resolve_identity(a.auditor, ds.path)
    from labeler.ui.app import LabelerApp

    if a.worse and not a.vs:
        raise UsageError("--worse needs --vs BASE_RUN: worse than what?")
    app = LabelerApp(ds, mode="audit", identity=ident, audit_runs=(a.run, a.vs, a.worse))
    app.run()
    return app.return_code or EXIT_OK


def register(add) -> None:
    """The subcommands of this module, with their flags."""
    sp = add("label", cmd_label)
    sp.add_argument("dataset")
    sp.add_argument("--annotator", type=_name("annotator"), default=None, help="default: the repo's git user.name")
    sp.add_argument("--tier", action="append", choices=["golden", "adversarial", "regression"], help="only this tier (repeatable)")
    sp.add_argument("--tag", action="append", help="only cases with this tag (repeatable)")
    sp.add_argument("--suggest", default=None, metavar="RUN",
                    help="pre-fill the judge's values of RUN as suggestions (off by default: they anchor annotators; recorded per label)")

    sp = add("review", cmd_review)
    sp.add_argument("dataset")
    sp.add_argument("--lead", type=_name("lead"), default=None, help="who adjudicates (default: the repo's git user.name)")
    sp.add_argument("--criterion", default=None, help="only disagreements on this criterion")
    sp.add_argument("--tier", default=None, choices=["golden", "adversarial", "regression"])
    sp.add_argument("--annotator", type=_name("annotator"), default=None, help="only cases this annotator labeled")
    sp.add_argument("--all", action="store_true", help="include cases already adjudicated")

    sp = add("audit", cmd_audit)
    sp.add_argument("dataset")
    sp.add_argument("--run", type=_name("run name"), required=True)
    sp.add_argument("--vs", type=_name("run name"), default=None, help="a second run to show side by side")
    sp.add_argument("--auditor", type=_name("auditor"), default=None, help="default: the repo's git user.name")
    sp.add_argument("--worse", action="store_true", help="audit a regression: only the cases where RUN is worse than --vs, "
                                                          "its output beside the output --vs judged")
