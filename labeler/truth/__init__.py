"""The YAML truth: file formats (pydantic models), YAML in and out, append-only logs, the dataset store."""
