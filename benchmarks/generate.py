"""Generate a large synthetic workspace: N cases, A annotators' labels (default 10,000 x 5).

    python benchmarks/generate.py /tmp/bench --cases 10000 --annotators 5
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
from pathlib import Path

from labeler.truth.logs import LogWriter
from labeler.truth.models import Case
from labeler.truth.store import CASES_HEADER, cases_text

REPO = Path(__file__).resolve().parent.parent


def generate(root: Path, n_cases: int, n_annotators: int, seed: int = 1) -> Path:
    rng = random.Random(seed)
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(REPO / "rubrics", root / "rubrics")
    # a 5-criterion rubric: the shipped one plus a "grounded" criterion
    v2 = (REPO / "rubrics" / "support-summary" / "v2.yaml").read_text()
    extra = ("  grounded:\n    question: Is every fact in the summary in the ticket?\n    scale:\n      type: ordinal\n"
             "      points:\n        0: {label: invented}\n        1: {label: partly}\n        2: {label: grounded}\n")
    bench = v2.replace("name: support-summary", "name: bench").replace("version: 2\ntask", "version: 1\ntask")
    bench = bench[: bench.index("changelog:")] .rstrip("\n") + "\n" + extra
    (root / "rubrics" / "bench").mkdir()
    (root / "rubrics" / "bench" / "v1.yaml").write_text(bench)
    ds = root / "datasets" / "big"
    ds.mkdir(parents=True)
    (ds / "dataset.yaml").write_text("name: big\nrubric: bench\nrubric_version: 1\noverlap: 3\n")
    words = "refund invoice charge login reset password order shipping delay cancel plan export error crash urgent please".split()
    tiers = ["golden"] * 7 + ["adversarial", "regression", "regression"]
    cases = []
    for i in range(n_cases):
        body = "\n".join(" ".join(rng.choice(words) for _ in range(14)) for _ in range(6))
        cases.append(Case(id=f"c-{i:05d}", input=f"Subject: ticket {i}\n\n{body}", output=" ".join(rng.choice(words) for _ in range(60)),
                          tier=rng.choice(tiers), tags=[rng.choice(words), rng.choice(words)]))
    (ds / "cases.yaml").write_text(CASES_HEADER + cases_text(cases))
    from labeler.dataset import Workspace

    h = Workspace(root).rubric("bench", 1).content_hash()
    for a in range(n_annotators):
        recs = []
        for i in range(n_cases):
            if rng.random() < 0.8:
                recs.append({"case": f"c-{i:05d}", "rubric": 1, "rubric_hash": h,
                             "values": {"action_items": rng.randint(0, 2), "tone": rng.randint(0, 2),
                                        "no_hallucinated_resolution": rng.randint(0, 2), "under_80_words": rng.choice(["pass", "fail"]),
                                        "grounded": rng.randint(0, 2)},
                             "at": "2026-11-01T10:00:00Z", "seconds": 30.0})
        LogWriter(ds / "labels" / f"ann{a}.yaml", "synthetic").append_many(recs)
    # a judge run over every case, for calibrate
    run = ds / "judge" / "synthetic"
    run.mkdir(parents=True)
    (run / "run.yaml").write_text(f"name: synthetic\nmodel: synthetic\nrubric: bench\nrubric_version: 1\nrubric_hash: {h}\n")
    verdicts = [{"case": f"c-{i:05d}", "values": {c: {"value": v, "rationale": "synthetic"} for c, v in
                 (("action_items", rng.randint(0, 2)), ("tone", rng.randint(0, 2)), ("no_hallucinated_resolution", rng.randint(0, 2)),
                  ("under_80_words", rng.choice(["pass", "fail"])), ("grounded", rng.randint(0, 2)))},
                 "at": "2026-11-01T10:00:00Z"} for i in range(n_cases)]
    LogWriter(run / "verdicts.yaml", "synthetic").append_many(verdicts)
    return ds


def generate_pairwise(root: Path, n_cases: int, n_annotators: int, seed: int = 2) -> Path:
    """datasets/pairs under `root` (which holds rubrics/ already or gets the shipped ones): pairwise cases between
    three sources (so Bradley-Terry has work), each annotator's labels with the order shown, and a judge run
    asked in both orders (about one verdict in ten inconsistent)."""
    from labeler.truth.models import OutputOrigin
    from labeler.truth.pairs import from_position, shown_order

    rng = random.Random(seed)
    if not (root / "rubrics").exists():
        shutil.copytree(REPO / "rubrics", root / "rubrics")
    ds = root / "datasets" / "pairs"
    if ds.exists():
        shutil.rmtree(ds)
    ds.mkdir(parents=True)
    (ds / "dataset.yaml").write_text("name: pairs\nrubric: support-pairwise\nrubric_version: 1\noverlap: 3\n")
    words = "refund invoice charge login reset password order shipping delay cancel plan export error crash urgent please".split()
    sources = ["v1", "v2", "v3"]
    strength = {"v1": 0.3, "v2": 0.5, "v3": 0.2}
    cases, pairs = [], []
    for i in range(n_cases):
        a, b = rng.sample(sources, 2)
        pairs.append((a, b))
        cases.append(Case(id=f"p-{i:05d}", input=" ".join(rng.choice(words) for _ in range(40)),
                          output=" ".join(rng.choice(words) for _ in range(50)), output_b=" ".join(rng.choice(words) for _ in range(50)),
                          origin_a=OutputOrigin(candidate=a), origin_b=OutputOrigin(candidate=b),
                          tier=rng.choice(["golden"] * 8 + ["adversarial", "regression"])))
    (ds / "cases.yaml").write_text(CASES_HEADER + cases_text(cases))
    from labeler.dataset import Workspace

    rubric = Workspace(root).rubric("support-pairwise", 1)
    h = rubric.content_hash()

    def pick(a: str, b: str) -> str:
        x = rng.random()
        pa = strength[a] / (strength[a] + strength[b])
        return "tie" if x < 0.15 else "A" if rng.random() < pa else "B"

    truth = [{c: pick(*pairs[i]) for c in rubric.criteria} for i in range(n_cases)]
    for k in range(n_annotators):
        who = f"ann{k}"
        recs = []
        for i in range(n_cases):
            if rng.random() < 0.8:
                values = {c: (v if rng.random() < 0.85 else rng.choice(["A", "B", "tie"])) for c, v in truth[i].items()}
                recs.append({"case": f"p-{i:05d}", "rubric": 1, "rubric_hash": h, "values": values,
                             "at": "2026-11-01T10:00:00Z", "seconds": 25.0, "shown": shown_order(who, f"p-{i:05d}")})
        LogWriter(ds / "labels" / f"{who}.yaml", "synthetic").append_many(recs)
    run = ds / "judge" / "pairjudge"
    run.mkdir(parents=True)
    (run / "run.yaml").write_text(f"name: pairjudge\nmodel: synthetic\nrubric: support-pairwise\nrubric_version: 1\nrubric_hash: {h}\n")
    verdicts = []
    for i in range(n_cases):
        values = {}
        for c, v in truth[i].items():
            second = v if rng.random() < 0.9 else from_position(v, "BA") if v in ("A", "B") else "A"
            item = {"rationale": "synthetic", "orders": {"AB": v, "BA": second}}
            if second == v:
                item["value"] = v
            else:
                item["inconsistent"] = True
            values[c] = item
        verdicts.append({"case": f"p-{i:05d}", "values": values, "at": "2026-11-01T10:00:00Z"})
    LogWriter(run / "verdicts.yaml", "synthetic").append_many(verdicts)
    return ds


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("root", type=Path)
    p.add_argument("--cases", type=int, default=10_000)
    p.add_argument("--annotators", type=int, default=5)
    a = p.parse_args()
    print(generate(a.root, a.cases, a.annotators), file=sys.stderr)
