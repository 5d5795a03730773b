"""Does the golden set still cover what users ask? Production inputs against the golden set's inputs.

Embeddings come from any OpenAI-compatible embeddings endpoint (batched, cached per text hash under
.cache/, so a second run asks for nothing it has), or from a local embedding that needs no network:
character 3-5-grams hashed with a sign into 4,096 buckets (collisions cancel on average, so texts with
no n-gram in common are orthogonal on average: two short words may still share a bucket and score 0.93 or
1.07), TF-IDF weighted with document frequencies of the golden set alone (one space per golden set, whatever
the production file), L2-normalized (numpy only).

- drift score: cosine distance between the centroid of production inputs and of golden inputs;
- the no-drift reference at this n: what the score is when n new inputs drawn like the golden set's G cases
  meet a golden set of G. Each of 200 resamples (seeded) draws n cases and G cases from the golden set with
  replacement, and scores them from the similarities of different cases only (a case is never compared with
  itself, as no real input is); with the local embedding a case playing production is weighed with the IDF of
  the other cases (its n-grams no other case has weigh what a real input's unseen n-grams weigh). The alert is
  a score above the reference's upper 5% point (plus an optional margin), so it means the same at 5 inputs as
  at 500: about 5% false alarms when nothing moved (benchmarks/drift_sim.py measures it);
- coverage: a production input is covered when its nearest golden case is within the threshold
  (default: the 95th percentile of each golden case's distance to its nearest other golden case,
  so "as close as golden cases are to each other");
- the uncovered inputs are grouped with k-means (seeded, k-means++), largest first, a few examples each;
- proposals: N uncovered inputs, round-robin over the clusters from the largest, each pick the one
  farthest from those already picked in its cluster (diverse within a cluster).
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

DIM = 4096
MAX_TEXT = 20_000
"""Characters of one text the local embedding reads (whitespace folded): a user's question is far
shorter, and a 50 MB line would take minutes (one hash per character per n-gram size)."""
LOCAL_SPACE = "local char 3-5-grams, signed hashing into 4096 buckets, tf-idf fitted on the golden set"
REFERENCE_RESAMPLES = 200


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:24]


# ---------------------------------------------------------------- embeddings


def local_counts(texts: list[str]) -> np.ndarray:
    """texts x DIM: signed counts of hashed character 3- to 5-grams (lower-cased, whitespace folded)."""
    out = np.zeros((len(texts), DIM), dtype=np.float64)
    for i, t in enumerate(texts):
        s = " " + " ".join(t[:4 * MAX_TEXT].lower().split())[:MAX_TEXT] + " "
        hs = np.asarray([zlib.crc32(s[k:k + n].encode("utf-8", "surrogatepass"))
                         for n in (3, 4, 5) for k in range(max(0, len(s) - n + 1))], dtype=np.int64)
        signs = np.where(hs >> 31, 1.0, -1.0)
        out[i] = np.bincount(hs % DIM, weights=signs, minlength=DIM)
    return out


def local_tf(texts: list[str]) -> np.ndarray:
    """texts x DIM: the term weight of each signed count, sign(c) * log(1 + |c|), before the IDF."""
    c = local_counts(texts)
    return np.sign(c) * np.log1p(np.abs(c))


def idf(tf: np.ndarray) -> np.ndarray:
    """Smoothed inverse document frequency of each bucket over these rows: log((1 + docs) / (1 + df)) + 1."""
    return np.log((1 + len(tf)) / (1 + (tf != 0).sum(axis=0))) + 1.0


def _normalized(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


def embed_tf(tfs: list[np.ndarray]) -> list[np.ndarray]:
    """TF-IDF with the document frequencies of the first group (the golden set), L2-normalized per text:
    the space depends on the golden set only, so runs against different production files compare."""
    w = idf(tfs[0] if tfs else np.zeros((0, DIM)))
    return [_normalized(t * w) for t in tfs]


def local_embed(groups: list[list[str]]) -> list[np.ndarray]:
    """The local embedding of each group of texts, in the space of the first (the golden set)."""
    return embed_tf([local_tf(g) for g in groups])


class EmbeddingCache:
    """text hash -> vector, one file per model under .cache/embeddings/ (saved after every batch: resumable).

    Stored in the cache format of derived/cache.py (a matrix of float64, never a pickle), and checked
    on load: a file that is not one, or vectors of unequal lengths, start an empty cache."""

    def __init__(self, folder: Path | None, model: str):
        from labeler.derived.cache import loads

        self.path = folder / f"{hashlib.sha256(model.encode()).hexdigest()[:16]}.cache" if folder is not None else None
        self.vectors: dict[str, np.ndarray] = {}
        try:
            data = loads(self.path.read_bytes())
            hashes, matrix = data["hashes"], data["vectors"]
            if (all(type(h) is str for h in hashes) and matrix.dtype == np.float64 and matrix.ndim == 2
                    and matrix.shape[0] == len(hashes)):
                self.vectors = dict(zip(hashes, matrix))
        except Exception:  # missing or unreadable: start empty, never trust a broken cache
            pass

    def save(self) -> None:
        from labeler.derived.cache import dumps, write_atomic

        if self.path is None or not self.vectors:
            return
        try:
            matrix = np.vstack(list(self.vectors.values())).astype(np.float64)
        except ValueError:
            return  # vectors of unequal lengths are refused before they get here
        write_atomic(self.path, dumps({"hashes": list(self.vectors), "vectors": matrix}))


def remote_embed(groups: list[list[str]], embed_batch: Callable[[list[str]], list[list[float]]], cache: EmbeddingCache,
                 batch: int = 64) -> tuple[list[np.ndarray], int]:
    """Vectors from an endpoint, asking only for texts not in the cache; (vectors per group, requests made)."""
    todo = list(dict.fromkeys(t for g in groups for t in g if text_hash(t) not in cache.vectors))
    requests = 0
    for i in range(0, len(todo), batch):
        chunk = todo[i:i + batch]
        vecs = embed_batch(chunk)
        requests += 1
        if len(vecs) != len(chunk):
            from labeler.errors import LabelerError

            raise LabelerError(f"the embeddings endpoint answered {len(vecs)} vectors for {len(chunk)} texts")
        for t, v in zip(chunk, vecs):
            vec = _vector(v)
            dim = len(next(iter(cache.vectors.values()), vec))
            if len(vec) != dim:
                from labeler.errors import LabelerError

                raise LabelerError(f"the embeddings endpoint answered vectors of {dim} and of {len(vec)} numbers; "
                                   "every vector of one model must have the same length")
            cache.vectors[text_hash(t)] = vec
        cache.save()
    out = []
    for g in groups:
        m = np.vstack([cache.vectors[text_hash(t)] for t in g]) if g else np.zeros((0, 1))
        out.append(m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12))
    return out, requests


def _vector(v) -> np.ndarray:
    """One embedding as a flat array of finite numbers, or a one-line error."""
    try:
        vec = np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError):
        vec = None
    if vec is None or vec.ndim != 1 or not len(vec) or not np.isfinite(vec).all():
        from labeler.errors import LabelerError

        raise LabelerError("the embeddings endpoint answered something that is not a vector of numbers")
    return vec


# ---------------------------------------------------------------- the numbers


def centroid_distance(a: np.ndarray, b: np.ndarray) -> float:
    ca, cb = a.mean(axis=0), b.mean(axis=0)
    denom = np.linalg.norm(ca) * np.linalg.norm(cb)
    return float(1.0 - (ca @ cb) / denom) if denom else 1.0


def new_text_vectors(golden_tf: np.ndarray) -> np.ndarray:
    """Each golden case's local vector as a new input would have it: TF-IDF with the document frequencies of the
    other cases (its n-grams no other case has weigh what a production input's unseen n-grams weigh), L2-normalized."""
    nz = golden_tf != 0
    return _normalized(golden_tf * (np.log(len(golden_tf) / (1 + nz.sum(axis=0) - nz)) + 1.0))


def no_drift_reference(golden: np.ndarray, n: int, seed: int = 0, resamples: int = REFERENCE_RESAMPLES,
                       golden_tf: np.ndarray | None = None) -> np.ndarray:
    """Drift scores when nothing moved: n new inputs drawn like the golden set's G cases, against G other such cases.

    The score is 1 - s_pg / (|c_p| |c_g|), where s_pg is the mean similarity of a production input and a golden
    case, |c_p|^2 = mean|p|^2 / n + (1 - 1/n) s_pp with s_pp the mean similarity of two different inputs, and
    likewise |c_g|^2 at G. Each resample draws both sides from the golden cases with replacement (n, and G: the
    noise of n new inputs and of a golden set of G, at any n, also n >= G) and counts the pairs of different cases
    only: a case drawn on both sides, or twice, is never compared with itself, as a real input never is (it would be
    nearer than any new text). With `golden_tf` (the local embedding) a case plays production weighed with the IDF
    of the other cases (new_text_vectors), as a real input is weighed with an IDF it had no part in."""
    g = len(golden)
    if g < 2:
        return np.ones(resamples)  # one golden case: no way to know what "nothing moved" scores
    q = golden if golden_tf is None else new_text_vectors(golden_tf)
    used = (q != 0).any(axis=0) | (golden != 0).any(axis=0)
    if used.mean() < 0.5:  # buckets no case has add nothing to any product: a small golden set uses few
        q, golden = q[:, used], golden[:, used]
    rng = np.random.default_rng(seed)
    cp, cg = np.zeros((resamples, g)), np.zeros((resamples, g))
    for r in range(resamples):
        cp[r] = np.bincount(rng.integers(0, g, n), minlength=g)
        cg[r] = np.bincount(rng.integers(0, g, g), minlength=g)
    sp, sg = cp @ q, cg @ golden

    def dot(x, y):
        return np.einsum("ij,ij->i", x, y)

    def mean_over_different(total, a, b, self_products, pairs):
        same = (a * b) @ self_products  # products of a case with itself, left out
        n_pairs = pairs - (a * b).sum(axis=1)
        return np.where(n_pairs > 0, (total - same) / np.maximum(n_pairs, 1), 0.0)

    qq, gg, qg = dot(q, q), dot(golden, golden), dot(q, golden)
    s_pg = mean_over_different(dot(sp, sg), cp, cg, qg, n * g)
    c_p2 = cp @ qq / n ** 2 + (1 - 1 / n) * mean_over_different(dot(sp, sp), cp, cp, qq, n * n)
    c_g2 = cg @ gg / g ** 2 + (1 - 1 / g) * mean_over_different(dot(sg, sg), cg, cg, gg, g * g)
    denom = np.sqrt(np.maximum(c_p2, 0.0) * np.maximum(c_g2, 0.0))
    cos = np.clip(s_pg / np.where(denom > 0, denom, 1.0), -1.0, 1.0)
    return np.where(denom > 0, 1.0 - cos, 1.0)


def upper_quantile(null: np.ndarray, level: float = 0.95) -> float:
    """The ceil(level * (B + 1))-th smallest of B null scores: a score above it has a resampling p-value
    (1 + #null >= score) / (1 + B) under 1 - level, so the Monte Carlo noise of B resamples never adds false alarms."""
    k = int(np.ceil(level * (len(null) + 1)))
    return float(np.sort(null)[min(k, len(null)) - 1])


def nearest(prod: np.ndarray, golden: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cosine distance to the nearest golden case, its index) for each production input."""
    sims = prod @ golden.T
    idx = sims.argmax(axis=1)
    return 1.0 - sims[np.arange(len(prod)), idx], idx


def default_threshold(golden: np.ndarray, golden_tf: np.ndarray | None = None) -> float:
    """The 95th percentile of each golden case's distance to its nearest other golden case. With the local
    embedding's term weights, each case is weighed as a new input would be (the IDF of the other cases: its
    n-grams no other case has weigh what a production input's unseen n-grams weigh), else it is nearer its
    neighbours than production inputs are to theirs and about 92% of inputs drawn like the golden set are covered."""
    g = len(golden)
    if g < 2:
        return 0.5
    queries = golden if golden_tf is None else new_text_vectors(golden_tf)
    sims = queries @ golden.T
    np.fill_diagonal(sims, -np.inf)
    return float(np.percentile(1.0 - sims.max(axis=1), 95))


def kmeans(x: np.ndarray, k: int, seed: int = 0, iters: int = 50) -> np.ndarray:
    """Cluster labels (k-means++ start, cosine geometry on normalized rows)."""
    n = len(x)
    k = max(1, min(k, n))
    rng = np.random.default_rng(seed)
    centers = [x[rng.integers(0, n)]]
    for _ in range(1, k):
        d = np.min(np.stack([1.0 - x @ c for c in centers]), axis=0).clip(0)
        p = d / d.sum() if d.sum() > 0 else np.full(n, 1.0 / n)
        centers.append(x[rng.choice(n, p=p)])
    c = np.stack(centers)
    labels = np.zeros(n, dtype=int)
    for _ in range(iters):
        new = (x @ c.T).argmax(axis=1)
        if (new == labels).all() and _ > 0:
            break
        labels = new
        for j in range(k):
            members = x[labels == j]
            if len(members):
                m = members.mean(axis=0)
                c[j] = m / max(np.linalg.norm(m), 1e-12)
    return labels


@dataclass
class DriftResult:
    score: float
    reference: float
    """The 95th percentile of the drift score when nothing moved, at this many production inputs (see upper_quantile)."""
    p_value: float
    """Share of no-drift resamples scoring at least this much."""
    threshold: float
    covered_share: float
    distances: np.ndarray
    nearest_case: list[str]
    clusters: list[dict] = field(default_factory=list)
    proposals: list[int] = field(default_factory=list)


def analyse(prod_texts: list[str], prod: np.ndarray, golden: np.ndarray, golden_ids: list[str], threshold: float | None,
            propose: int = 0, seed: int = 0, max_clusters: int = 8, golden_tf: np.ndarray | None = None) -> DriftResult:
    """golden_tf: the golden set's local term weights (local_tf), so the reference and the default threshold
    refit the IDF as a real run does; None for an endpoint's vectors."""
    score = centroid_distance(prod, golden)
    null = no_drift_reference(golden, len(prod), seed, golden_tf=golden_tf)
    reference, p_value = upper_quantile(null), float((1 + (null >= score).sum()) / (1 + len(null)))
    thr = default_threshold(golden, golden_tf) if threshold is None else threshold
    dist, idx = nearest(prod, golden)
    uncovered = np.flatnonzero(dist > thr)
    clusters, proposals = [], []
    if len(uncovered):
        k = min(max_clusters, max(1, int(np.sqrt(len(uncovered)))), len(uncovered))
        labels = kmeans(prod[uncovered], k, seed)
        groups = sorted((uncovered[labels == j] for j in range(k) if (labels == j).any()), key=lambda g: (-len(g), int(g[0])))
        for g in groups:
            clusters.append({"size": int(len(g)), "members": [int(i) for i in g],
                             "examples": [prod_texts[i] for i in g[:3]],
                             "mean_distance": round(float(dist[g].mean()), 4)})
        picks: list[list[int]] = [[] for _ in groups]
        while len(proposals) < min(propose, len(uncovered)):
            for gi, g in enumerate(groups):
                if len(proposals) >= propose or len(picks[gi]) >= len(g):
                    continue
                if not picks[gi]:  # start from the input farthest from the golden set
                    choice = int(g[np.argmax(dist[g])])
                else:  # then the one farthest from what this cluster already gave
                    chosen = prod[picks[gi]]
                    rest = [i for i in g if i not in picks[gi]]
                    far = (1.0 - prod[rest] @ chosen.T).min(axis=1)
                    choice = int(rest[int(np.argmax(far))])
                picks[gi].append(choice)
                proposals.append(choice)
    return DriftResult(score, reference, p_value, thr, float((dist <= thr).mean()) if len(dist) else 1.0, dist,
                       [golden_ids[i] for i in idx], clusters, proposals)
