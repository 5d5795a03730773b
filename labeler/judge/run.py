"""The LLM judge: the rubric turned into a prompt and a JSON schema, answered through any
OpenAI-compatible endpoint, validated, and stored verdict by verdict (resumable, Ctrl-C safe).

The judge is "just another annotator" for the numbers: its verdicts live beside the labels
(judge/<run>/verdicts.yaml, one line per case and repeat) and are compared with gold later.
API keys come from the environment and are never written anywhere.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlparse

from labeler.errors import LabelerError
from labeler.judge.keys import api_key, base_url, named_url, public_url, redact, secrets
from labeler.judge.prompts import (DEFAULT_PAIR_TEMPLATE, DEFAULT_TEMPLATE, FENCE_NOTE, FIELDS, JudgePrompt,  # noqa: F401 (read here by flows, cli)
                                   load_prompt, load_template, sha, template_path, template_problems)
from labeler.judge.prompts import prompt_hash as version_hash
from labeler.judge.prompts import template_hash as prompt_hash  # noqa: F401 (a template's hash, as runs record it)
from labeler.truth.limits import check_depth
from labeler.truth.logs import LogWriter
from labeler.truth.models import Case, CriterionVerdict, JudgeRun, Rubric, ScaleKind, Verdict
from labeler.names import check_safe_name
from labeler.safetext import one_line
from labeler.truth.pairs import POSITION_MEANING
from labeler.dataset import Dataset
from labeler.derived.verdicts import first_values, first_verdicts, position_consistency  # noqa: F401 (read by flows and cli)
from labeler.truth.store import save_model_rt

_FIELD = re.compile(r"\{\{|\}\}|\{(task|criteria|examples|input|output|output_1|output_2|reference|context|case_id)\}")

POSITION_WORDS = {"A": "first", "B": "second", "tie": "tie", "both_bad": "both_bad"}
"""A pairwise judge answers by position (the output shown first / second); run.py maps that to A or B per order."""
_FROM_WORDS = {"first": "A", "second": "B", "1": "A", "2": "B", "output 1": "A", "output 2": "B", "output_1": "A",
               "output_2": "B", "a": "A", "b": "B", "left": "A", "right": "B",  # "A" from a judge means the one shown first
               "tie": "tie", "both_bad": "both_bad", "both bad": "both_bad"}


# ---------------------------------------------------------------- prompt and schema


def criteria_text(rubric: Rubric) -> str:
    """Each criterion's question, description, and allowed values with when each applies."""
    parts = []
    for cid, c in rubric.criteria.items():
        lines = [f"## {cid}: {c.question}"]
        if c.description.strip():
            lines.append(c.description.strip())
        lines.append("Allowed values:")
        pairwise = c.scale.type is ScaleKind.pairwise
        for v in c.scale.values():
            p = c.scale.points[v]
            if pairwise:  # by position: what the point means for A is said of "the first output"
                meaning = POSITION_MEANING[v] if v in ("A", "B") else p.label
                lines.append(f"- {json.dumps(POSITION_WORDS[v])}: {meaning}")
                continue
            lines.append(f"- {json.dumps(v)}: {p.label}" + (f" ({p.when})" if p.when else ""))
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def fence_code(texts: list[str]) -> str:
    """A code the case text cannot forge: derived from the text (so a prompt, and its cache key, stay
    the same on a rerun) and re-derived until no piece of the text contains it."""
    seed = hashlib.sha256("\x00".join(texts).encode("utf-8", "surrogatepass")).hexdigest()
    for n in range(1000):
        code = hashlib.sha256(f"{seed}:{n}".encode()).hexdigest()[:20]
        if not any(code in t for t in texts):
            return code
    raise AssertionError("no fence code")  # 1000 codes of 80 bits each inside the text: not a real case


