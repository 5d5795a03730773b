"""Drift and coverage of production inputs: two covered topics and one the golden set never tested."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pytest

from fake_openai import FakeOpenAI
from labeler import cli
from labeler.stats.drift import analyse, centroid_distance, local_embed
from labeler.truth.models import Case
from labeler.dataset import open_dataset

BILLING = ["I was charged twice for my invoice this month", "refund the duplicate charge on my card please",
           "my invoice shows a double charge for the pro plan", "billing charged me twice, I want a refund"]
LOGIN = ["I cannot log in after resetting my password", "password reset email never arrives, cannot login",
         "locked out of my account after the password change", "login fails with the new password"]
SHIPPING = ["where is my parcel, the tracking number shows nothing", "my package delivery is late by two weeks",
            "the courier lost my parcel and tracking is stuck", "shipping delay: parcel not delivered yet",
            "tracking says delivered but no package arrived"]


@pytest.fixture
def topics(tmp_path: Path) -> Path:
    """A workspace whose golden set covers billing and login; production also asks about shipping."""
    ws = tmp_path / "ws"
    (ws / "rubrics" / "tiny").mkdir(parents=True)
    from conftest import SMALL_RUBRIC

    (ws / "rubrics" / "tiny" / "v1.yaml").write_text(SMALL_RUBRIC)
    d = ws / "datasets" / "topics"
    d.mkdir(parents=True)
    (d / "dataset.yaml").write_text("name: topics\nrubric: tiny\nrubric_version: 1\n")
    ds = open_dataset(d)
    ds.add_cases([Case(id=f"g{i}", input=t, output="summary") for i, t in enumerate(BILLING[:3] + LOGIN[:3])])
    prod = tmp_path / "prod.jsonl"
    prod.write_text("".join(json.dumps({"input": t, "output": "o"}) + "\n" for t in BILLING[1:] + LOGIN[1:] + SHIPPING))
    return ws


def test_the_uncovered_topic_is_found_and_proposed(topics: Path, tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(topics)
    assert cli.main(["drift", "topics", str(tmp_path / "prod.jsonl"), "--propose", "2", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    uncovered = {x for c in r["clusters"] for x in c["examples"]}
    assert uncovered and uncovered <= set(SHIPPING)  # only shipping is uncovered
    assert r["clusters"][0]["size"] >= 3 and r["covered_share"] < 1.0
    assert len(r["proposals"]) == 2 and set(r["proposals"]) <= set(SHIPPING)
    assert list((topics / "datasets" / "topics" / "drift").glob("*.yaml"))  # the run is recorded


def _ngrams(text: str) -> list[str]:
    """The documented n-grams: character 3-, 4- and 5-grams of the lower-cased text, whitespace folded, padded by a space."""
    s = " " + " ".join(text.lower().split()) + " "
    return [s[k:k + n] for n in (3, 4, 5) for k in range(len(s) - n + 1)]


def _oracle(golden: list[str], prod: list[str], hashed: bool) -> float:
    """The drift score from the documented formula, written here from scratch: per text, the count of each
    n-gram (or, hashed, the signed count of each crc32 % 4096 bucket, + when bit 31 is set); the weight
    sign(c) * log(1 + |c|) * (log((1 + docs) / (1 + df)) + 1) with df over the golden set; L2-normalized;
    one minus the cosine of the two centroids."""
    import zlib

    def counts(text):
        out: dict = {}
        for g in _ngrams(text):
            if hashed:
                h = zlib.crc32(g.encode())
                key, step = h % 4096, (1 if h >= 2 ** 31 else -1)
            else:
                key, step = g, 1
            out[key] = out.get(key, 0) + step
        return out

    gc, pc = [counts(t) for t in golden], [counts(t) for t in prod]
    keys = sorted({k for c in gc + pc for k in c}, key=str)
    col = {k: i for i, k in enumerate(keys)}
    df = np.zeros(len(keys))
    for c in gc:
        for k, v in c.items():
            df[col[k]] += v != 0
    idf = np.log((1 + len(golden)) / (1 + df)) + 1

    def vectors(cs):
        m = np.zeros((len(cs), len(keys)))
        for i, c in enumerate(cs):
            for k, v in c.items():
                m[i, col[k]] = np.sign(v) * np.log(1 + abs(v)) * idf[col[k]]
        return m / np.linalg.norm(m, axis=1, keepdims=True)

    a, b = vectors(pc).mean(axis=0), vectors(gc).mean(axis=0)
    return 1 - a @ b / (np.linalg.norm(a) * np.linalg.norm(b))


def test_drift_score_matches_the_documented_formula_computed_here():
    golden, prod = BILLING + LOGIN, SHIPPING + BILLING[:1]
    g, p = local_embed([golden, prod])
    score = analyse(prod, p, g, [f"g{i}" for i in range(len(g))], threshold=None).score
    assert score == pytest.approx(_oracle(golden, prod, hashed=True), abs=1e-9)
    # hashing into 4,096 buckets barely moves it from the exact n-gram space (collisions are rare and signed)
    assert score == pytest.approx(_oracle(golden, prod, hashed=False), abs=0.02)


def test_drift_score_hand_computed_cases():
    g, p = local_embed([["Refund please"], ["  REFUND\tplease "]])  # case and whitespace are folded: the same text
    assert analyse(["x"], p, g, ["g0"], threshold=None).score == pytest.approx(0.0, abs=1e-12)
    g, p = local_embed([["abcd"], ["mnop"]])  # no n-gram in common (" ab" ... "abcd " against " mn" ... "mnop "),
    assert analyse(["x"], p, g, ["g0"], threshold=None).score == pytest.approx(1.0, abs=1e-12)  # and no bucket in common
    # " abcd " and " abce " share 3 of their 9 n-grams (" ab", "abc", " abc"), each once, all with the same
    # idf (both texts are the golden set, so every shared n-gram has df 2 and every other df 1): the cosine is
    # 3 w2^2 / (3 w2^2 + 6 w1^2), w = log(2) * idf
    w1, w2 = np.log(3 / 2) + 1, np.log(3 / 3) + 1
    cos = 3 * w2 ** 2 / (3 * w2 ** 2 + 6 * w1 ** 2)
    g, p = local_embed([["abcd", "abce"], ["abcd"]])
    assert analyse(["abcd"], p, g[1:], ["g1"], threshold=None).score == pytest.approx(1 - cos, abs=1e-9)


def test_embeddings_through_an_endpoint_are_cached(topics: Path, tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(topics)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with FakeOpenAI() as server:
        args = ["drift", "topics", str(tmp_path / "prod.jsonl"), "--embed", "openai", "--model", "fake-embed",
                "--base-url", server.base_url, "--json"]
        assert cli.main(args) == 0
        first = json.loads(capsys.readouterr().out)
        assert first["embedding_requests"] >= 1 and server.embedding_requests == first["embedding_requests"]
        assert cli.main(args) == 0
        again = json.loads(capsys.readouterr().out)
        assert again["embedding_requests"] == 0 and server.embedding_requests == first["embedding_requests"]  # no request
        assert again["score"] == first["score"]


def test_a_local_embeddings_server_needs_no_key_and_an_echoed_key_is_never_shown(topics: Path, tmp_path: Path,
                                                                                  monkeypatch, capsys):
    monkeypatch.chdir(topics)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with FakeOpenAI() as server:
        args = ["drift", "topics", str(tmp_path / "prod.jsonl"), "--embed", "openai", "--model", "fake-embed",
                "--base-url", server.base_url, "--json"]
        assert cli.main(args) == 0
        err = capsys.readouterr().err
        assert err.count("placeholder key") == 1 and server.embedding_requests >= 1
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-drift-key-123")
    with FakeOpenAI(refuse=(401, "Incorrect API key provided: {key}")) as server:
        args[args.index("--base-url") + 1] = server.base_url.replace("http://", "http://user:hunter2pass@")
        (tmp_path / "prod.jsonl").write_text((tmp_path / "prod.jsonl").read_text() + '{"input": "a new text"}\n')
        assert cli.main(args) == 1
        out = capsys.readouterr()
        assert "401" in out.err and "sk-secret-drift-key-123" not in out.err + out.out
        assert "hunter2pass" not in out.err + out.out and "[redacted]" in out.err


def test_into_adds_valid_cases_and_never_a_duplicate(topics: Path, tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(topics)
    args = ["drift", "topics", str(tmp_path / "prod.jsonl"), "--propose", "3", "--into", "topics", "--tier", "regression",
            "--json"]
    assert cli.main(args) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["added_cases"] == 3
    ds = open_dataset(topics / "datasets" / "topics")
    new = [ds.cases[c] for c in ds.cases if not c.startswith("g")]
    assert len(new) == 3 and all(c.tier.value == "regression" and c.tags == ["drift"] and c.source == "drift:prod.jsonl"
                                 and c.added is not None for c in new)
    assert cli.main(args) == 0  # again: the same proposals are cases now
    assert json.loads(capsys.readouterr().out)["added_cases"] == 0
    assert len(open_dataset(topics / "datasets" / "topics").cases) == 9


WORDS = {t: [f"{t}{k}" for k in range(40)] for t in ("alpha", "bravo", "charlie", "delta", "echo")}


def _texts(rng, n: int, topics: list[str]) -> list[str]:
    """Synthetic inputs: 8 words of one topic's vocabulary each."""
    return [" ".join(rng.choice(WORDS[topics[int(rng.integers(len(topics)))]], size=8)) for _ in range(n)]


