"""Reading a process's ``inputs``: one set of checks and messages for every processor.

Each failure is an ``InvalidInput`` (400) whose message names the input, Italian first,
so a client learns which input was wrong and why, whichever process it called.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from rigenera.inputs import finite_number, shown
from rigenera.processes.manager import InvalidInput


def invalid(name: str, it: str, en: str) -> InvalidInput:
    return InvalidInput(user_msg=f"{name}: {it} / {en}")


def inputs_object(data: Any, allowed: Iterable[str]) -> dict[str, Any]:
    """The execute request's ``inputs`` as a dict (absent = {}), every key a known input."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise invalid("inputs", "atteso un oggetto", "expected an object")
    names = list(allowed)
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise invalid(shown(unknown[0]), f"input sconosciuto, ammessi: {', '.join(names)}",
                      f"unknown input, allowed: {', '.join(names)}")
    return data


def code_list(data: dict[str, Any], name: str, valid: Callable[[str], object],
              allowed: str) -> list[str] | None:
    """An optional list of codes, sorted and unique; None (no filter) when absent, null or
    empty. ``allowed`` says in the message what would have been accepted."""
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, list):
        raise invalid(name, "atteso un elenco", "expected an array")
    for item in value:
        if not isinstance(item, str) or not valid(item):
            quoted = shown(item) if isinstance(item, str) else ascii(item)[:40]
            raise invalid(name, f"valore non valido {quoted}, ammessi: {allowed}",
                          f"invalid value {quoted}, allowed: {allowed}")
    return sorted(set(value)) or None


def distance(data: dict[str, Any], name: str, default: float, low: float, high: float, *,
             low_inclusive: bool = True) -> float:
    """A distance in metres within [low, high] (or (low, high]); the default when absent."""
    value = data.get(name)
    if value is None:
        return default
    inside = finite_number(value) and (low <= value if low_inclusive else low < value) \
        and value <= high
    if not inside:
        if low_inclusive:
            raise invalid(name, f"atteso un numero da {low:g} a {high:g}",
                          f"expected a number from {low:g} to {high:g}")
        raise invalid(name, f"atteso un numero oltre {low:g} e fino a {high:g}",
                      f"expected a number above {low:g} and up to {high:g}")
    return float(value)