def render_prompt(template: str, rubric: Rubric, case: Case, order: str = "AB", examples=()) -> str:
    """Fill the template in one pass: case text is inserted, never re-read as template syntax, and
    fenced (see FENCE_NOTE) so that text imitating the template or the system cannot pass for either.
    A pairwise case's outputs fill {output_1} and {output_2} in `order` ("BA": B shown first).
    `examples` (prompts.Example) fill {examples}, their case text fenced the same way."""
    first, second = (case.output, case.output_b or "") if order == "AB" else (case.output_b or "", case.output)
    untrusted = {"input": case.input, "output": case.output, "output_1": first, "output_2": second,
                 "reference": case.reference or "", "context": case.context or "", "case_id": case.id}
    shown = _example_cases(examples)
    for i, (inp, out, _) in enumerate(shown, 1):
        untrusted[f"example {i} input"], untrusted[f"example {i} output"] = inp, out
    code = fence_code(list(untrusted.values()) + [why for *_, grades in shown for _, _, why in grades])

    def fence(name: str) -> str:
        return f"<<<BEGIN {code} {name}>>>\n{untrusted[name]}\n<<<END {code} {name}>>>"

    fields = {
        "task": rubric.task.strip(),
        "criteria": criteria_text(rubric),
        **{name: fence(name) for name in ("input", "output", "output_1", "output_2", "case_id")},
        "reference": f"\n--- REFERENCE ANSWER ---\n{fence('reference')}\n" if case.reference else "",
        "context": f"\n--- CONTEXT ---\n{fence('context')}\n" if case.context else "",
        "examples": _examples_block(shown, fence),
    }

    def sub(m: re.Match) -> str:
        tok = m.group(0)
        if tok == "{{":
            return "{"
        if tok == "}}":
            return "}"
        return fields[m.group(1)]

    return FENCE_NOTE.replace("@", code) + _FIELD.sub(sub, template)


def _example_cases(examples) -> list[tuple[str, str, list[tuple[str, Any, str]]]]:
    """Examples grouped by case, in file order: (input, output, [(criterion, value, explanation)])."""
    by: dict[str, tuple[str, str, list]] = {}
    for e in examples:
        by.setdefault(e.case, (e.input, e.output, []))[2].append((e.criterion, e.value, one_line(e.explanation, 400)))
    return list(by.values())


def _examples_block(shown, fence) -> str:
    """The {examples} text: each graded case's fenced text, then the team's value and reason per criterion."""
    if not shown:
        return ""
    parts = ["--- EXAMPLES graded by the team (learn from them; grade only the case further below) ---"]
    for i, (_, _, grades) in enumerate(shown, 1):
        parts.append(f"Example {i}:\n{fence(f'example {i} input')}\n{fence(f'example {i} output')}")
        parts += [f"- {c}: {json.dumps(v)}" + (f" because {why}" if why else "") for c, v, why in grades]
    return "\n".join(parts) + "\n"


def verdict_schema(rubric: Rubric) -> dict[str, Any]:
    """JSON schema of an answer: per criterion only its allowed values, plus a short rationale."""
    props = {}
    for cid, c in rubric.criteria.items():
        values = c.scale.values()
        if c.scale.type is ScaleKind.pairwise:
            values = [POSITION_WORDS[v] for v in values]
        vtype = "integer" if c.scale.type is ScaleKind.ordinal else "string"
        props[cid] = {
            "type": "object",
            "properties": {"value": {"type": vtype, "enum": values}, "rationale": {"type": "string"}},
            "required": ["value", "rationale"],
            "additionalProperties": False,
        }
    return {"type": "object", "properties": props, "required": list(rubric.criteria), "additionalProperties": False}


def response_format(rubric: Rubric) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": "verdict", "strict": True, "schema": verdict_schema(rubric)}}


def parse_answer(text: str | None, rubric: Rubric, order: str | None = None) -> dict[str, CriterionVerdict]:
    """Validate an answer against the rubric; ValueError says what is wrong.
    A pairwise answer names positions ("first", "second"): with `order` they become A or B."""
    if not text or not text.strip():
        raise ValueError("empty answer")
    raw = text.strip()
    fence = re.match(r"^```(?:json)?\s*(.*?)\s*```$", raw, re.S)
    if fence:
        raw = fence.group(1)
    check_depth(raw, "the answer", limit=ANSWER_DEPTH)
    try:
        data = json.loads(raw)
    except ValueError as e:
        raise ValueError(f"not JSON ({e.msg} at char {e.pos})") from None
    if not isinstance(data, dict):
        raise ValueError("the answer is not a JSON object")
    out = {}
    for cid, c in rubric.criteria.items():
        item = data.get(cid)
        if item is None:
            raise ValueError(f"no value for criterion {cid!r}")
        if not isinstance(item, dict):
            item = {"value": item}
        try:
            if c.scale.type is ScaleKind.pairwise:
                value = _position_value(item.get("value"), c, order or "AB")
            else:
                value = c.scale.coerce(item.get("value"))
        except ValueError as e:
            raise ValueError(f"{cid}: {e}") from None
        out[cid] = CriterionVerdict(value=value, rationale=str(item.get("rationale", ""))[:2000])
    unknown = set(data) - set(rubric.criteria)
    if unknown:
        raise ValueError(f"unknown criteria {sorted(unknown)}")
    return out


