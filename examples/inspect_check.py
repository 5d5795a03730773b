"""Load labeler's Inspect export with the real Inspect AI and score it with its mockllm model (no network).

    python -m venv /tmp/inspect-venv && /tmp/inspect-venv/bin/pip install inspect-ai    # once, outside the project
    /tmp/inspect-venv/bin/python examples/inspect_check.py [--labeler-python .venv/bin/python]

A case without a reference used to export `target: ""`, which Inspect's `includes()` counts as correct whatever
the model says (55 of the example's 60 samples). Its target is now the rubric's criteria (what `model_graded_qa`
grades against), so a constant mock answer scores 0 with `includes()`. Prints the figures; exit 1 if any sample
would pass a string scorer blindly. (mockllm counts tokens with tiktoken, which downloads its tables: a rough
count stands in for it here, offline.)
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--labeler-python", default=str(ROOT / ".venv/bin/python"), help="a python that can run labeler")
    a = ap.parse_args()
    import inspect_ai
    import inspect_ai.model._model as model_mod
    import inspect_ai.model._tokens as tokens
    from inspect_ai import Task, eval as inspect_eval
    from inspect_ai.dataset import json_dataset
    from inspect_ai.scorer import includes
    from inspect_ai.solver import generate

    tokens.count_text_tokens = model_mod.count_text_tokens = lambda text: len(text) // 4  # offline
    work = Path(tempfile.mkdtemp(prefix="inspect-check-"))
    shutil.copytree(ROOT / "tests/fixtures/example", work / "ws")
    out = work / "inspect.jsonl"
    subprocess.run([a.labeler_python, "-m", "labeler", "export", "support-summary", "--format", "inspect", "--out", str(out)],
                   cwd=work / "ws", env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, check=True)
    ds = json_dataset(str(out))
    blind = [s.id for s in ds if not s.target]
    logs = inspect_eval(Task(dataset=ds, solver=generate(), scorer=includes()), model="mockllm/model", display="none",
                        log_dir=str(work / "logs"))
    acc = logs[0].results.scores[0].metrics["accuracy"].value
    print(f"inspect_ai {inspect_ai.__version__}: {len(ds)} samples loaded, {sum(1 for s in ds if s.metadata['target_is'] == 'rubric')} "
          f"graded against the rubric, {len(blind)} with an empty target; includes() on mockllm's constant answer: accuracy {acc}")
    return 1 if blind or acc > 0.2 else 0


if __name__ == "__main__":
    raise SystemExit(main())