@pytest.fixture
def big(tmp_path: Path) -> Path:
    """A golden set of 120 inputs on four topics."""
    ws = tmp_path / "big"
    (ws / "rubrics" / "tiny").mkdir(parents=True)
    from conftest import SMALL_RUBRIC

    (ws / "rubrics" / "tiny" / "v1.yaml").write_text(SMALL_RUBRIC)
    d = ws / "datasets" / "big"
    d.mkdir(parents=True)
    (d / "dataset.yaml").write_text("name: big\nrubric: tiny\nrubric_version: 1\n")
    rng = np.random.default_rng(0)
    open_dataset(d).add_cases([Case(id=f"g{i}", input=t, output="o")
                               for i, t in enumerate(_texts(rng, 120, ["alpha", "bravo", "charlie", "delta"]))])
    return ws


def _prod(path: Path, texts: list[str]) -> Path:
    path.write_text("".join(json.dumps({"input": t}) + "\n" for t in texts))
    return path


@pytest.mark.parametrize("n", [5, 10, 200])
def test_max_drift_is_quiet_without_drift_whatever_the_number_of_inputs(big: Path, tmp_path: Path, monkeypatch, capsys, n):
    """Drawn like the golden set: once the score at 5 inputs alarmed 20 times in 20 (0.32 against a fixed 0.15)."""
    monkeypatch.chdir(big)
    prod = _prod(tmp_path / "p.jsonl", _texts(np.random.default_rng(n), n, ["alpha", "bravo", "charlie", "delta"]))
    assert cli.main(["drift", "big", str(prod), "--max-drift", "0", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["score"] <= r["no_drift_reference"]["p95"] and not r["alert"]
    assert r["no_drift_reference"]["p95"] > (0.1 if n <= 10 else 0.0)


def test_max_drift_alarms_on_a_real_shift(big: Path, tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(big)
    rng = np.random.default_rng(1)
    prod = _prod(tmp_path / "p.jsonl", _texts(rng, 30, ["alpha", "bravo", "charlie", "delta"]) + _texts(rng, 30, ["echo"]))
    assert cli.main(["drift", "big", str(prod), "--max-drift", "0"]) == 1
    err = capsys.readouterr().err
    assert "is above" in err and "no-drift reference at 60 inputs" in err
    assert cli.main(["drift", "big", str(prod), "--max-drift", "0.9"]) == 0  # a margin this wide lets it through
    capsys.readouterr()


def test_the_space_is_the_golden_sets_whatever_the_production_file():
    golden = BILLING + LOGIN
    g1, _ = local_embed([golden, SHIPPING])
    g2, _ = local_embed([golden, ["something else entirely", "and more"]])
    assert np.array_equal(g1, g2)  # the golden vectors (so the threshold) do not move with the production file


def test_disjoint_vocabularies_are_as_far_apart_as_can_be():
    rng = np.random.default_rng(0)
    en = [" ".join(rng.choice(["invoice", "charge", "refund", "password", "login", "parcel", "tracking", "delivery", "account",
                               "plan", "cancel", "subscription", "email", "reset", "card", "order"], 8)) for _ in range(100)]
    gr = [" ".join(rng.choice(["παραγγελία", "επιστροφή", "χρημάτων", "χρέωση", "συνδεθώ", "λογαριασμό", "κωδικός", "αποστολή",
                               "δέμα", "κάρτα", "συνδρομή", "ακύρωση"], 8)) for _ in range(100)]
    g, p = local_embed([en, gr])
    # no n-gram in common: orthogonal centroids (0.94 with unsigned hashing, collisions made them look alike)
    assert centroid_distance(p, g) == pytest.approx(1.0, abs=0.03)


def test_the_report_shows_drift_over_time(topics: Path, tmp_path: Path, monkeypatch, capsys):
    from labeler.report_formats import markdown
    from labeler.stats.report import build_report

    monkeypatch.chdir(topics)
    assert cli.main(["drift", "topics", str(tmp_path / "prod.jsonl"), "--json"]) == 0
    capsys.readouterr()
    r = build_report(open_dataset(topics / "datasets" / "topics"), replicates=20)
    assert len(r["drift"]["runs"]) == 1 and r["drift"]["latest_clusters"][0]["size"] >= 3
    assert "## Drift of production inputs" in markdown(r)


def test_inputs_as_new_to_the_golden_set_as_its_cases_are_to_each_other_are_no_drift():
    """Golden cases and production inputs are order numbers: no two share an n-gram, old or new, so nothing
    moved. The reference once resampled golden cases against themselves (a text always has its own n-grams),
    so it expected about 0.86 where real runs score 0.98-1.0 and alarmed 20 runs in 20; held out, it does not."""
    def orders(rng, n):
        return ["".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz0123456789"), 14)) for _ in range(n)]

    alarms = _alarms_in_20_runs(orders)
    assert alarms <= 3


def test_the_drift_simulation_runs_and_reports_its_rates():
    """benchmarks/drift_sim.py, tiny: its real run prints the false alarms and power quoted in docs/numbers.md."""
    import subprocess
    import sys

    bench = Path(__file__).resolve().parent.parent / "benchmarks" / "drift_sim.py"
    out = subprocess.run([sys.executable, str(bench), "--sims", "2", "--json"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    r = json.loads(out.stdout)
    assert [x["n"] for x in r["no_drift"]] == [5, 10, 30, 60, 200] and [x["n"] for x in r["shift"]] == [30, 60]
    assert all(x["alarm_ci95"][0] <= x["alarm_rate"] <= x["alarm_ci95"][1] for x in r["no_drift"] + r["shift"])


@functools.cache
def _pool() -> tuple[np.ndarray, np.ndarray]:
    """Term weights of 1,500 inputs on four topics and 150 on a fifth."""
    from labeler.stats.drift import local_tf

    rng = np.random.default_rng(0)
    return local_tf(_texts(rng, 1500, ["alpha", "bravo", "charlie", "delta"])), local_tf(_texts(rng, 150, ["echo"]))


def _alarms(sims: int, n: int, shifted: int, seed: int) -> int:
    """Runs of `drift --max-drift 0`'s numbers (score against the reference at n, local embedding) that alarm:
    each a new golden set of 120 and n production inputs, drawn from one pool of embedded texts on four topics
    (shifted of them from a fifth topic the golden set never had)."""
    from labeler.stats.drift import embed_tf, no_drift_reference, upper_quantile

    seen, new = _pool()
    rng = np.random.default_rng(seed)
    alarms = 0
    for s in range(sims):
        gtf = seen[rng.choice(len(seen), 120, replace=False)]
        g, p = embed_tf([gtf, np.vstack([seen[rng.integers(0, len(seen), n - shifted)], new[rng.integers(0, len(new), shifted)]])])
        alarms += centroid_distance(p, g) > upper_quantile(no_drift_reference(g, n, s, golden_tf=gtf))
    return alarms


def test_the_reference_alarms_about_one_run_in_twenty_when_nothing_moved():
    """Its null is the real score's: 200 new inputs against a golden set of 120. Both sides are drawn from the golden
    cases (so a golden set's own noise is in it, also at n >= G), never a case against itself. The half-split
    reference (a half golden set is noisier than the whole) alarmed 0 runs in 100 here: deaf to small shifts."""
    assert 1 <= _alarms(100, 200, 0, 200) <= 12  # about 5; 0 or more than 12 in 100 are each under 1% likely at 5%


def test_a_tenth_of_the_inputs_on_a_new_topic_alarms_often_at_200_inputs():
    """20 of 200 inputs on a topic the golden set never had: 0 runs in 40 alarmed with the half-split reference."""
    assert _alarms(40, 200, 20, 7) >= 8  # about 40% of runs


def test_a_drawn_case_is_weighed_as_a_new_input_with_the_idf_of_the_others():
    """Inputs share a template and end in an order number no other text has. A real input's number weighs what an
    unseen n-gram weighs; a golden case weighed with an IDF that counts it makes its own number lighter, so it
    looks nearer the others than a real input is: that reference alarmed 20 runs in 20."""
    def orders(rng, n):
        return ["where is my order " + "".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz0123456789"), 10)) for _ in range(n)]

    alarms = _alarms_in_20_runs(orders)
    assert alarms <= 4


def _alarms_in_20_runs(orders) -> int:
    """How many of 20 seeded runs (40 golden inputs, 10 production inputs, both from `orders`) alarm."""
    from labeler.stats.drift import local_tf

    alarms = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        golden, prod = orders(rng, 40), orders(rng, 10)
        g, p = local_embed([golden, prod])
        r = analyse(prod, p, g, [f"g{i}" for i in range(40)], None, seed=seed, golden_tf=local_tf(golden))
        alarms += r.score > r.reference
    return alarms