ANSWER_DEPTH = 20
"""Deepest nesting accepted in a judge's answer (a real one nests two levels)."""


def _position_value(raw: Any, crit, order: str):
    """A positional answer ("first", "second", "tie", "both_bad") as the case's A/B value."""
    from labeler.truth.pairs import from_position

    pos = _FROM_WORDS.get(raw.strip().lower()) if isinstance(raw, str) else None
    if pos is None or pos not in crit.scale.points:
        allowed = ", ".join(POSITION_WORDS[v] for v in crit.scale.values())
        raise ValueError(f"{raw!r} is not on the scale (allowed: {allowed})")
    return from_position(pos, order)


def cache_key(prompt: str, model: str, settings: dict[str, Any], repeat: int) -> str:
    """Prompt (which holds the case content and rubric) + model + settings + repeat index."""
    blob = json.dumps({"p": sha(prompt), "m": model, "s": settings, "r": repeat}, sort_keys=True)
    return sha(blob)


# ---------------------------------------------------------------- a run


@dataclass
class JudgeConfig:
    model: str
    run: str
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = 8
    temperature: float = 0.0
    repeat: int = 1
    timeout: float = 60.0
    retries: int = 2
    structured: bool = True
    cases: str | None = None
    """A filter: tier:NAME, tag:NAME, or a comma-separated list of case ids (glob * allowed)."""
    limit: int | None = None
    candidate: str | None = None
    """Score this candidate's outputs instead of the golden outputs in cases.yaml."""
    prompt: int | None = None
    """The judge prompt version (prompts.py); the newest by default."""

    def settings(self) -> dict[str, Any]:
        """What changes the answers (and so the cache key); not concurrency, timeouts or keys."""
        return {"temperature": self.temperature}


@dataclass
class Summary:
    planned: int = 0
    done: int = 0
    skipped: int = 0
    errors: Counter = field(default_factory=Counter)
    tokens: int = 0
    tokens_reported: bool = False
    seconds: float = 0.0
    interrupted: bool = False
    structured: bool = True
    response_format: str = "json_schema"
    """How answers were asked for in the end (FORMATS): plainer than asked when the server refused a response_format."""
    why: dict[str, str] = field(default_factory=dict)
    """error kind -> the first cause seen (host and reason for connection errors)."""
    endpoint: str = ""
    hint: str = ""
    """When every request was refused (a 4xx): the flag to look at."""

    def as_dict(self) -> dict:
        return {"planned": self.planned, "done": self.done, "skipped_cached": self.skipped, "errors": dict(self.errors),
                "error_causes": dict(self.why), "endpoint": self.endpoint,
                "tokens": self.tokens if self.tokens_reported else None, "seconds": round(self.seconds, 2),
                "interrupted": self.interrupted, "structured_output": self.structured,
                "response_format": self.response_format, "hint": self.hint or None}


def refusal_hint(summary: Summary, cfg: "JudgeConfig", fell_back: bool) -> str:
    """What to change when no request got an answer and every one was refused with a 4xx."""
    codes = set(summary.errors)
    if summary.done or not codes or not all(k.startswith("http_4") and k != "http_429" for k in codes):
        return ""
    if codes & {"http_401", "http_403"}:
        return f"every request was refused ({', '.join(sorted(codes))}): check the key in {cfg.api_key_env} (--api-key-env names another variable)"
    if "http_404" in codes:
        return "every request was refused (http_404): check --model (the name the server serves) and --base-url (usually ending in /v1)"
    tried = " (also without response_format, so not for structured output)" if fell_back else ""
    return f"every request was refused ({', '.join(sorted(codes))}){tried}: check --model (the name the server serves) and --temperature"


