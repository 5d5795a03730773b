"""The domain never imports Textual (or openai): it must be usable and testable alone."""

import subprocess
import sys


def test_domain_does_not_import_textual():
    code = (
        "import sys, labeler.cli, labeler.store, labeler.session, labeler.review, labeler.report, labeler.validate, "
        "labeler.importer, labeler.status\n"
        "bad = [m for m in ('textual', 'openai', 'git') if m in sys.modules]\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
