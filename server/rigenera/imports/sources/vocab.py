"""The built-in sources' vocabularies, kept as YAML next to the code.

Domain knowledge (which census condition means 'abandoned', which ReGiS column is
which funding source, which PNRR measures are in scope) is data: it lives in
``sources/*.yml``, is read here, and is compared like the engine's mappings compare
(case, spaces and separators ignored), so ``ATTIVO`` and ``Attivo`` are the same word.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from rigenera.errors import ImportDataError
from rigenera.imports.mapping import norm

HERE = Path(__file__).parent


def word(value: str) -> str:
    """The comparison form of a value: the import engine's (case, spaces and separators
    ignored), so a source's vocabulary and a user's mapping compare words alike."""
    return norm(value)


@cache
def load_yaml(name: str) -> dict[str, Any]:
    """One of the YAML files of this package (cached: they do not change at run time)."""
    return read_yaml(HERE / name)


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ImportDataError(f"{path.name}: {exc}",
                              errors=[{"field": path.name, "reason": str(exc)}]) from None
    if not isinstance(doc, dict):
        raise ImportDataError(f"{path.name}: not a YAML mapping",
                              errors=[{"field": path.name, "reason": "not a YAML mapping"}])
    return doc


class Vocabulary:
    """code -> synonyms, looked up by any synonym (or the code itself)."""

    def __init__(self, name: str, table: Mapping[str, Iterable[str] | None]) -> None:
        self.name = name
        self.codes = tuple(table)
        self._by_word: dict[str, str] = {}
        for code, synonyms in table.items():
            for s in (code, *(synonyms or ())):
                self._by_word[word(str(s))] = code

    def get(self, value: str | None) -> str | None:
        return None if value is None else self._by_word.get(word(value))

    def __contains__(self, value: object) -> bool:
        return isinstance(value, str) and word(value) in self._by_word


def vocabulary(file: str, key: str) -> Vocabulary:
    return Vocabulary(key, load_yaml(file)[key])
