"""Derived, git-ignored state built from the truth: columns, caches, queues, staleness."""
