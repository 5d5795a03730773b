"""Only labeler/ui imports Textual; the domain (everything else) is usable and testable alone."""

import pkgutil
import subprocess
import sys

import labeler


def test_domain_does_not_import_textual():
    modules = sorted(m.name for m in pkgutil.walk_packages(labeler.__path__, "labeler.")
                     if not m.name.startswith("labeler.ui") and m.name != "labeler.__main__")
    assert len(modules) > 30 and "labeler.derived.label_table" in modules
    code = (
        f"import sys, importlib\nfor m in {modules!r}: importlib.import_module(m)\n"
        "bad = [m for m in ('textual',) if m in sys.modules]\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_the_cli_starts_without_openai_or_git():
    code = "import sys, labeler.cli.main\nprint(','.join(m for m in ('textual', 'openai', 'git', 'numpy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
