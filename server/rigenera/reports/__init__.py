"""Rendicontazione: the reports of the programme (issue #11)."""
