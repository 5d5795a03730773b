"""labeler: golden sets for LLM features, labeled by people against a versioned rubric, in plain YAML in git."""

__version__ = "0.1.0"