def select_cases(ds: Dataset, spec: str | None, limit: int | None) -> list[Case]:
    """The cases a run asks about: filtered on the case columns, then read (text and all) only for those."""
    store = ds.cases
    picked = range(len(store))
    if spec:
        if spec.startswith("tier:"):
            picked = [j for j in picked if store.field(j, "tier") == spec[5:]]
        elif spec.startswith("tag:"):
            picked = [j for j in picked if spec[4:] in store.tags[j]]
        else:
            import fnmatch

            pats = [p.strip() for p in spec.split(",") if p.strip()]
            picked = [j for j in picked if any(fnmatch.fnmatchcase(store.ids[j], p) for p in pats)]
            missing = [p for p in pats if "*" not in p and p not in store]
            if missing:
                raise LabelerError(f"--cases: no case {missing[0]!r} in {ds.name}")
    picked = list(picked)[:limit] if limit else picked
    return [store.case(j) for j in picked]


def redact_verdict(v: Verdict, hide: list[str]) -> Verdict:
    """A verdict with the secrets an endpoint echoed (in a rationale or a raw answer) blanked out."""
    if not hide:
        return v
    values = {c: cv.model_copy(update={"rationale": redact(cv.rationale, hide)}) for c, cv in v.values.items()}
    return v.model_copy(update={"values": values, "raw": redact(v.raw, hide)})


def run_folder(ds: Dataset, run: str) -> Path:
    return ds.judge_dir / check_safe_name(run, "run name")


def prepare_run(ds: Dataset, cfg: JudgeConfig, prompt: JudgePrompt, endpoint: str | None = None) -> JudgeRun:
    """run.yaml for this run: created, or checked against the settings a previous attempt used.
    `endpoint`: the client's base URL (its host is recorded, never a user:password)."""
    rubric = ds.rubric()
    folder = run_folder(ds, cfg.run)
    host = urlparse(endpoint or base_url(cfg.base_url)).netloc.rpartition("@")[2]
    template = prompt.template
    meta = JudgeRun(
        name=cfg.run, model=cfg.model, endpoint_host=host, rubric=rubric.name, rubric_version=rubric.version,
        rubric_hash=rubric.content_hash(), prompt_template=str(prompt.path.relative_to(ds.ws.root)) if prompt.path else "(built-in)",
        prompt_version=prompt.version, prompt_hash=version_hash(prompt), settings={**cfg.settings(), "repeat": cfg.repeat, "structured_output": cfg.structured},
        started=datetime.now(timezone.utc).replace(microsecond=0), candidate=cfg.candidate,
    )
    path = folder / "run.yaml"
    if path.exists():
        old, _ = ds.judge_run(cfg.run)
        for attr in ("model", "rubric_version", "rubric_hash", "prompt_hash", "candidate"):
            if getattr(old, attr) != getattr(meta, attr):
                if attr == "prompt_hash" and old.prompt_hash == sha(template):
                    raise LabelerError(f"{path}: run {cfg.run!r} was made before case text was fenced in the judge's "
                                       "prompt; use a new --run name to compare")
                raise LabelerError(f"{path}: run {cfg.run!r} was made with {attr} {getattr(old, attr)!r}, "
                                   f"not {getattr(meta, attr)!r}; use a new --run name to compare")
        meta.started = old.started
        meta.settings = {**old.settings, **{k: v for k, v in meta.settings.items() if k != "structured_output"}}
    save_model_rt(path, meta, header=f"# Judge run {cfg.run}: what produced the verdicts in verdicts.yaml.\n")
    return meta


@dataclass
class Job:
    case: Case
    repeat: int
    prompt: str
    key: str
    orders: list[tuple[str, str]] | None = None
    """A pairwise case: (order, prompt) for A shown first and for B shown first; both are asked."""


def plan(ds: Dataset, cfg: JudgeConfig, prompt: JudgePrompt) -> tuple[list[Job], int]:
    """Jobs still to do, and how many are already done (cached) in this run's verdicts."""
    rubric = ds.rubric()
    template, examples = prompt.template, prompt.examples
    done: set[str] = set()
    if (run_folder(ds, cfg.run) / "run.yaml").exists():
        _, verdicts = ds.judge_run(cfg.run)
        done = verdicts.done_keys()
    jobs, skipped = [], 0
    outputs = ds.candidate(cfg.candidate).outputs if cfg.candidate else None
    for case in select_cases(ds, cfg.cases, cfg.limit):
        if outputs is not None:
            if case.id not in outputs:
                continue  # the candidate has no output for this input
            case = case.model_copy(update={"output": outputs[case.id]})
        orders = None
        if rubric.pairwise:
            if case.output_b is None:
                continue  # a single-output case under a pairwise rubric (validate reports it)
            orders = [(o, render_prompt(template, rubric, case, o, examples)) for o in ("AB", "BA")]
            prompt = orders[0][1] + "\x00" + orders[1][1]
        else:
            prompt = render_prompt(template, rubric, case, examples=examples)
        for r in range(cfg.repeat):
            key = cache_key(prompt, cfg.model, cfg.settings(), r)
            if key in done:
                skipped += 1
            else:
                jobs.append(Job(case, r, orders[0][1] if orders else prompt, key, orders))
    return jobs, skipped


