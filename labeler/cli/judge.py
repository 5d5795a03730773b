"""The LLM judge: run (live or Batch API), status, compare, drop; prompt versions and examples from audits."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping

from labeler.cli.common import (EXIT_FAIL, EXIT_OK, _console, _name, _open, _positive, _relative, _seconds)
from labeler.errors import LabelerError, UsageError

def cmd_judge(a: argparse.Namespace) -> int:
    action = getattr(a, "judge_action", None)
    if action is not None:
        return ACTIONS[action](a)
    if not a.model:
        raise LabelerError("--model is required (the model name your endpoint serves)")
    from labeler.judge.keys import key_note

    note = key_note(a.base_url, a.api_key_env)  # no key: said at once, before anything slow is imported
    from labeler.judge.run import JudgeConfig

    cfg = JudgeConfig(model=a.model, run=_run_name(a.run or a.model.replace("/", "-").replace(":", "-")), base_url=a.base_url,
                      api_key_env=a.api_key_env, concurrency=a.concurrency, temperature=a.temperature, repeat=a.repeat,
                      timeout=a.timeout, retries=a.retries, structured=not a.no_structured, cases=a.cases, limit=a.limit,
                      candidate=a.candidate, prompt=a.prompt)
    ds = _open(a.dataset)
    if note:
        sys.stderr.write(note + "\n")
    if a.candidate:
        ds.candidate(a.candidate)  # a missing candidate is a one-line error before any request
    if a.batch:
        if ds.rubric().pairwise:
            raise LabelerError("--batch does not ask pairwise cases in both orders yet: run this pairwise judge without --batch")
        return _judge_batch(a, ds, cfg)
    import asyncio
    import signal

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from labeler.judge.run import run_async

    quiet = a.json or not sys.stderr.isatty()
    bar = Progress(TextColumn(f"judging with {cfg.model}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
                   TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                   console=_console(True), disable=quiet)
    task = bar.add_task("judge", total=None, rate="")
    started = [0.0]

    def tick(done: int, total: int) -> None:
        import time

        if not started[0]:
            started[0] = time.perf_counter()
        rate = done / max(1e-9, time.perf_counter() - started[0])
        bar.update(task, completed=done, total=total, rate=f"{rate:.1f}/s")

    async def main():
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, stop.set)
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        return await run_async(ds, cfg, tick, stop=stop)

    with bar:
        summary = asyncio.run(main())
    return _judge_report(a, ds, cfg, summary)


def _judge_report(a, ds, cfg, summary) -> int:
    from labeler.judge.run import position_consistency, self_consistency

    out = {"run": cfg.run, **summary.as_dict()}
    if cfg.repeat > 1:
        _, verdicts = ds.judge_run(cfg.run)
        out["self_consistency"] = {c: {"agreement": None if x is None else round(x, 4), "cases": n,
                                       "ci95": _share_ci(x, n)}
                                   for c, (x, n) in self_consistency(verdicts, ds.rubric()).items()}
    if ds.rubric().pairwise:
        _, verdicts = ds.judge_run(cfg.run)
        out["position_consistency"] = {c: {"rate": None if x is None else round(x, 4), "verdicts": n,
                                           "ci95": _share_ci(x, n)}
                                       for c, (x, n) in position_consistency(verdicts, ds.rubric()).items()}
    if a.json:
        print(json.dumps(out, indent=2))
    else:
        errs = ", ".join(f"{k} {v}" + (f" ({summary.why[k]})" if k in summary.why else "")
                         for k, v in summary.errors.items()) or "none"
        print(f"run {cfg.run}: {summary.done} judged, {summary.skipped} skipped (cached), errors: {errs}"
              + (f", tokens: {summary.tokens}" if summary.tokens_reported else "") + f", {summary.seconds:.1f}s"
              + _format_note(cfg, summary))
        for c, v in out.get("self_consistency", {}).items():
            agree = "undefined" if v["agreement"] is None else f"{v['agreement']:.0%}" + _ci_text(v["ci95"])
            print(f"  self-consistency {c}: repeats agree on {agree} of {v['cases']} cases")
        for c, v in out.get("position_consistency", {}).items():
            rate = "undefined" if v["rate"] is None else f"{v['rate']:.0%}" + _ci_text(v["ci95"])
            print(f"  position consistency {c}: both orders agree on {rate} of {v['verdicts']} cases "
                  "(the rest are recorded as inconsistent and count as no verdict)")
        if summary.hint:
            print(f"hint: {summary.hint}")
        if summary.interrupted:
            print("interrupted: everything finished so far is saved; run the same command again to continue")
    if summary.interrupted:
        return 130
    return EXIT_FAIL if summary.errors else EXIT_OK


def _share_ci(rate: float | None, n: int) -> dict | None:
    """The 95% interval of a share of n cases (bootstrap.share_interval, as calibrate's rates), as JSON;
    None when the share is undefined."""
    if rate is None or not n:
        return None
    from labeler.stats.bootstrap import share_interval

    ci = share_interval(round(rate * n), n)
    return {"low": round(ci.low, 4), "high": round(ci.high, 4)}


def _ci_text(ci: dict | None) -> str:
    return "" if not ci else f" [{ci['low']:.0%}, {ci['high']:.0%}]"


def _format_note(cfg, summary) -> str:
    """Said only when the server refused the structured output asked for (not after --no-structured)."""
    if not cfg.structured or summary.response_format == "json_schema":
        return ""
    if summary.response_format == "json_object":
        return " (server has no JSON-schema output: used JSON mode)"
    return " (server has no structured output: used plain JSON)"


def _run_name(name: str) -> str:
    """A run name from the command line: a usage error (not a crash) when it could not be a folder name."""
    from labeler.names import check_safe_name

    try:
        return check_safe_name(name, "run name")
    except ValueError as e:
        raise UsageError(str(e)) from None


def _judge_batch(a, ds, cfg) -> int:
    import openai

    from labeler.judge.run import api_failure

    try:
        return _judge_batch_steps(a, ds, cfg)
    except openai.APIError as e:
        raise api_failure(cfg, e) from None


def _judge_batch_steps(a, ds, cfg) -> int:
    from labeler.judge import batch as judge_batch

    rec = judge_batch.read_batch(ds, cfg.run)
    if rec is None or rec.collected is not None:
        rec, skipped = judge_batch.submit(ds, cfg)
        if rec is None:
            print(f"nothing to submit: {skipped} request(s) already judged in run {cfg.run}")
            return EXIT_OK
        print(f"submitted batch {rec.batch_id} with {rec.requests} request(s) ({skipped} cached); "
              f"rerun this command (or add --wait SECONDS) to collect it")
        if not a.wait:
            return EXIT_OK
    summary = judge_batch.collect(ds, cfg, wait=a.wait or 0.0, poll=a.poll)
    if summary.interrupted:
        rec = judge_batch.read_batch(ds, cfg.run)
        print(f"batch {rec.batch_id} is {rec.status}; rerun to collect it")
        return EXIT_OK
    return _judge_report(a, ds, cfg, summary)


def _judge_status(a: argparse.Namespace) -> int:
    from labeler.judge import batch as judge_batch
    from labeler.judge.run import JudgeConfig

    from labeler.stats.bootstrap import ratio_interval

    ds = _open(a.dataset)
    rows = []
    for run in ([a.run] if a.run else ds.judge_runs()):
        meta, verdicts = ds.judge_run(run)
        rec = judge_batch.read_batch(ds, run)
        if rec is not None and rec.collected is None and (a.base_url or meta.endpoint_host):
            cfg = JudgeConfig(model=meta.model, run=run, base_url=a.base_url, api_key_env=a.api_key_env)
            import openai

            try:
                rec = judge_batch.status(ds, cfg)
            except (LabelerError, openai.APIError):
                pass  # no key or no answer here: show what was recorded
        errors = verdicts.open_errors()  # an error a rerun answered is history, not a problem
        agreed, asked = verdicts.position_rows()
        ci = ratio_interval(agreed, asked).as_dict() if asked.sum() else None
        rows.append({"run": run, "model": meta.model, "rubric_version": meta.rubric_version, "cases": len(verdicts),
                     "errors": errors, "finished": str(meta.finished or ""),
                     "position_consistency": round(float(agreed.sum() / asked.sum()), 4) if asked.sum() else None,
                     "position_consistency_ci95": ci and {"low": ci["low"], "high": ci["high"]},
                     "position_consistency_verdicts": int((asked > 0).sum()),
                     "batch": None if rec is None else {"id": rec.batch_id, "status": rec.status, "requests": rec.requests,
                                                         "collected": str(rec.collected or "")}})
    if a.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    from rich.table import Table

    t = Table(title=f"judge runs of {ds.name}")
    pairwise = any(r["position_consistency"] is not None for r in rows)
    for col in ("run", "model", "rubric", "cases", "errors", "finished", "batch", *(["order-consistent"] if pairwise else [])):
        t.add_column(col)
    for r in rows:
        b = r["batch"]
        t.add_row(r["run"], r["model"], f"v{r['rubric_version']}", str(r["cases"]), str(r["errors"]), r["finished"],
                  "-" if b is None else f"{b['id']} {b['status']}" + (" (collected)" if b["collected"] else f" ({b['requests']} requests)"),
                  *(["-" if r["position_consistency"] is None else f"{r['position_consistency']:.0%}"
                     + _ci_text(r["position_consistency_ci95"]) + f" of {r['position_consistency_verdicts']}"] if pairwise else []))
    _console().print(t)
    return EXIT_OK


def _judge_drop(a: argparse.Namespace) -> int:
    """Remove a run's folder (a failed or unwanted run); what was committed stays in git history."""
    import shutil

    run = _run_name(a.run_name)
    ds = _open(a.dataset)
    ds.judge_run(run)  # a missing run is a one-line error
    folder = ds.judge_dir / run
    audits = list((folder / "audits").glob("*.yaml")) if (folder / "audits").is_dir() else []
    if audits and not a.force:
        raise LabelerError(f"{_relative(folder)}: people audited this run ({len(audits)} audit file(s)); add --force to drop it anyway")
    shutil.rmtree(folder)
    print(f"dropped judge run {run} ({_relative(folder)}); `git checkout` brings back what was committed")
    return EXIT_OK


def _judge_prompt(a: argparse.Namespace) -> int:
    """`labeler judge prompt list|show|diff|bump DATASET ...`: the judge prompt's versions, read from files."""
    from labeler.judge import prompts

    action, ds = a.prompt_action, _open(a.dataset)
    if action == "bump":
        new, path, added = prompts.bump(ds, a.version)
        if a.json:
            print(json.dumps({"version": new, "file": str(_relative(path)), "placeholder_added": added}, indent=2))
            return EXIT_OK
        print(f"judge prompt v{new}: {_relative(path)}" + (" ({examples} added after {criteria})" if added else "")
              + f"; next: `labeler judge examples {ds.name} --from RUN --into {new}`")
        return EXIT_OK
    if action == "show":
        from labeler.judge.run import load_template
        from labeler.safetext import inert

        v = a.version or prompts.latest(ds)
        got, _ = prompts.load_examples(ds, v)
        text = load_template(ds, v)
        if a.json:
            print(json.dumps({"version": v, "file": str(_relative(prompts.version_path(ds, v))), "template": text,
                              "examples": [e.model_dump(mode="json") for e in got.examples] if got else []}, indent=2))
        else:
            sys.stdout.write(inert(text.replace("\r", "")) + ("" if text.endswith("\n") else "\n"))
            if got:
                print(f"# {len(got.examples)} example(s) from {len(got.cases)} case(s): {_relative(prompts.examples_path(ds, v))}")
        return EXIT_OK
    if action == "diff":
        import difflib

        from labeler.judge.run import load_template
        from labeler.safetext import inert

        va, vb = a.a, a.b
        lines = list(difflib.unified_diff(load_template(ds, va).splitlines(), load_template(ds, vb).splitlines(),
                                          f"v{va}", f"v{vb}", lineterm=""))
        ea, eb = (prompts.load_examples(ds, v)[0] for v in (va, vb))
        ka = {(e.case, e.criterion): e.value for e in (ea.examples if ea else [])}
        kb = {(e.case, e.criterion): e.value for e in (eb.examples if eb else [])}
        for line in lines:
            print(inert(line))
        for (cid, c), v in sorted(kb.items()):
            if (cid, c) not in ka:
                print(inert(f"+example {cid} {c} = {v}"))
        for (cid, c), v in sorted(ka.items()):
            if (cid, c) not in kb:
                print(inert(f"-example {cid} {c} = {v}"))
        if not lines and ka == kb:
            print(f"v{va} and v{vb} send the same prompt")
        return EXIT_OK
    return _prompt_list(a, ds)


def _holdout(text: str) -> float:
    """The share of cases kept out of examples: 0 up to (not including) 1."""
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number (0.5 keeps half the cases for measuring)") from None
    if not 0 <= x < 1:
        raise argparse.ArgumentTypeError("must be from 0 up to (not including) 1")
    return x


def _version(text: str) -> int:
    try:
        v = int(text.lower().removeprefix("v"))
    except ValueError:
        raise UsageError(f"{text!r} is not a prompt version (1, 2 or v2)") from None
    if v < 1:
        raise UsageError(f"{text!r} is not a prompt version (1, 2 or v2)")
    return v


def _prompt_list(a: argparse.Namespace, ds) -> int:
    """Every version: its file, examples, the runs that used it and each one's agreement on its held-out cases."""
    from labeler.judge import prompts
    from labeler.stats.calibrate import by_prompt_version

    measured = by_prompt_version(ds)
    rows = []
    for v, path in prompts.versions(ds).items():
        try:
            got = prompts.load_examples(ds, v)[0]
        except LabelerError as e:
            got = None
            sys.stderr.write(f"{e}\n")
        rows.append({"version": v, "file": str(_relative(path)) if path else "(built-in)",
                     "examples": len(got.examples) if got else 0, "example_cases": len(got.cases) if got else 0,
                     "runs": [m.as_dict() for m in measured if m.version == v]})
    if a.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    from rich.table import Table

    from labeler.render import prompt_agreement_table
    from labeler.safetext import one_line

    t = Table(title=f"judge prompt versions of rubric {ds.config.rubric}", title_justify="left")
    for col in ("version", "file", "examples", "runs: held-out agreement"):
        t.add_column(col)
    for r in rows:
        t.add_row(f"v{r['version']}", r["file"], f"{r['examples']} ({r['example_cases']} cases)" if r["examples"] else "-",
                  ", ".join(f"{one_line(m['run'], 40)} {'-' if m['agreement'] is None else format(m['agreement'], '.0%')}"
                            f" of {m['verdicts']}" for m in r["runs"]) or "-")
    con = _console()
    con.print(t)
    if measured:
        con.print(prompt_agreement_table(measured))
    return EXIT_OK


def _judge_examples(a: argparse.Namespace) -> int:
    """`labeler judge examples DATASET --from RUN`: few-shot examples from corrected verdicts into a prompt version."""
    from labeler.judge import examples, prompts

    ds = _open(a.dataset)
    run = _run_name(a.from_run)
    into = a.into or prompts.latest(ds)
    picked = examples.pick(ds, run, a.per_criterion, a.holdout, a.seed, a.max_chars)
    path = examples.write(ds, into, run, picked, a.holdout, a.seed)
    per = picked.per_criterion()
    from labeler.judge.run import template_problems

    problems = [msg for _, msg in template_problems(ds, into)]
    out = {"file": path, "version": into, "from_run": run, "examples": len(picked.examples),
           "cases": len({e.case for e in picked.examples}), "per_criterion": {c: per.get(c, 0) for c in ds.rubric().criteria},
           "considered": picked.considered, "left_out": dict(picked.skipped), "holdout": a.holdout, "seed": a.seed,
           "prompt_problems": problems}
    if a.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"wrote {path}: {out['examples']} example(s) from {out['cases']} case(s) for judge prompt v{into} "
              f"(of {picked.considered} corrections; left out: "
              + (", ".join(f"{k} {v}" for k, v in sorted(picked.skipped.items())) or "none") + ")")
        print("  per criterion: " + ", ".join(f"{c} {n}" for c, n in out["per_criterion"].items()))
        for msg in problems:
            print(f"  note: {msg}")
    return EXIT_OK


