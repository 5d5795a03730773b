"""Git: identity, commits of labeler's own files, sync, history."""
