"""Subjects: the sessions a key's owner chose to keep under a subject id, for progress against a person's own
baseline (models/progress.py)."""