def _judge_compare(a: argparse.Namespace) -> int:
    from labeler.judge.run import compare_runs

    ds = _open(a.dataset)
    ma, va = ds.judge_run(_run_name(a.run_a))
    mb, vb = ds.judge_run(_run_name(a.run_b))
    if ma.rubric_version != mb.rubric_version:
        sys.stderr.write(f"note: runs used rubric v{ma.rubric_version} and v{mb.rubric_version}\n")
    comps = compare_runs(va, vb, ds.rubric())
    cis = {c.criterion: _share_ci(c.agreement, c.n) for c in comps}
    if a.json:
        print(json.dumps([{"criterion": c.criterion, "agreement": c.agreement, "cases": c.n, "ci95": cis[c.criterion],
                           "differ": [{"case": cid, "a": x, "b": y} for cid, x, y in c.differ]} for c in comps], indent=2))
        return EXIT_OK
    from rich.table import Table

    from labeler.safetext import one_line

    t = Table(title=f"{a.run_a} vs {a.run_b}")
    for col in ("criterion", "agreement", "cases", "differ on"):
        t.add_column(col)
    for c in comps:
        pct = "undefined" if c.agreement is None else f"{c.agreement:.0%}" + _ci_text(cis[c.criterion])
        cases = ", ".join(f"{one_line(cid, 40)} ({x}/{y})" for cid, x, y in c.differ[:6]) + (" ..." if len(c.differ) > 6 else "")
        t.add_row(c.criterion, pct, str(c.n), cases or "-")
    _console().print(t)
    return EXIT_OK


