"""Races and crashes against real processes, real files and real git: how many acknowledged writes are lost.

    python benchmarks/races.py                      # every scenario, default trials
    python benchmarks/races.py --trials 5 --json    # fewer trials, machine-readable
    python benchmarks/races.py --code /other/checkout --only imports   # measure another version of labeler

Each scenario prints `lost` (acknowledged, then gone) or `bad` (a state a rerun does not repair); every
number should be 0. A label counts as acknowledged when save_label returned (the writer printed its id).

  sync       a writer saving every --interval s in one clone while `labeler sync` runs again and again, with
             the same annotator labeling in a second clone (so sync rebases and merges that log)
  torn       two windows of one annotator saving at the same instant onto a log with a torn last line
  imports    two `labeler import` runs at once into one dataset (50 new cases each)
  bump       `labeler rubric bump` killed (-9) at a random moment, then run again
  pair       `labeler pair` killed (-9) at a random moment, then run again
  commit     `labeler commit` killed (-9, with its git) at a random moment, then run again
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXAMPLE = HERE.parent / "tests" / "fixtures" / "example"
DS = "support-summary"
V = {"action_items": 1, "tone": 1, "no_hallucinated_resolution": 2, "under_80_words": "pass"}

WRITER = r"""
import sys, time
from pathlib import Path
from labeler.truth.models import Label
from labeler.dataset import open_dataset
path, who, prefix, interval, start, count = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
ds = open_dataset(path)
cases = list(ds.cases.ids)
stop = Path(path) / ".stop"
time.sleep(max(0.0, start - time.time()))
i = 0
while i < count and not stop.exists():
    ds.save_label(who, Label(case=cases[i % len(cases)], rubric=2, values=VALUES, note=f"{prefix}{i}"))
    print(f"{prefix}{i}", flush=True)
    i += 1
    time.sleep(interval)
