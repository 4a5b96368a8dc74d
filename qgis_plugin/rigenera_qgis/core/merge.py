"""Three-way merge of one feature: base (as checked out), mine (the working copy), theirs (the server).

Why: when two people edit the same feature, sending "my whole feature" puts
back the values the other person changed and I never touched. Only what each
side changed since the base counts: a field changed on one side only takes
that side's value; a field changed on both sides to different values is a real
conflict, which the user decides (``prefer``; "mine" when not told). The
geometry is one more field (``GEOMETRY``, compared as WKB). Pure Python: no
QGIS, no I/O.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Optional

GEOMETRY = "geometry"
MINE, THEIRS = "mine", "theirs"


def changed(base: Mapping[str, Any], side: Mapping[str, Any], names: Iterable[str]) -> List[str]:
    """The names whose value on ``side`` differs from the base."""
    return [k for k in names if side.get(k) != base.get(k)]


def sides(base: Mapping[str, Any], mine: Mapping[str, Any], theirs: Mapping[str, Any],
          names: Iterable[str], prefer: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """For each name where mine and theirs differ, the side whose value the merge keeps.

    ``prefer`` (name -> "mine" | "theirs") decides the names it lists; the others
    follow the rule: changed by me -> mine (also when they changed it too),
    changed by them only -> theirs.
    """
    prefer = prefer or {}
    bad = {k: v for k, v in prefer.items() if v not in (MINE, THEIRS)}
    if bad:
        raise ValueError(f"scelta non valida / invalid choice: {bad!r}")
    out: Dict[str, str] = {}
    for k in names:
        if mine.get(k) == theirs.get(k):
            continue
        out[k] = prefer.get(k) or (MINE if mine.get(k) != base.get(k) else THEIRS)
    return out