ACTIONS = {"compare": _judge_compare, "status": _judge_status, "drop": _judge_drop, "prompt": _judge_prompt,
           "examples": _judge_examples}
"""`labeler judge ACTION ...`: each a subcommand with its own --help; any other first word is the DATASET of a run."""


class _AnyWord(Mapping):
    """The sub-actions by name, except that any word passes argparse's choice check: one that is not an action
    is a DATASET."""

    def __init__(self, parsers: dict) -> None:
        self.parsers = parsers

    def __getitem__(self, key):
        return self.parsers[key]

    def __iter__(self):
        return iter(self.parsers)

    def __len__(self) -> int:
        return len(self.parsers)

    def __contains__(self, key) -> bool:
        return isinstance(key, str)


class _Actions(argparse._SubParsersAction):
    """Subcommands under `judge` beside `labeler judge DATASET --model M`: a known word opens its subcommand
    (parsed into the same namespace, so flags given before the word still count); any other word is the
    dataset, and what follows it is parsed with the run's own flags."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.choices = _AnyWord(self._name_parser_map)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        word, rest = values[0], list(values[1:])
        if word in self._name_parser_map:
            namespace.judge_action = word
            _, extra = self._name_parser_map[word].parse_known_args(rest, namespace)
        else:
            if getattr(namespace, "dataset", None) is not None:
                parser.error(f"unexpected argument {word!r} (usage: labeler judge DATASET --model M ...)")
            namespace.dataset = word
            self.required = False  # the dataset was given: the rest are the run's flags
            try:
                _, extra = parser.parse_known_args(rest, namespace)
            finally:
                self.required = True
        if extra:
            vars(namespace).setdefault(argparse._UNRECOGNIZED_ARGS_ATTR, []).extend(extra)


def register(add) -> None:
    """The subcommands of this module, with their flags."""
    sp = add("judge", cmd_judge)
    sub = sp.add_subparsers(action=_Actions, dest="judge_action", metavar="DATASET | SUBCOMMAND", required=True,
                            help="the dataset to judge, or one of:")
    sp.set_defaults(judge_action=None, dataset=None)

    def sadd(parent, name: str, help: str, description: str | None = None) -> argparse.ArgumentParser:
        return parent.add_parser(name, help=help.replace("%", "%%"), description=description or help)

    sp.add_argument("--model", default=None, help="the model name your endpoint serves (required for a run)")
    sp.add_argument("--base-url", default=None, help="an OpenAI-compatible endpoint (default: OpenAI)")
    sp.add_argument("--api-key-env", default="OPENAI_API_KEY", help="the environment variable holding the key (never stored)")
    sp.add_argument("--run", type=_name("run name"), default=None, help="run name (default: the model name)")
    sp.add_argument("--concurrency", type=_positive, default=8)
    sp.add_argument("--cases", default=None, help="tier:NAME, tag:NAME, or ids (comma-separated, * allowed)")
    sp.add_argument("--limit", type=_positive, default=None)
    sp.add_argument("--temperature", type=float, default=0.0)
    sp.add_argument("--repeat", type=_positive, default=1, help="ask R times (needs --temperature > 0) to measure self-consistency")
    sp.add_argument("--timeout", type=_seconds, default=60.0, help="seconds per request")
    sp.add_argument("--retries", type=int, default=2, help="retries with backoff on 429, 5xx and timeouts")
    sp.add_argument("--no-structured", action="store_true", help="ask for JSON in words instead of a response_format schema")
    sp.add_argument("--batch", action="store_true", help="use the Batch API (submit; rerun to collect)")
    sp.add_argument("--wait", type=float, default=0.0, help="with --batch: poll up to this many seconds for the result")
    sp.add_argument("--poll", type=float, default=10.0, help=argparse.SUPPRESS)
    sp.add_argument("--candidate", type=_name("candidate name"), default=None,
                    help="score this candidate's outputs (labeler candidate add) instead of the golden outputs")
    sp.add_argument("--prompt", type=_version, default=None, metavar="VERSION",
                    help="the judge prompt version to use (default: the newest; `labeler judge prompt list DATASET`)")
    sp.add_argument("--json", action="store_true")

    x = sadd(sub, "compare", "Two runs verdict by verdict: per criterion how often they agree and the cases they differ on.")
    x.add_argument("dataset")
    x.add_argument("run_a", metavar="RUN_A")
    x.add_argument("run_b", metavar="RUN_B")
    x.add_argument("--json", action="store_true")

    x = sadd(sub, "status", "Every run (or one): model, rubric version, cases, errors, and a Batch API job's state.")
    x.add_argument("dataset")
    x.add_argument("--run", type=_name("run name"), default=None, help="only this run")
    x.add_argument("--base-url", default=None, help="ask this endpoint for an uncollected batch's state")
    x.add_argument("--api-key-env", default="OPENAI_API_KEY", help="the environment variable holding the key (never stored)")
    x.add_argument("--json", action="store_true")

    x = sadd(sub, "drop", "Remove a run's folder (a failed or unwanted run); what was committed stays in git history.")
    x.add_argument("dataset")
    x.add_argument("run_name", metavar="RUN")
    x.add_argument("--force", action="store_true", help="drop a run that people audited")

    pp = sadd(sub, "prompt", "Versions of the judge's prompt: list, show, diff, bump.",
              "Versions of the judge's prompt, as rubric versions have them: rubrics/R/judge/vN.md (an old judge.md is v1), "
              "each version's few-shot examples in rubrics/R/judge-examples/vN.yaml. A version a run used never changes "
              "(`labeler validate` fails when one is edited in place): bump to make the next.")
    psub = pp.add_subparsers(dest="prompt_action", metavar="SUBCOMMAND", required=True)
    x = sadd(psub, "list", "Every version: its file, its examples, the runs that used it and their agreement with gold.",
             "Every version: its file, its examples, and the runs that used it, each with its agreement and kappa with "
             "gold per criterion, measured on held-out cases (never the cases its version showed as examples).")
    x.add_argument("dataset")
    x.add_argument("--json", action="store_true")
    x = sadd(psub, "show", "The template of a version and its examples.")
    x.add_argument("dataset")
    x.add_argument("version", nargs="?", type=_version, default=None, help="N or vN (default: the newest)")
    x.add_argument("--json", action="store_true")
    x = sadd(psub, "diff", "What changed between two versions: the template line by line, examples added and removed.")
    x.add_argument("dataset")
    x.add_argument("a", type=_version, metavar="VERSION_A")
    x.add_argument("b", type=_version, metavar="VERSION_B")
    x = sadd(psub, "bump", "Start version N+1 from the newest (or FROM_VERSION); adds the {examples} placeholder when missing.")
    x.add_argument("dataset")
    x.add_argument("version", nargs="?", type=_version, default=None, metavar="FROM_VERSION", help="N or vN (default: the newest)")
    x.add_argument("--json", action="store_true")

    x = sadd(sub, "examples", "Few-shot examples for a prompt version from corrected verdicts; held-out cases never used.",
             "Few-shot examples for a judge prompt version from what people corrected: audited verdicts the judge got "
             "wrong (the auditor's note explains each) and adjudicated gold with the lead's reason; balanced across "
             "criteria and scale points. Only cases outside a seeded held-out split may become examples, and a case "
             "whose label is stale or whose gold is in conflict never does.")
    x.add_argument("dataset")
    x.add_argument("--from", dest="from_run", required=True, metavar="RUN", help="the audited run")
    x.add_argument("--per-criterion", type=_positive, default=3, help="examples per criterion (default 3)")
    x.add_argument("--into", type=_version, default=None, metavar="VERSION",
                   help="the prompt version that gets them (default: the newest; never a used one)")
    x.add_argument("--holdout", type=_holdout, default=0.5, help="the share of cases kept out of examples for measuring "
                                                               "(a split fixed per case by --seed; default 0.5)")
    x.add_argument("--seed", type=int, default=0, help="the seed of the held-out split")
    x.add_argument("--max-chars", type=_positive, default=1200, help="longer inputs and outputs are trimmed")
    x.add_argument("--json", action="store_true")
