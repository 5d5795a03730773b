"""`labeler drift`: does the golden set still cover production inputs, and what to label next."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from datetime import date
from pathlib import Path

from labeler.cli.common import EXIT_FAIL, EXIT_OK, _console, _fraction, _name, _open, _positive, _relative
from labeler.errors import LabelerError, UsageError


def cmd_drift(a: argparse.Namespace) -> int:
    from labeler.stats.drift import (LOCAL_SPACE, MAX_TEXT, REFERENCE_RESAMPLES, EmbeddingCache, analyse, embed_tf,
                                      local_tf, remote_embed, text_hash)
    from labeler.truth.importer import as_text, read_rows

    ds = _open(a.dataset)
    path = Path(a.file)
    rows = [(line, row) for line, row in read_rows(path)]
    prod, prod_out = [], []
    for line, row in rows:
        if row.get(a.input_field) in (None, ""):
            sys.stderr.write(f"{_relative(path)}:{line}: no {a.input_field!r} field: left out\n")
            continue
        prod.append(as_text(row[a.input_field]))
        if a.embed == "local" and len(prod[-1]) > MAX_TEXT:
            sys.stderr.write(f"{_relative(path)}:{line}: input of {len(prod[-1]):,} characters: "
                             f"its first {MAX_TEXT:,} are compared\n")
        prod_out.append(as_text(row[a.output_field]) if row.get(a.output_field) not in (None,) else "")
    if not prod:
        raise LabelerError(f"{path}: no production inputs (field {a.input_field!r})")
    golden_ids = list(ds.cases.ids)
    golden = [ds.cases.case(j).input for j in range(len(golden_ids))]
    if not golden:
        raise LabelerError(f"{ds.name} has no cases to compare with")
    requests, g_tf = 0, None
    if a.embed == "local":
        g_tf = local_tf(golden)
        g_vec, p_vec = embed_tf([g_tf, local_tf(prod)])
        model = LOCAL_SPACE
    else:
        if not a.model:
            raise UsageError("--embed openai needs --model (the embeddings model your endpoint serves)")
        from labeler.judge.keys import api_key, base_url, key_note, named_url, public_url, redact, secrets

        note = key_note(a.base_url, a.api_key_env)  # before openai's import: a missing key is said at once
        import openai

        if note:  # a local server needs no key: a placeholder is sent, said once
            sys.stderr.write(note + "\n")
        hide = secrets(a.base_url, a.api_key_env)
        client = openai.OpenAI(api_key=api_key(a.api_key_env, named_url(a.base_url)), base_url=a.base_url,
                               max_retries=2, timeout=60)

        def batch(texts: list[str]) -> list[list[float]]:
            try:
                resp = client.embeddings.create(model=a.model, input=texts)
            except openai.APIError as e:  # an endpoint may echo the key or the URL's password: never shown
                raise LabelerError(redact(f"embeddings endpoint {public_url(base_url(a.base_url))}: {e}", hide)) from None
            return [d.embedding for d in sorted(resp.data, key=lambda d: d.index)]

        cache = EmbeddingCache(ds.cache_dir / "embeddings" if ds.cache_dir else None, f"{public_url(base_url(a.base_url))}|{a.model}")
        (g_vec, p_vec), requests = remote_embed([golden, prod], batch, cache)
        model = a.model
    result = analyse(prod, p_vec, g_vec, golden_ids, a.threshold, a.propose or 0, a.seed, golden_tf=g_tf)
    file_hash = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    margin = a.max_drift or 0.0
    alert = result.score > result.reference + margin
    record = {"date": date.today().isoformat(), "file": path.name, "file_hash": file_hash, "embed": a.embed, "model": model,
              "space": {"fitted_on": "golden set", "golden_inputs": len(golden),
                        "golden_hash": text_hash("\n".join(sorted(text_hash(t) for t in golden)))},
              "production_inputs": len(prod), "score": round(result.score, 4),
              "no_drift_reference": {"p95": round(result.reference, 4), "p_value": round(result.p_value, 4),
                                     "resamples": REFERENCE_RESAMPLES, "seed": a.seed, "margin": margin,
                                     "method": "n and G golden cases drawn with replacement, a case never against itself"},
              "alert": bool(alert), "threshold": round(result.threshold, 4),
              "covered_share": round(result.covered_share, 4),
              "clusters": [{"size": c["size"], "mean_distance": c["mean_distance"], "examples": c["examples"]} for c in result.clusters],
              "proposals": [prod[i] for i in result.proposals]}
    from labeler.truth.yamlio import atomic_write, dump_fast

    run_path = ds.path / "drift" / f"{record['date']}-{file_hash}.yaml"
    atomic_write(run_path, f"# drift of {ds.name} against {path.name}\n" + dump_fast(record))
    added = 0
    if a.into:
        added = _propose_into(ds, a, prod, prod_out, result.proposals, path)
    if a.json:
        print(json.dumps({**record, "embedding_requests": requests, "added_cases": added,
                          "per_sample": [{"input": p[:200], "distance": round(float(d), 4), "nearest_case": n}
                                         for p, d, n in zip(prod, result.distances, result.nearest_case)]}, indent=2))
    else:
        from rich.table import Table

        from labeler.safetext import one_line

        con = _console()
        con.print(f"drift score {result.score:.3f} (centroid cosine distance; with no drift, {len(prod)} inputs score "
                  f"under {result.reference:.3f} 95% of the time, p={result.p_value:.3f}; alert above "
                  f"{result.reference + margin:.3f})"
                  f" · {result.covered_share:.0%} of {len(prod)} production inputs covered (nearest golden case within "
                  f"{result.threshold:.3f}) · recorded in {_relative(run_path)}")
        t = Table(title="uncovered production inputs, by cluster", title_justify="left")
        for col in ("size", "mean distance", "examples"):
            t.add_column(col)
        for c in result.clusters:
            t.add_row(str(c["size"]), f"{c['mean_distance']:.3f}", "\n".join(one_line(x, 90) for x in c["examples"]))
        con.print(t)
        for i in result.proposals:
            con.print(f"propose: {one_line(prod[i], 110)}")
        if a.into:
            con.print(f"added {added} case(s) to {a.into}")
    if alert:
        sys.stderr.write(f"drift {result.score:.3f} is above {result.reference + margin:.3f}: the no-drift reference at "
                         f"{len(prod)} inputs ({result.reference:.3f}, p={result.p_value:.3f}) plus the margin {margin:.2f}\n")
    return EXIT_FAIL if alert and a.max_drift is not None else EXIT_OK


def _propose_into(ds, a, prod: list[str], prod_out: list[str], picks: list[int], path: Path) -> int:
    from labeler.truth.models import Case, content_hash_of

    target = ds if a.into == ds.name else _open(a.into)
    seen = set(target.cases.hashes)
    inputs = {hashlib.sha256(target.cases.case(j).input.encode("utf-8", "surrogatepass")).hexdigest() for j in range(len(target.cases))}
    new = []
    for i in picks:
        h = content_hash_of(prod[i], prod_out[i])
        ih = hashlib.sha256(prod[i].encode("utf-8", "surrogatepass")).hexdigest()
        if h in seen or ih in inputs:
            continue  # never a duplicate: the same input is already a case
        seen.add(h)
        inputs.add(ih)
        new.append(Case(id=f"c-{h[:10]}", input=prod[i], output=prod_out[i], tier=a.tier, tags=list(a.tag or ["drift"]),
                        source=f"drift:{path.name}", added=date.today()))
    if new:
        target.add_cases(new)
    return len(new)


def register(add) -> None:
    sp = add("drift", cmd_drift)
    sp.add_argument("dataset")
    sp.add_argument("file", help="recent production inputs (JSONL or CSV)")
    sp.add_argument("--input-field", default="input")
    sp.add_argument("--output-field", default="output", help="kept as the output of proposed cases, when present")
    sp.add_argument("--embed", default="local", choices=["local", "openai"], help="local (no network; default) or an embeddings endpoint")
    sp.add_argument("--model", default=None, help="with --embed openai: the embeddings model")
    sp.add_argument("--base-url", default=None, help="with --embed openai: an OpenAI-compatible endpoint")
    sp.add_argument("--api-key-env", default="OPENAI_API_KEY")
    sp.add_argument("--threshold", type=_fraction, default=None, help="covered when the nearest golden case is this close "
                    "(cosine distance; default: as close as golden cases are to each other)")
    sp.add_argument("--max-drift", type=_fraction, default=None, metavar="MARGIN", help="exit 1 (CI) when the drift score "
                    "is above the no-drift reference at this many inputs (the 95th percentile of n golden cases drawn against "
                    "the others) by more than MARGIN; 0 alarms on any drift beyond sampling noise")
    sp.add_argument("--propose", type=_positive, default=None, metavar="N", help="propose N uncovered inputs to label next")
    sp.add_argument("--into", type=_name("dataset name"), default=None, help="add the proposals to this dataset as cases")
    sp.add_argument("--tier", default="golden", choices=["golden", "adversarial", "regression"], help="tier of added cases")
    sp.add_argument("--tag", action="append", help="tags of added cases (default: drift)")
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--json", action="store_true")
