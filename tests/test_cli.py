"""The CLI through a real subprocess: exit codes, messages, --json."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path



def run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "labeler", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_every_command_has_help(tmp_path: Path):
    for cmd in ("init", "import", "sample", "validate", "status", "agreement", "label", "review"):
        r = run(tmp_path, cmd, "--help")
        assert r.returncode == 0 and "usage: labeler" in r.stdout, cmd


def test_validate_passes_on_example_and_fails_on_broken_copy(example: Path, example_ds: Path):
    r = run(example, "validate")
    assert r.returncode == 0, r.stdout + r.stderr
    lab = example_ds / "labels" / "alice.yaml"
    lines = lab.read_text().splitlines(keepends=True)
    lines[3] = lines[3].replace('"tone": ', '"tonality": ')
    lab.write_text("".join(lines))
    r = run(example, "validate")
    assert r.returncode == 1
    assert "alice.yaml:" in r.stdout and "unknown criterion 'tonality'" in r.stdout


def test_validate_catches_a_used_rubric_edited_in_place(example: Path):
    p = example / "rubrics" / "support-summary" / "v1.yaml"
    p.write_text(p.read_text().replace("The tone fits.", "The tone fits well."))
    r = run(example, "validate", "--json")
    assert r.returncode == 1
    msgs = [f["message"] for f in json.loads(r.stdout)]
    assert any("v1 was edited in place" in m for m in msgs)


def test_validate_reports_unknown_cases_and_values(example: Path, example_ds: Path):
    with open(example_ds / "labels" / "zed.yaml", "w") as f:
        f.write('- {"case": "nope", "rubric": 2, "values": {}}\n')
        f.write('- {"case": "wrong-item-good", "rubric": 2, "values": {"tone": 7}}\n')
        f.write('- {"case": "refund-double-charge-good", "rubric": 9, "values": {}}\n')
    r = run(example, "validate")
    assert r.returncode == 1
    assert "zed.yaml:1: error: label for unknown case 'nope'" in r.stdout
    assert "zed.yaml:2: error: label of wrong-item-good: tone: 7 is not on the scale" in r.stdout
    assert "zed.yaml:3: error: label of refund-double-charge-good made under rubric support-summary v9, which does not exist" in r.stdout


def test_agreement_gates(example: Path):
    r = run(example, "agreement", "support-summary", "--json")
    data = json.loads(r.stdout)
    assert r.returncode == 0 and data["groups"][0]["criteria"][0]["alpha"]["n"] > 0
    r = run(example, "agreement", "support-summary", "--min-alpha", "0.8")
    assert r.returncode == 1
    assert "gate failed: tone: alpha" in r.stderr and "under_80_words" in r.stderr
    r = run(example, "agreement", "support-summary", "--min-agreement", "0.5")
    assert r.returncode == 0 and "gates met" in r.stdout
    for by in ("version", "annotator", "tier", "tag"):
        r = run(example, "agreement", "support-summary", "--by", by)
        assert r.returncode == 0, by


def test_init_import_dedupe_sample_status(tmp_path: Path):
    assert run(tmp_path, "init", "demo").returncode == 0
    assert run(tmp_path, "init", "demo").returncode == 1  # never overwrites
    rows = [{"input": f"q{i}", "output": f"a{i}", "tags": "x,y", "difficulty": "hard" if i % 5 == 0 else "easy"} for i in range(40)]
    rows.append(rows[3])  # duplicate
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    r = run(tmp_path, "import", "demo", str(src), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"added": 40, "duplicates_skipped": 1, "cases": 40, "ids_from": ["content hash"]}
    r = run(tmp_path, "import", "demo", str(src), "--json")
    assert json.loads(r.stdout)["added"] == 0  # idempotent: stable ids, dedupe by content
    csv = tmp_path / "in.csv"
    csv.write_text("prompt,completion\nhello,world\n")
    r = run(tmp_path, "import", "demo", str(csv), "--input-field", "prompt", "--output-field", "completion", "--json")
    assert json.loads(r.stdout)["added"] == 1
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"input": "a", "output": "b"}\nnot json\n')
    r = run(tmp_path, "import", "demo", str(bad))
    assert r.returncode == 1 and "bad.jsonl:2:" in r.stderr
    a = run(tmp_path, "sample", "demo", "--n", "10", "--seed", "7", "--json")
    b = run(tmp_path, "sample", "demo", "--n", "10", "--seed", "7", "--json")
    assert a.returncode == 0 and a.stdout == b.stdout
    picked = json.loads(a.stdout)
    assert len(picked["picked"]) == 10
    assert picked["strata"]["edge"]["picked"] >= 2  # hard cases are the edge stratum
    r = run(tmp_path, "sample", "demo", "--n", "10", "--into", "demo-golden")
    assert r.returncode == 0 and (tmp_path / "datasets" / "demo-golden" / "cases.yaml").exists()
    r = run(tmp_path, "status", "demo", "--json")
    st = json.loads(r.stdout)
    assert st["cases"] == 41 and st["overlap_reached"] == 0
    assert run(tmp_path, "validate").returncode == 0


def test_errors_are_one_line_with_nonzero_exit(tmp_path: Path, example: Path):
    r = run(example, "status", "nope")
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "no such dataset" in r.stderr
    (example / "datasets" / "support-summary" / "dataset.yaml").write_text("name: [\n")
    r = run(example, "status", "support-summary")
    assert r.returncode == 1 and "dataset.yaml:2: invalid YAML" in r.stderr and r.stderr.count("\n") == 1


def test_cli_tables_print_markup_and_escapes_literally(tmp_path: Path):
    assert run(tmp_path, "init", "demo").returncode == 0
    rub = tmp_path / "rubrics" / "demo" / "v1.yaml"
    rub.write_text(rub.read_text().replace("label: wrong", 'label: "[bold red]wrong[/] \\e]0;pwned\\a"'))  # YAML escapes: real ESC, BEL
    r = run(tmp_path, "rubric", "show", "demo")
    assert r.returncode == 0
    assert "[bold red]wrong[/]" in r.stdout and "\x1b" not in r.stdout and "␛]0;pwned␇" in r.stdout


def test_a_reader_that_stops_early_is_not_a_failure(example: Path):
    """`labeler winrate ... | head -2`: the pipe closes under a long table; exit 0, nothing on stderr (Rich exits 1)."""
    proc = subprocess.Popen([sys.executable, "-m", "labeler", "winrate", "support-pairwise"], cwd=example,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0 and err == ""


def test_commit_after_init_leaves_the_tree_clean_marker_included(tmp_path: Path):
    git = lambda *a: subprocess.run(["git", *a], cwd=tmp_path, capture_output=True, text=True, check=True).stdout  # noqa: E731
    git("init", "-q")
    git("config", "user.email", "lead@example.com")
    git("config", "user.name", "Lead")
    assert run(tmp_path, "init", "demo").returncode == 0
    assert (tmp_path / ".labeler").is_file()
    r = run(tmp_path, "commit", "demo")
    assert r.returncode == 0, r.stderr
    assert git("status", "--porcelain", "--untracked-files=all") == ""
    assert ".labeler" in git("ls-files").split()
    assert "- Mark the workspace" in git("log", "-1", "--format=%B")


def test_agreement_json_gives_a_band_word_only_for_an_interval_in_one_band(example: Path):
    """The shipped tone: alpha 0.716, a "substantial" point, but its 95% interval reaches from fair to almost
    perfect; a script reading --json must not get the point's word where the table shows the span."""
    r = run(example, "agreement", "support-summary", "--json")
    data = json.loads(r.stdout)
    crit = {c["criterion"]: c for c in data["groups"][0]["criteria"]}
    ci = data["intervals"]["criteria"]

    def word(x: float) -> str:  # Landis and Koch (1977), written out here
        return next(w for top, w in ((0.0, "poor"), (0.2, "slight"), (0.4, "fair"), (0.6, "moderate"), (0.8, "substantial"),
                                     (1.0, "almost perfect")) if (x < top if top == 0.0 else x <= top))

    lo, hi = ci["tone"]["alpha"]["low"], ci["tone"]["alpha"]["high"]
    assert 0.6 < crit["tone"]["alpha"]["value"] <= 0.8 and word(lo) != word(hi)  # the shipped case the issue names
    for name, c in crit.items():
        lo, hi = ci[name]["alpha"]["low"], ci[name]["alpha"]["high"]
        assert c["alpha"]["band"] == (word(lo) if word(lo) == word(hi) else f"{word(lo)} to {word(hi)}"), name