SYSTEM = "You are a careful evaluator. Follow the rubric exactly and answer with JSON only."


FORMATS = ("json_schema", "json_object", "text")
"""How an answer is asked for, from the strictest; a server that refuses one (400 or 422) is asked the next way."""


async def _ask(client, cfg: JudgeConfig, rubric: Rubric, messages: list[dict], state: dict) -> Any:
    import openai

    i = FORMATS.index(state["format"])
    while True:
        kwargs: dict[str, Any] = {"model": cfg.model, "messages": messages, "temperature": cfg.temperature, "timeout": cfg.timeout}
        if FORMATS[i] == "json_schema":
            kwargs["response_format"] = response_format(rubric)
        elif FORMATS[i] == "json_object":
            kwargs["response_format"] = {"type": "json_object"}
        try:
            resp = await client.chat.completions.create(**kwargs)
        except (openai.BadRequestError, openai.UnprocessableEntityError):
            if FORMATS[i] == "text":
                raise
            state["fell_back"] = True
            i += 1  # the server may not know this response_format: ask the next, plainer way
            continue
        if i > FORMATS.index(state["format"]):
            state["format"] = FORMATS[i]  # an answer came the plainer way: ask every case that way from now on
        return resp


async def judge_one(client, cfg: JudgeConfig, rubric: Rubric, job: Job, state: dict, order: str | None = None) -> Verdict:
    """Ask, validate, re-ask once on an invalid answer; every failure becomes a recorded error."""
    import openai

    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": job.prompt}]
    now = lambda: datetime.now(timezone.utc).replace(microsecond=0)  # noqa: E731
    tokens = 0
    raw = None
    try:
        for attempt in range(2):
            resp = await _ask(client, cfg, rubric, messages, state)
            if isinstance(resp, (str, bytes)):  # the client hands back a body it could not read as JSON (text/html)
                kind, why = "bad_response", _non_json(cfg, resp)
                break
            if getattr(resp, "usage", None) is not None and resp.usage.total_tokens is not None:
                tokens += resp.usage.total_tokens
                state["tokens_reported"] = True
            raw = resp.choices[0].message.content if resp.choices else None
            try:
                values = parse_answer(raw, rubric, order)
            except ValueError as e:
                if attempt == 0:
                    messages += [{"role": "assistant", "content": raw or ""},
                                 {"role": "user", "content": f"That answer is invalid: {e}. Answer again with JSON only, "
                                                             "one allowed value and a rationale per criterion."}]
                    continue
                return Verdict(case=job.case.id, repeat=job.repeat, error="invalid_answer", raw=(raw or "")[:20000],
                               cache_key=job.key, tokens=tokens or None, at=now(), values={})
            return Verdict(case=job.case.id, repeat=job.repeat, values=values, cache_key=job.key, tokens=tokens or None, at=now())
    except openai.APITimeoutError:
        kind, why = "timeout", f"no answer within {cfg.timeout:g} s"
    except openai.RateLimitError as e:
        kind, why = "rate_limited", _cause(e)
    except openai.APIStatusError as e:
        kind, why = f"http_{e.status_code}", _cause(e)
    except openai.APIConnectionError as e:
        kind, why = "connection", f"{public_url(base_url(cfg.base_url))}: {_cause(e)}"
    except openai.APIError as e:
        kind, why = "api_error", _cause(e)
    except json.JSONDecodeError as e:  # a body sent as JSON that is not (a proxy's error page)
        kind, why = "bad_response", _non_json(cfg, e.doc)
    except (ValueError, TypeError, AttributeError, KeyError, IndexError, RecursionError) as e:
        # a 200 reply whose body is not JSON, or JSON of the wrong shape: this case's error, not the run's
        kind, why = "bad_response", f"the server's reply could not be read ({type(e).__name__}: {one_line(str(e), 200)})"
    state.setdefault("why", {}).setdefault(kind, why)
    return Verdict(case=job.case.id, repeat=job.repeat, error=kind, raw=raw, cache_key=job.key, tokens=tokens or None, at=now())


