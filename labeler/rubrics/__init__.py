"""The tightening loop: evidence, the next rubric version, diffs between versions."""
