"""The demo set must never be published next to real rows.

Demo rows are the ones whose ``source`` is the demo file's attribution
("Demo Rigenera (dati inventati)"). Removing them is an import-mode DELETE, so the
set-wise history triggers record every deletion (actor ``import:<who>``).
"""

from __future__ import annotations

import json
from functools import cache

from psycopg2.extensions import cursor as Cursor

from rigenera.loaders.common import begin_import, import_note
from rigenera.loaders.demo import DEMO_FILE

# Children first: funding lines and links go with their project (ON DELETE CASCADE),
# but deleting them explicitly records them in history too.
TABLES = ("funding_lines", "progress_reports", "milestones", "tenders", "projects", "sites",
          "mobility_links", "transit_stops", "needs", "calls", "events", "contacts",
          "referents")
# events take their materials with them (ON DELETE CASCADE); registrations are counted above.


@cache
def demo_source() -> str:
    """The demo set's attribution string, as the demo loader writes it."""
    return str(json.loads(DEMO_FILE.read_text(encoding="utf-8"))["source"])


def demo_counts(cur: Cursor) -> dict[str, int]:
    """Demo rows per collection (only the collections that hold some)."""
    sql = " UNION ALL ".join(
        f"SELECT '{t}', count(*) FROM rigenera.{t} WHERE source = %(s)s" for t in TABLES) + (
        " UNION ALL SELECT 'event_registrations', count(*) FROM rigenera.event_registrations r"
        " JOIN rigenera.events e ON e.id = r.event_id WHERE e.source = %(s)s")
    cur.execute(sql, {"s": demo_source()})
    return {t: int(n) for t, n in cur.fetchall() if n}


def remove_demo(cur: Cursor, actor: str = "demo-remove") -> dict[str, int]:
    """Delete every demo row in the caller's transaction; rows deleted per collection.

    Funding lines of demo projects (whatever their source) go with them; project
    comuni/sites links cascade."""
    begin_import(cur, actor)
    import_note(cur, "rimozione del set dimostrativo / demo set removed")
    source = demo_source()
    out: dict[str, int] = {}
    cur.execute("DELETE FROM rigenera.funding_lines f USING rigenera.projects p"
                " WHERE f.project_id = p.id AND p.source = %s", (source,))
    if cur.rowcount:
        out["funding_lines"] = cur.rowcount
    # Registrations would go with their demo event (ON DELETE CASCADE); deleted here so
    # the count says what went, like the funding lines.
    cur.execute("DELETE FROM rigenera.event_registrations r USING rigenera.events e"
                " WHERE r.event_id = e.id AND e.source = %s", (source,))
    if cur.rowcount:
        out["event_registrations"] = cur.rowcount
    for t in TABLES:
        cur.execute(f"DELETE FROM rigenera.{t} WHERE source = %s", (source,))
        if cur.rowcount:
            out[t] = out.get(t, 0) + cur.rowcount
    return out
