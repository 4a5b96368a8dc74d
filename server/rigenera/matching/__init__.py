"""Needs matched to funding calls (bandi): the SQL that checks every criterion, the reasons
in Italian and English, the HTTP routes and the OGC API Process ``match-calls``."""
