"""core.client over QGIS's network stack against the real server."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from conftest import MILANO, RigeneraServer, free_port


def test_me_through_authcfg(server: RigeneraServer, auth_for: Callable[..., str]) -> None:
    from rigenera_qgis.core.client import RigeneraClient

    me = RigeneraClient(server.url, auth_for("tecnico")).me()
    assert me == {"username": "tecnico", "role": "technician", "comuni": [MILANO]}


def test_wrong_password_is_auth_failed(server: RigeneraServer, auth_for: Callable[..., str]) -> None:
    from rigenera_qgis.core.client import AuthFailed, RigeneraClient

    with pytest.raises(AuthFailed) as err:
        RigeneraClient(server.url, auth_for("tecnico", "sbagliata")).me()
    assert err.value.status == 401
    assert err.value.message()


def test_unreachable_is_connection_failed(qgis_app: Any) -> None:
    from rigenera_qgis.core.client import ConnectionFailed, RigeneraClient

    with pytest.raises(ConnectionFailed) as err:
        RigeneraClient(f"http://127.0.0.1:{free_port()}", timeout_ms=5000).me()
    assert err.value.status == 0
    assert "127.0.0.1" in err.value.message()


def test_items_follow_next_links(server: RigeneraServer) -> None:
    from rigenera_qgis.core.client import RigeneraClient

    client = RigeneraClient(server.url)
    ids = [f["id"] for f in client.items("sites", page_size=2)]
    (count,) = server.sql("SELECT count(*) FROM rigenera.sites")[0]
    assert len(ids) == len(set(ids)) == count


def test_item_missing_is_none_and_errors_carry_fields(server: RigeneraServer,
                                                      auth_for: Callable[..., str]) -> None:
    from rigenera_qgis.core.client import ApiError, RigeneraClient

    client = RigeneraClient(server.url, auth_for("tecnico"))
    assert client.item("sites", "999999999") is None
    with pytest.raises(ApiError) as err:
        client.changeset([{"action": "create", "collection": "sites",
                           "feature": {"type": "Feature", "properties": {"state": "ufo"},
                                       "geometry": None}}])
    assert err.value.status == 422
    fields = {e.get("field") for p in err.value.problems for e in p.get("errors", [])}
    assert "state" in fields
