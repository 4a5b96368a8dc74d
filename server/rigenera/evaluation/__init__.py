"""Evaluation (issue 11): planned against achieved outcomes, spending, delays, PNRR euros
per inhabitant, sites regenerated, nearness to transit and the vulnerability index, per
project, per comune and for the metro area (tables.py; HTTP in routes/evaluation.py)."""

from rigenera.evaluation.params import EvaluationParams, parse
from rigenera.evaluation.tables import NOTES, evaluation_tables

__all__ = ["NOTES", "EvaluationParams", "evaluation_tables", "parse"]
