"""Monitoring a project (issue 11): documents, checklist, reporting calendar, summary."""