async def judge_pair(client, cfg: JudgeConfig, rubric: Rubric, job: Job, state: dict, sem: asyncio.Semaphore) -> Verdict:
    """A pairwise case asked in both orders (each request takes its own concurrency slot); a value
    counts only where both orders name the same output, else it is recorded as inconsistent."""
    import asyncio  # here, not at the top: reading prompts and templates needs no event loop

    async def ask(order: str, prompt: str) -> Verdict:
        async with sem:
            return await judge_one(client, cfg, rubric, Job(job.case, job.repeat, prompt, job.key), state, order)

    (o1, p1), (o2, p2) = job.orders
    first, second = await asyncio.gather(ask(o1, p1), ask(o2, p2))
    return merge_orders(first, second, o1, o2)


def merge_orders(first: Verdict, second: Verdict, o1: str = "AB", o2: str = "BA") -> Verdict:
    """One verdict from the answers in two orders (values already in A/B terms)."""
    from labeler.truth.pairs import agreed

    tokens = (first.tokens or 0) + (second.tokens or 0) or None
    bad = first if first.error else second if second.error else None
    if bad is not None:
        return bad.model_copy(update={"tokens": tokens})
    values = {}
    for cid, a in first.values.items():
        b = second.values.get(cid)
        value, inconsistent = agreed(a.value, b.value if b else None)
        why = a.rationale if not inconsistent else f"{o1}: {a.rationale} | {o2}: {b.rationale if b else ''}"
        values[cid] = CriterionVerdict(value=value, rationale=why[:2000], inconsistent=inconsistent,
                                       orders={o1: a.value, o2: b.value if b else None})
    return Verdict(case=first.case, repeat=first.repeat, values=values, cache_key=first.cache_key, tokens=tokens, at=first.at)


def _non_json(cfg: JudgeConfig, body: str | bytes) -> str:
    """One line: which endpoint answered with something that is not JSON, and its first bytes (inert)."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    return (f"{public_url(base_url(cfg.base_url))} answered with non-JSON, so the reply could not be read "
            f"(first bytes: '{one_line(text, 60)}'); is --base-url an OpenAI-compatible API?")


def api_failure(cfg: JudgeConfig, e: BaseException) -> LabelerError:
    """A client error outside a run's cases (the Batch API) as one line naming the endpoint, secrets blanked out."""
    return LabelerError(f"{public_url(base_url(cfg.base_url))}: {redact(_cause(e), secrets(cfg.base_url, cfg.api_key_env))}")


def _cause(e: BaseException) -> str:
    """The deepest cause of a client error, in one line ("Connection refused", not "Connection error.")."""
    parts = []
    while e is not None and len(parts) < 6:
        text = one_line(str(e), 200)
        if text and text not in parts:
            parts.append(text)
        e = e.__cause__ or e.__context__
    return "; ".join(parts[-2:]) if parts else "no detail"


def make_client(cfg: JudgeConfig, sync: bool = False):
    """An OpenAI client for cfg's endpoint (async for runs, sync for the Batch API); a placeholder key for a named server."""
    import openai

    make = openai.OpenAI if sync else openai.AsyncOpenAI
    return make(api_key=api_key(cfg.api_key_env, named_url(cfg.base_url)), base_url=cfg.base_url,
                max_retries=cfg.retries, timeout=cfg.timeout)