""".replace("VALUES", repr(V))


class Env:
    def __init__(self, code: Path):
        self.env = {**os.environ, "PYTHONPATH": str(code), "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "b@example.com",
                    "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "b@example.com"}

    def run(self, cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(list(args), cwd=cwd, env=self.env, capture_output=True, text=True, timeout=timeout)

    def labeler(self, cwd: Path, *args: str) -> subprocess.CompletedProcess:
        return self.run(cwd, sys.executable, "-m", "labeler", *args)

    def popen(self, cwd: Path, *args: str, **kw) -> subprocess.Popen:
        return subprocess.Popen(list(args), cwd=cwd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)

    def writer(self, ds: Path, who: str, prefix: str, interval: float, start: float, count: int) -> subprocess.Popen:
        return self.popen(ds, sys.executable, "-c", WRITER, str(ds), who, prefix, str(interval), str(start), str(count))


def workspace(root: Path) -> Path:
    for part in ("rubrics", "datasets"):
        shutil.copytree(EXAMPLE / part, root / part, ignore=shutil.ignore_patterns(".cache"))
    return root


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def clones(root: Path) -> tuple[Path, Path, Path]:
    seed = workspace(root / "seed")
    git(seed, "init", "-q", "-b", "main")
    git(seed, "add", "-A")
    git(seed, "-c", "user.name=Seed", "-c", "user.email=s@example.com", "commit", "-qm", "seed")
    remote = root / "remote.git"
    git(root, "clone", "-q", "--bare", str(seed), str(remote))
    out = []
    for who in ("ann", "ben"):
        git(root, "clone", "-q", str(remote), str(root / who))
        git(root / who, "config", "user.name", who)
        git(root / who, "config", "user.email", f"{who}@example.com")
        out.append(root / who)
    return remote, out[0], out[1]


def notes(text: str) -> set[str]:
    out = set()
    for line in text.splitlines():
        if line.startswith("- {"):
            try:
                out.add(json.loads(line[2:]).get("note", ""))
            except ValueError:
                continue
    return out


# ---------------------------------------------------------------- scenarios


def sync_race(e: Env, tmp: Path, syncs: int, interval: float) -> dict:
    remote, ann, ben = clones(tmp)
    ds_ann, ds_ben = ann / "datasets" / DS, ben / "datasets" / DS
    w = e.writer(ds_ann, "ann", "a", interval, time.time(), 10**6)
    failed = 0
    for k in range(syncs):
        b = e.writer(ds_ben, "ann", f"b{k}-", 0, 0, 1)  # the same annotator on another machine
        b.communicate(timeout=60)
        e.labeler(ben, "sync", DS)
        r = e.labeler(ann, "sync", DS)
        failed += r.returncode != 0
    (ds_ann / ".stop").write_text("")
    acked = {ln.strip() for ln in w.communicate(timeout=60)[0].splitlines() if ln.strip()}
    for _ in range(3):
        if e.labeler(ann, "sync", DS).returncode == 0:
            break
    local = notes((ds_ann / "labels" / "ann.yaml").read_text(encoding="utf-8"))
    pushed = notes(git(remote, "show", f"main:datasets/{DS}/labels/ann.yaml"))
    return {"acknowledged": len(acked), "syncs": syncs, "failed_syncs": failed,
            "lost": len(acked - local), "lost_on_remote": len(acked - pushed)}


def torn_race(e: Env, tmp: Path) -> dict:
    ws = workspace(tmp)
    ds = ws / "datasets" / DS
    log = ds / "labels" / "zed.yaml"
    log.write_text('# labels\n- {"case": "refund-double-charge-good", "rubric": 2, "values": {"tone": 1}}\n- {"case": "refu')
    start = time.time() + 1.5
    procs = [e.writer(ds, "zed", f"w{k}-", 0, start, 1) for k in range(2)]
    acked = set()
    for p in procs:
        acked |= {ln.strip() for ln in p.communicate(timeout=60)[0].splitlines() if ln.strip()}
    present = notes(log.read_text(encoding="utf-8"))
    return {"acknowledged": len(acked), "lost": len(acked - present)}


def import_race(e: Env, tmp: Path) -> dict:
    ws = workspace(tmp)
    files = []
    for side in "xy":
        f = tmp / f"{side}.jsonl"
        f.write_text("".join(json.dumps({"id": f"{side}{i}", "input": f"question {side} {i}", "output": "answer"}) + "\n"
                             for i in range(50)))
        files.append(f)
    procs = [e.popen(ws, sys.executable, "-m", "labeler", "import", DS, str(f)) for f in files]
    ok = sum(p.wait(timeout=120) == 0 for p in procs)
    for p in procs:
        p.communicate()
    text = (ws / "datasets" / DS / "cases.yaml").read_text(encoding="utf-8")
    ids = {ln.split(":", 1)[0] for ln in text.splitlines() if ln[:1] in ("x", "y")}
    return {"succeeded": ok, "lost": 100 - len(ids) if ok == 2 else 0, "failed_runs": 2 - ok}


def _kill_then_rerun(e: Env, cwd: Path, args: list[str], full_s: float, watch: Path | None = None) -> tuple[subprocess.CompletedProcess, bool]:
    """Run `labeler ARGS`, kill -9 it (at a random moment, or the moment `watch` appears: the first file of a
    multi-file operation), then run it again."""
    p = e.popen(cwd, sys.executable, "-m", "labeler", *args, start_new_session=True)
    if watch is None:
        time.sleep(random.uniform(0.2, full_s))
    else:
        end = time.time() + 60
        while p.poll() is None and time.time() < end and not (watch.exists() if watch.suffix else watch.is_dir() and any(watch.iterdir())):
            time.sleep(0.0005)
        time.sleep(random.uniform(0, 0.003))
    killed = p.poll() is None
    if killed:
        os.killpg(p.pid, signal.SIGKILL)  # the whole group, git children too, as closing a terminal does
    p.communicate()
    return e.labeler(cwd, *args), killed


def bump_crash(e: Env, tmp: Path, full_s: float) -> dict:
    ws = workspace(tmp)
    watch = ws / "rubrics" / DS / "v3.yaml" if random.random() < 0.75 else None
    r, killed = _kill_then_rerun(e, ws, ["rubric", "bump", DS, "--no-edit", "--summary", "bench"], full_s, watch)
    versions = sorted(int(p.stem[1:]) for p in (ws / "rubrics" / DS).glob("v*.yaml"))
    cfg = (ws / "datasets" / DS / "dataset.yaml").read_text()
    bad = r.returncode != 0 or versions != [1, 2, 3] or "rubric_version: 3" not in cfg
    return {"killed": killed, "bad": int(bad), "why": "" if not bad else f"versions {versions}, exit {r.returncode} {r.stderr[-200:]}"}


def pair_crash(e: Env, tmp: Path, full_s: float) -> dict:
    ws = workspace(tmp)
    shutil.rmtree(ws / "rubrics" / "support-pairwise")
    shutil.rmtree(ws / "datasets" / "support-pairwise")
    args = ["pair", DS, "--a", "golden", "--b", "summarizer-v2", "--into", "pp"]
    folder = ws / "rubrics" / f"{DS}-pairwise"
    r, killed = _kill_then_rerun(e, ws, args, full_s, folder if random.random() < 0.75 else None)
    bad = r.returncode != 0 or not (folder / "judge.md").is_file() or not (folder / "v1.yaml").is_file() \
        or e.labeler(ws, "validate").returncode != 0
    return {"killed": killed, "bad": int(bad), "why": "" if not bad else f"exit {r.returncode} {r.stderr[-200:]}"}


def commit_crash(e: Env, tmp: Path, full_s: float) -> dict:
    _, ann, _ = clones(tmp)
    e.writer(ann / "datasets" / DS, "ann", "c", 0, 0, 20).communicate(timeout=60)
    watch = ann / ".git" / "index.lock" if random.random() < 0.75 else None
    r, killed = _kill_then_rerun(e, ann, ["commit", DS], full_s, watch)
    lock = (ann / ".git" / "index.lock").exists()
    internal = "internal error" in r.stderr
    if lock:
        os.unlink(ann / ".git" / "index.lock")
        r = e.labeler(ann, "commit", DS)
    committed = notes(git(ann, "show", f"HEAD:datasets/{DS}/labels/ann.yaml"))
    return {"killed": killed, "stale_lock": int(lock), "internal_error": int(internal),
            "lost": 20 - len({n for n in committed if n.startswith("c")})}


def timed(e: Env, tmp: Path, setup, args_of) -> float:
    cwd = setup(tmp)
    t = time.perf_counter()
    e.labeler(cwd, *args_of)
    return time.perf_counter() - t


SCENARIOS = ("sync", "torn", "imports", "bump", "pair", "commit")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=None, help="trials per scenario (default: 40 torn, 10 imports, 12 per crash, 1 sync)")
    ap.add_argument("--syncs", type=int, default=30, help="syncs per sync trial")
    ap.add_argument("--interval", type=float, default=0.2, help="seconds between two saves of the sync writer")
    ap.add_argument("--only", choices=SCENARIOS, action="append")
    ap.add_argument("--code", type=Path, default=HERE.parent, help="the labeler checkout to measure")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    random.seed(a.seed)
    e = Env(a.code.resolve())
    defaults = {"sync": 1, "torn": 40, "imports": 10, "bump": 12, "pair": 12, "commit": 12}
    report: dict = {"code": str(a.code), "results": {}}
    base = Path(tempfile.mkdtemp(prefix="labeler-races-"))
    try:
        for name in a.only or SCENARIOS:
            n = a.trials or defaults[name]
            full = None
            if name == "bump":
                full = timed(e, base / "t-bump", workspace, ["rubric", "bump", DS, "--no-edit", "--summary", "t"])
            elif name == "pair":
                full = timed(e, base / "t-pair", workspace, ["pair", DS, "--a", "golden", "--b", "summarizer-v2", "--into", "pp"])
            elif name == "commit":
                full = 1.0
            rows = []
            for t in range(n):
                tmp = base / f"{name}-{t}"
                tmp.mkdir()
                if name == "sync":
                    rows.append(sync_race(e, tmp, a.syncs, a.interval))
                elif name == "torn":
                    rows.append(torn_race(e, tmp))
                elif name == "imports":
                    rows.append(import_race(e, tmp))
                else:
                    rows.append({"bump": bump_crash, "pair": pair_crash, "commit": commit_crash}[name](e, tmp, full))
                shutil.rmtree(tmp, ignore_errors=True)
            total = {k: sum(r[k] for r in rows) for k in rows[0] if isinstance(rows[0][k], (int, bool))}
            total["trials"] = n
            total["why"] = sorted({r["why"] for r in rows if r.get("why")})[:3]
            report["results"][name] = total
            if not a.json:
                print(f"{name:8} " + "  ".join(f"{k} {v}" for k, v in total.items() if k != "why"), flush=True)
                for w in total["why"]:
                    print(f"         e.g. {w}")
    finally:
        shutil.rmtree(base, ignore_errors=True)
    if a.json:
        print(json.dumps(report, indent=2))
    bad = sum(r.get("lost", 0) + r.get("lost_on_remote", 0) + r.get("bad", 0) + r.get("internal_error", 0)
              for r in report["results"].values())
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
