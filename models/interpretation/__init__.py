"""Interpretation: measured signals become scores, levels, moments and feedback."""