async def run_async(ds: Dataset, cfg: JudgeConfig, progress: Callable[[int, int], None] | None = None,
                    client=None, stop: asyncio.Event | None = None) -> Summary:
    """Judge every planned case; each verdict is appended (fsynced) as it arrives.

    Setting `stop` (the CLI sets it on Ctrl-C) cancels the requests in flight; every verdict
    finished so far is already on disk as a whole line, and a rerun picks up the rest.
    """
    import asyncio

    if cfg.concurrency < 1:
        raise LabelerError("--concurrency must be at least 1")
    if cfg.repeat > 1 and cfg.temperature == 0:
        raise LabelerError("--repeat needs --temperature above 0 (identical answers tell nothing about consistency)")
    prompt = load_prompt(ds, cfg.prompt)
    rubric = ds.rubric()
    client = client or make_client(cfg)
    meta = prepare_run(ds, cfg, prompt, str(client.base_url))
    hide = secrets(cfg.base_url, cfg.api_key_env)
    jobs, skipped = plan(ds, cfg, prompt)
    summary = Summary(planned=len(jobs) + skipped, skipped=skipped)
    writer = LogWriter(run_folder(ds, cfg.run) / "verdicts.yaml", f"verdicts of judge run {cfg.run}: one case (and repeat) per line")
    state: dict[str, Any] = {"format": "json_schema" if cfg.structured else "text", "tokens_reported": False}
    sem = asyncio.Semaphore(cfg.concurrency)
    t0 = time.perf_counter()
    finished = 0
    complete = False

    async def work(job: Job) -> None:
        nonlocal finished
        if job.orders:
            v = await judge_pair(client, cfg, rubric, job, state, sem)
        else:
            async with sem:
                v = await judge_one(client, cfg, rubric, job, state)
        v = redact_verdict(v, hide)
        writer.append({"case": v.case, **v.model_dump(mode="json", exclude_none=True, exclude_defaults=True)})
        finished += 1
        if v.error:
            summary.errors[v.error] += 1
        else:
            summary.done += 1
        summary.tokens += v.tokens or 0
        if progress:
            progress(finished, len(jobs))

    tasks = [asyncio.create_task(work(j)) for j in jobs]
    everything = asyncio.gather(*tasks)
    watcher = asyncio.create_task((stop or asyncio.Event()).wait())
    try:
        await asyncio.wait([everything, watcher], return_when=asyncio.FIRST_COMPLETED)
        if not everything.done():
            summary.interrupted = True
            for t in tasks:
                t.cancel()
        (outcome,) = await asyncio.gather(everything, return_exceptions=True)
        if not summary.interrupted and isinstance(outcome, BaseException):
            raise outcome
        complete = not summary.interrupted
    finally:
        watcher.cancel()
        summary.seconds = time.perf_counter() - t0
        summary.tokens_reported = state["tokens_reported"]
        summary.response_format = state["format"]
        summary.structured = state["format"] == "json_schema"
        summary.why = {k: redact(w, hide) for k, w in state.get("why", {}).items()}
        summary.endpoint = public_url(str(client.base_url))
        summary.hint = refusal_hint(summary, cfg, state.get("fell_back", False))
        if complete:  # every planned case was asked: not after a crash or Ctrl-C
            meta.finished = datetime.now(timezone.utc).replace(microsecond=0)
        meta.settings["structured_output"] = summary.structured
        meta.settings["response_format"] = state["format"]
        save_model_rt(run_folder(ds, cfg.run) / "run.yaml", meta)
        await client.close()
    return summary


# ---------------------------------------------------------------- self-consistency and compare


def self_consistency(verdicts: dict[str, list[Verdict]], rubric: Rubric) -> dict[str, tuple[float | None, int]]:
    """criterion -> (share of cases whose repeats all agree, cases with 2+ successful repeats)."""
    out = {}
    for c in rubric.criteria:
        agree = n = 0
        for vs in verdicts.values():
            vals = [v.values[c].value for v in vs if v.error is None and c in v.values]
            if len(vals) >= 2:
                n += 1
                agree += len(set(map(str, vals))) == 1
        out[c] = (agree / n if n else None, n)
    return out


@dataclass
class RunComparison:
    criterion: str
    agreement: float | None
    n: int
    differ: list[tuple[str, Any, Any]]


def compare_runs(a: dict[str, list[Verdict]], b: dict[str, list[Verdict]], rubric: Rubric) -> list[RunComparison]:
    """Per criterion: how often two runs agree, and the cases where they differ."""
    va, vb = first_values(a), first_values(b)
    out = []
    for c in rubric.criteria:
        both = [cid for cid in va if cid in vb and c in va[cid] and c in vb[cid]]
        differ = [(cid, va[cid][c], vb[cid][c]) for cid in both if va[cid][c] != vb[cid][c]]
        out.append(RunComparison(c, (1 - len(differ) / len(both)) if both else None, len(both), differ))
    return out
