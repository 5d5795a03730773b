"""Judge runs through the OpenAI Batch API: upload a JSONL of requests, create the batch, and collect
the results later (tens of thousands of cases at a fraction of the cost).

The pending batch is recorded in judge/<run>/batch.yaml, so `labeler judge status` can show it and
rerunning the same command collects it once it is done. Answers are validated like the online path;
an invalid answer is recorded as an error with its raw text (no re-ask inside a batch).
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from labeler.errors import LabelerError
from labeler.judge.run import (SYSTEM, JudgeConfig, Summary, load_prompt, make_client, parse_answer, plan, prepare_run, redact_verdict,
                               response_format, run_folder, secrets)
from labeler.truth.limits import check_depth
from labeler.truth.logs import LogWriter
from labeler.truth.models import Verdict
from labeler.dataset import Dataset
from labeler.truth.store import save_model_rt, validate_model
from labeler.truth.yamlio import load_rt


class BatchRecord(BaseModel):
    batch_id: str
    input_file_id: str
    requests: int
    submitted: datetime
    status: str = "submitted"
    collected: datetime | None = None


def batch_path(ds: Dataset, run: str) -> Path:
    return run_folder(ds, run) / "batch.yaml"


def read_batch(ds: Dataset, run: str) -> BatchRecord | None:
    p = batch_path(ds, run)
    if not p.exists():
        return None
    doc = load_rt(p)
    return validate_model(BatchRecord, doc, p, doc)


def _client(cfg: JudgeConfig):
    return make_client(cfg, sync=True)


def submit(ds: Dataset, cfg: JudgeConfig) -> tuple[BatchRecord | None, int]:
    """Upload every planned request and create the batch; returns (record, skipped as cached)."""
    pending = read_batch(ds, cfg.run)
    if pending and pending.collected is None:
        raise LabelerError(f"{batch_path(ds, cfg.run)}: batch {pending.batch_id} is still pending; rerun to collect it")
    prompt = load_prompt(ds, cfg.prompt)
    rubric = ds.rubric()
    client = _client(cfg)
    prepare_run(ds, cfg, prompt, str(client.base_url))
    jobs, skipped = plan(ds, cfg, prompt)
    if not jobs:
        return None, skipped
    lines = []
    for j in jobs:
        body: dict[str, Any] = {"model": cfg.model, "temperature": cfg.temperature,
                                "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": j.prompt}]}
        if cfg.structured:
            body["response_format"] = response_format(rubric)
        lines.append(json.dumps({"custom_id": f"{j.case.id}::{j.repeat}::{j.key}", "method": "POST",
                                 "url": "/v1/chat/completions", "body": body}))
    f = client.files.create(file=("requests.jsonl", ("\n".join(lines) + "\n").encode()), purpose="batch")
    b = client.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h")
    rec = BatchRecord(batch_id=b.id, input_file_id=f.id, requests=len(jobs), status=b.status,
                      submitted=datetime.now(timezone.utc).replace(microsecond=0))
    save_model_rt(batch_path(ds, cfg.run), rec, header=f"# Batch of judge run {cfg.run}: collected by rerunning the judge command.\n")
    return rec, skipped


def status(ds: Dataset, cfg: JudgeConfig) -> BatchRecord | None:
    rec = read_batch(ds, cfg.run)
    if rec is None or rec.collected is not None:
        return rec
    b = _client(cfg).batches.retrieve(rec.batch_id)
    rec.status = b.status
    save_model_rt(batch_path(ds, cfg.run), rec)
    return rec


def collect(ds: Dataset, cfg: JudgeConfig, wait: float = 0.0, poll: float = 5.0) -> Summary:
    """Fetch a finished batch's results into verdicts.yaml; with `wait`, poll up to that many seconds."""
    rec = read_batch(ds, cfg.run)
    if rec is None:
        raise LabelerError(f"{batch_path(ds, cfg.run)}: no batch submitted for run {cfg.run!r}")
    client = _client(cfg)
    deadline = time.monotonic() + wait
    while True:
        b = client.batches.retrieve(rec.batch_id)
        rec.status = b.status
        if b.status in ("completed", "failed", "expired", "cancelled") or time.monotonic() >= deadline:
            break
        time.sleep(poll)
    save_model_rt(batch_path(ds, cfg.run), rec)
    summary = Summary(planned=rec.requests)
    if b.status != "completed":
        if b.status in ("failed", "expired", "cancelled"):
            raise LabelerError(f"batch {rec.batch_id} ended as {b.status}; submit again with --batch after removing {batch_path(ds, cfg.run)}")
        summary.interrupted = True
        return summary
    rubric = ds.rubric()
    text = client.files.content(b.output_file_id).text
    writer = LogWriter(run_folder(ds, cfg.run) / "verdicts.yaml", f"verdicts of judge run {cfg.run}: one case (and repeat) per line")
    records = []
    hide = secrets(cfg.base_url, cfg.api_key_env)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:  # the endpoint's file is untrusted text: a line that is not a batch result is counted, not fatal
            check_depth(line, "batch output", number)
            item = json.loads(line)
            case, repeat, key = item["custom_id"].split("::")
            resp = item.get("response") or {}
            body = resp.get("body") or {}
        except (ValueError, KeyError, TypeError, AttributeError):
            summary.errors["unreadable_batch_line"] += 1
            continue
        v = Verdict(case=case, repeat=int(repeat), cache_key=key, at=now)
        if resp.get("status_code") != 200:
            v.error = f"http_{resp.get('status_code')}" if resp.get("status_code") else "batch_error"
        else:
            raw = (body.get("choices") or [{}])[0].get("message", {}).get("content")
            try:
                v.values = parse_answer(raw, rubric)
            except ValueError:
                v.error, v.raw = "invalid_answer", (raw or "")[:20000]
            usage = body.get("usage") or {}
            if usage.get("total_tokens") is not None:
                v.tokens = usage["total_tokens"]
                summary.tokens += v.tokens
                summary.tokens_reported = True
        if v.error:
            summary.errors[v.error] += 1
        else:
            summary.done += 1
        v = redact_verdict(v, hide)
        records.append({"case": v.case, **v.model_dump(mode="json", exclude_none=True, exclude_defaults=True)})
    writer.append_many(records)
    rec.collected = now
    save_model_rt(batch_path(ds, cfg.run), rec)
    return summary
