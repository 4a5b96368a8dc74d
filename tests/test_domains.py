"""The labelled enumerations in rigenera/domains.py equal the database's CHECK constraints."""

import re

import pytest

from conftest import query
from rigenera.domains import DOMAINS


@pytest.mark.parametrize(("table", "column"), sorted(DOMAINS))
def test_domain_matches_check_constraint(dsn, table, column):
    rows = query(
        dsn,
        "SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c"
        " JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace"
        " WHERE n.nspname = 'rigenera' AND t.relname = %s AND c.contype = 'c'"
        " AND pg_get_constraintdef(c.oid) LIKE %s",
        (table, f"%({column} = ANY%"),
    )
    assert len(rows) == 1, rows
    in_db = set(re.findall(r"'([a-z0-9_]+)'::text", rows[0][0]))
    assert in_db == set(DOMAINS[(table, column)])


def test_every_label_is_bilingual():
    for labels in DOMAINS.values():
        for it, en in labels.values():
            assert it and en
