"""The Connect dialog against a real server: roles, comuni, clear messages, no tracebacks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from conftest import MILANO, PASSWORD, RigeneraServer, free_port


@pytest.fixture(scope="module")
def italian(qgis_app: Any) -> Iterator[None]:
    """The plugin speaking Italian, as for an Italian QGIS (compiled .qm from the .ts)."""
    import build

    from rigenera_qgis.toolbelt import i18n

    build.compile_translations()
    assert i18n.install_translator("it_IT") is not None
    yield
    i18n.remove_translator()


@pytest.fixture(autouse=True)
def saved_connection_restored(qgis_app: Any) -> Iterator[None]:
    """The session's other tests see the saved connection as it was before."""
    from rigenera_qgis.core.connection import Connection

    before = Connection.load()
    yield
    if before is None:
        Connection.forget()
    else:
        before.save()


@pytest.fixture
def dialog(qgis_app: Any, italian: None, server: RigeneraServer) -> Iterator[Any]:
    from rigenera_qgis.core.connection import Connection
    from rigenera_qgis.gui.connect_dialog import ConnectDialog

    dlg = ConnectDialog(None, Connection(server.url))
    yield dlg
    dlg.reject()
    dlg.deleteLater()


def _all_settings() -> dict[str, str]:
    from qgis.core import QgsSettings

    settings = QgsSettings()
    return {key: str(settings.value(key)) for key in settings.allKeys()}


def test_connect_with_authcfg_shows_role_and_comuni(dialog: Any, auth_for: Any) -> None:
    dialog.use_authcfg(auth_for("tecnico"))
    outcome = dialog.test_connection()

    assert outcome.ok, outcome.message
    assert (outcome.username, outcome.role, outcome.comuni) == ("tecnico", "technician", [MILANO])
    text = dialog.status_text()
    assert "Connesso come tecnico (tecnico)" in text
    assert "015146 Milano" in text
    assert dialog.statusLabel.isVisibleTo(dialog)


@pytest.mark.parametrize(("user", "label"), [("admin", "amministratore"),
                                             ("coord", "coordinatore"),
                                             ("volontario", "volontario")])
def test_every_role_has_an_italian_label(dialog: Any, auth_for: Any, user: str,
                                         label: str) -> None:
    dialog.use_authcfg(auth_for(user))
    outcome = dialog.test_connection()
    assert outcome.ok, outcome.message
    assert f"({label})" in dialog.status_text()
    assert "Comuni: tutti" in dialog.status_text()


def test_save_with_authcfg_keeps_only_url_and_id(dialog: Any, auth_for: Any,
                                                 server: RigeneraServer) -> None:
    from rigenera_qgis.core.connection import Connection

    authcfg = auth_for("tecnico")
    dialog.urlEdit.setText(server.url + "/ogc/")  # pasted OGC address: the root is kept
    dialog.use_authcfg(authcfg)
    saved = dialog.save_connection()

    assert saved is not None
    loaded = Connection.load()
    assert loaded is not None
    assert (loaded.url, loaded.authcfg) == (server.url, authcfg)
    assert not any(PASSWORD in value for value in _all_settings().values())


def test_password_goes_to_the_auth_database_only(dialog: Any, server: RigeneraServer) -> None:
    from qgis.core import QgsApplication, QgsAuthMethodConfig

    from rigenera_qgis.core.connection import Connection
    from rigenera_qgis.gui.connect_dialog import ConnectDialog

    manager = QgsApplication.authManager()
    before = set(manager.configIds())
    dialog.use_password("tecnico", PASSWORD)
    saved = dialog.save_connection()

    assert saved is not None and saved.authcfg
    created = set(manager.configIds()) - before
    assert created == {saved.authcfg}, "one configuration, the test one reused, none left over"
    config = QgsAuthMethodConfig()
    assert manager.loadAuthenticationConfig(saved.authcfg, config, True)
    assert config.method() == "Basic"
    assert config.config("username") == "tecnico"
    assert config.name().startswith("Rigenera tecnico@127.0.0.1")
    assert not any(PASSWORD in value for value in _all_settings().values())

    # Reopened: the saved user is shown, the password is not, and it still works.
    again = ConnectDialog(None, Connection.load())
    try:
        assert again.usernameEdit.text() == "tecnico"
        assert again.passwordEdit.text() == ""
        outcome = again.test_connection()
        assert outcome.ok, outcome.message
        # A new password updates the same configuration instead of adding one.
        again.use_password("tecnico", PASSWORD)
        assert again.save_connection() is not None
        assert Connection.load().authcfg == saved.authcfg
        assert set(manager.configIds()) - before == {saved.authcfg}
    finally:
        again.reject()


def test_choosing_an_existing_configuration_leaves_no_test_one(dialog: Any,
                                                               auth_for: Any) -> None:
    from qgis.core import QgsApplication

    manager = QgsApplication.authManager()
    authcfg = auth_for("tecnico")
    before = set(manager.configIds())
    dialog.use_password("tecnico", PASSWORD)
    assert dialog.test_connection().ok  # made a temporary configuration
    dialog.use_authcfg(authcfg)
    saved = dialog.save_connection()
    assert saved is not None and saved.authcfg == authcfg
    assert set(manager.configIds()) == before


def test_wrong_password_is_a_clear_message(dialog: Any, auth_for: Any) -> None:
    from qgis.core import QgsApplication

    dialog.use_authcfg(auth_for("tecnico", "password-sbagliata"))
    outcome = dialog.test_connection()
    assert not outcome.ok
    assert outcome.kind == "auth"
    assert dialog.status_text() == ("Nome utente o password errati: il server ha rifiutato "
                                    "le credenziali.")
    assert "Traceback" not in dialog.status_text()

    # Typed in the dialog: the same message, and the temporary configuration
    # made for the test disappears when the dialog is cancelled.
    manager = QgsApplication.authManager()
    before = set(manager.configIds())
    dialog.use_password("tecnico", "ancora-sbagliata")
    outcome = dialog.test_connection()
    assert outcome.kind == "auth"
    assert dialog.save_connection() is None  # OK refuses to save what the server refused
    dialog.reject()
    assert set(manager.configIds()) == before


def test_unreachable_server_is_a_clear_message(dialog: Any, auth_for: Any) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    dialog.urlEdit.setText(url)
    dialog.use_authcfg(auth_for("tecnico"))
    outcome = dialog.test_connection()
    assert not outcome.ok
    assert outcome.kind == "unreachable"
    assert dialog.status_text().startswith(f"Il server non risponde all'indirizzo {url}.")


@pytest.mark.parametrize(("url", "expected"), [
    ("", "Inserisci l'indirizzo del server."),
    ("ftp://example.org", "L'indirizzo del server deve iniziare con http:// o https://."),
])
def test_invalid_address(dialog: Any, url: str, expected: str) -> None:
    dialog.urlEdit.setText(url)
    outcome = dialog.test_connection()
    assert (outcome.ok, outcome.kind, dialog.status_text()) == (False, "invalid", expected)


def test_missing_credentials(dialog: Any) -> None:
    dialog.use_password("", "")
    assert dialog.test_connection().message == "Inserisci il nome utente."
    dialog.use_password("tecnico", "")
    assert dialog.test_connection().message == "Inserisci la password."
    dialog.use_authcfg("")
    assert dialog.test_connection().message.startswith("Scegli una configurazione")


def test_dialog_texts_are_italian(dialog: Any) -> None:
    assert dialog.windowTitle() == "Rigenera – Connessione al server"
    assert dialog.testButton.text() == "Prova connessione"
    assert dialog.passwordRadio.text() == "Nome utente e password"
