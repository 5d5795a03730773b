"""The rules each screen presents (labeling, review, audit): plain Python, tested without a UI."""
