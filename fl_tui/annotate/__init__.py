"""Scoring a benchmark run's answers against a rubric, by people (blind, resumable) or by a judge model.

rubric: the 1–5 scale and each prompt's aspects; store: the annotation files; session: scoring one item at a time;
stats: quality per model and agreement between raters; judge: a model as a rater. None of it imports Textual.
"""
