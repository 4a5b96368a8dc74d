"""The "Connect" dialog: server address, credentials, connection test.

The password typed here goes straight into QGIS's encrypted authentication
database (a Basic configuration, see ``core/auth.py``); the settings keep only
the server address and the configuration id (``core/connection.py``). A test
uses a temporary configuration, removed when the dialog is cancelled.

Testable without clicking: :meth:`ConnectDialog.test_connection` returns a
:class:`ConnectionOutcome` and leaves the text shown to the user in
:meth:`ConnectDialog.status_text`; :meth:`ConnectDialog.save_connection`
stores what :meth:`accept` would store.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from qgis.core import QgsApplication, QgsAuthMethodConfig
from qgis.PyQt import uic
from qgis.PyQt.QtWidgets import QDialog, QDialogButtonBox, QWidget

from ..core.auth import CredentialsError, authcfg_username, store_basic_credentials
from ..core.client import ApiError, AuthFailed, ConnectionFailed, RigeneraClient
from ..core.connection import Connection
from ..toolbelt import log
from ..toolbelt.i18n import tr

FORM_CLASS, _ = uic.loadUiType(str(Path(__file__).resolve().parent / "ui" / "connect_dialog.ui"))

OWN_CONFIG_PREFIX = "Rigenera"  # names of the configurations this dialog creates
TEST_TIMEOUT_MS = 15000


def role_label(role: str) -> str:
    """The role as the user reads it (Italian with the Italian translation)."""
    labels = {
        "admin": tr("administrator"),
        "coordinator": tr("coordinator"),
        "technician": tr("technician"),
        "volunteer": tr("volunteer"),
    }
    return labels.get(role, role)


def normalise_url(url: str) -> str:
    """``https://host/ogc/`` → ``https://host``: the server root the client expects."""
    url = url.strip().rstrip("/")
    if url.endswith("/ogc"):
        url = url[: -len("/ogc")]
    return url.rstrip("/")


@dataclass
class ConnectionOutcome:
    """What a connection test found."""

    ok: bool
    kind: str  # "ok", "auth", "unreachable", "refused", "invalid", "credentials", "error"
    message: str
    username: str = ""
    role: str = ""
    comuni: List[str] = field(default_factory=list)
    comuni_names: Dict[str, str] = field(default_factory=dict)


def _auth_configs() -> Dict[str, QgsAuthMethodConfig]:
    manager = QgsApplication.authManager()
    try:
        return dict(manager.availableAuthMethodConfigs())
    except Exception:  # noqa: BLE001 (disabled auth system: nothing to list)
        return {}


def _config_name(authcfg: str) -> str:
    config = _auth_configs().get(authcfg)
    return config.name() if config is not None else ""


class ConnectDialog(QDialog, FORM_CLASS):  # type: ignore[misc, valid-type]
    """Choose the server and the credentials, test them, save the connection."""

    def __init__(self, parent: Optional[QWidget] = None,
                 connection: Optional[Connection] = None) -> None:
        super().__init__(parent)
        self.setupUi(self)
        self.connection: Optional[Connection] = None  # the saved one, after OK
        self.last_outcome: Optional[ConnectionOutcome] = None
        self._temp_authcfg: Optional[str] = None
        self._tested_authcfg = ""
        self._saved = connection if connection is not None else Connection.load()
        self._saved_username = ""

        self.testButton.clicked.connect(self.test_connection)
        self.buttonBox.accepted.connect(self.accept)
        self.buttonBox.rejected.connect(self.reject)
        self.passwordRadio.toggled.connect(self._update_mode)
        self.authcfgRadio.toggled.connect(self._update_mode)
        self.urlEdit.textChanged.connect(self._clear_status)

        if self._saved is not None:
            self.urlEdit.setText(self._saved.url)
            if self._saved.authcfg:
                self._saved_username = authcfg_username(self._saved.authcfg)
                if self._owns(self._saved.authcfg):
                    self.usernameEdit.setText(self._saved_username)
                    self.passwordEdit.setPlaceholderText(tr("(saved: leave empty to keep it)"))
                else:
                    self.authcfgRadio.setChecked(True)
                    self.authConfigSelect.setConfigId(self._saved.authcfg)
        self._update_mode()

    # ------------------------------------------------------------------ form state
    @staticmethod
    def _owns(authcfg: str) -> bool:
        return _config_name(authcfg).startswith(OWN_CONFIG_PREFIX)

    def _update_mode(self, *_: Any) -> None:
        by_password = self.passwordRadio.isChecked()
        for widget in (self.usernameLabel, self.usernameEdit, self.passwordLabel, self.passwordEdit):
            widget.setEnabled(by_password)
        self.authConfigSelect.setEnabled(not by_password)

    def _clear_status(self, *_: Any) -> None:
        self.set_status("")

    def set_status(self, text: str, ok: Optional[bool] = None) -> None:
        colour = {True: "#1e7d32", False: "#b71c1c"}.get(ok)  # type: ignore[call-overload]
        self.statusLabel.setStyleSheet(f"color: {colour};" if colour else "")
        self.statusLabel.setText(text)

    def status_text(self) -> str:
        return str(self.statusLabel.text())

    def url(self) -> str:
        return normalise_url(self.urlEdit.text())

    def use_password(self, username: str, password: str) -> None:
        """Fill the user name and password fields (also for scripts and tests)."""
        self.passwordRadio.setChecked(True)
        self.usernameEdit.setText(username)
        self.passwordEdit.setText(password)

    def use_authcfg(self, authcfg: str) -> None:
        """Choose an existing authentication configuration (also for scripts and tests)."""
        self.authcfgRadio.setChecked(True)
        self.authConfigSelect.setConfigId(authcfg)

    # ------------------------------------------------------------------ credentials
    def _credentials_authcfg(self) -> str:
        """The configuration to test with; may create the temporary one. Raises ValueError."""
        if self.authcfgRadio.isChecked():
            authcfg = str(self.authConfigSelect.configId() or "")
            if not authcfg:
                raise ValueError(tr("Choose an authentication configuration, or enter user name "
                                    "and password."))
            return authcfg
        username = self.usernameEdit.text().strip()
        password = self.passwordEdit.text()
        if not username:
            raise ValueError(tr("Enter the user name."))
        if not password:
            if (self._saved is not None and self._saved.authcfg
                    and username == self._saved_username):
                return self._saved.authcfg  # unchanged: the saved password
            raise ValueError(tr("Enter the password."))
        self._temp_authcfg = store_basic_credentials(
            f"{OWN_CONFIG_PREFIX} (test) {username}", username, password, self._temp_authcfg)
        QgsApplication.authManager().clearCachedConfig(self._temp_authcfg)
        return self._temp_authcfg

    def _final_authcfg(self, tested: str) -> str:
        """The configuration to keep: an existing one chosen, else ours (created or updated)."""
        final = tested
        if self.passwordRadio.isChecked() and tested == self._temp_authcfg:
            username = self.usernameEdit.text().strip()
            host = self.url().split("://", 1)[-1]
            name = f"{OWN_CONFIG_PREFIX} {username}@{host}"
            target = None
            if self._saved is not None and self._saved.authcfg and self._owns(self._saved.authcfg):
                target = self._saved.authcfg  # update ours instead of piling up configurations
            final = store_basic_credentials(name, username, self.passwordEdit.text(),
                                            target or self._temp_authcfg)
            QgsApplication.authManager().clearCachedConfig(final)
        if self._temp_authcfg == final:
            self._temp_authcfg = None  # kept (renamed): no longer temporary
        else:
            self._remove_temp()
        return final

    def _remove_temp(self) -> None:
        if self._temp_authcfg:
            try:
                QgsApplication.authManager().removeAuthenticationConfig(self._temp_authcfg)
            except Exception as exc:  # noqa: BLE001 (best effort clean-up)
                log.warning(f"temporary authentication configuration not removed: {exc}")
            self._temp_authcfg = None

    # ------------------------------------------------------------------ actions
    def test_connection(self, *_: Any) -> ConnectionOutcome:
        """Ask the server who we are; show and return the outcome (never raises)."""
        outcome = self._test()
        self.last_outcome = outcome
        self.set_status(outcome.message, outcome.ok)
        return outcome

    def _test(self) -> ConnectionOutcome:
        url = self.url()
        if not url:
            return ConnectionOutcome(False, "invalid", tr("Enter the server address."))
        if not url.startswith(("http://", "https://")):
            return ConnectionOutcome(False, "invalid",
                                     tr("The server address must start with http:// or https://."))
        try:
            authcfg = self._credentials_authcfg()
        except ValueError as exc:
            return ConnectionOutcome(False, "invalid", str(exc))
        except CredentialsError as exc:
            return ConnectionOutcome(False, "credentials",
                                     tr("QGIS could not store the credentials: {detail}")
                                     .format(detail=exc))
        self._tested_authcfg = authcfg
        client = RigeneraClient(url, authcfg, TEST_TIMEOUT_MS)
        try:
            me = client.me()
        except AuthFailed:
            return ConnectionOutcome(False, "auth", tr(
                "Wrong user name or password: the server refused the credentials."))
        except ConnectionFailed as exc:
            log.warning(exc.description)
            return ConnectionOutcome(False, "unreachable", tr(
                "The server does not answer at {url}. Check the address and the network "
                "connection, or try again later.").format(url=url))
        except ApiError as exc:
            if exc.status == 404:
                return ConnectionOutcome(False, "refused", tr(
                    "{url} does not look like a Rigenera server (no /api/me).").format(url=url))
            return ConnectionOutcome(False, "refused", tr(
                "The server refused the request: {message}").format(message=exc.message()))
        except Exception as exc:  # noqa: BLE001 (never a traceback for the user)
            log.critical(traceback.format_exc())
            return ConnectionOutcome(False, "error", tr("Unexpected error: {detail}")
                                     .format(detail=exc))
        if not isinstance(me, dict) or "role" not in me:
            return ConnectionOutcome(False, "refused", tr(
                "{url} does not look like a Rigenera server (no /api/me).").format(url=url))
        comuni = [str(c) for c in me.get("comuni") or []]
        names = self._comuni_names(client, comuni)
        username = str(me.get("username", ""))
        role = str(me.get("role", ""))
        lines = [tr("Connected as {username} ({role}).").format(
            username=username, role=role_label(role))]
        if comuni:
            listed = ", ".join(f"{code} {names[code]}" if code in names else code
                               for code in comuni)
            lines.append(tr("Municipalities: {comuni}").format(comuni=listed))
        else:
            lines.append(tr("Municipalities: all"))
        return ConnectionOutcome(True, "ok", "\n".join(lines), username, role, comuni, names)

    @staticmethod
    def _comuni_names(client: RigeneraClient, codes: List[str]) -> Dict[str, str]:
        """ISTAT code → name, best effort (one request, no geometries)."""
        if not codes:
            return {}
        quoted = ",".join("'" + code.replace("'", "''") + "'" for code in codes)
        try:
            page = client.get_json("/ogc/collections/comuni/items", {
                "filter": f"istat_code IN ({quoted})", "filter-lang": "cql2-text",
                "skipGeometry": "true", "properties": "istat_code,name", "limit": len(codes)})
        except Exception as exc:  # noqa: BLE001 (names are a nicety)
            log.info(f"comuni names not read: {exc}")
            return {}
        names: Dict[str, str] = {}
        for feature in (page or {}).get("features", []):
            props = feature.get("properties") or {}
            if props.get("istat_code") and props.get("name"):
                names[str(props["istat_code"])] = str(props["name"])
        return names

    def save_connection(self) -> Optional[Connection]:
        """Test, and when the server accepts the credentials save the connection."""
        outcome = self.test_connection()
        if not outcome.ok:
            return None
        try:
            authcfg = self._final_authcfg(self._tested_authcfg)
        except CredentialsError as exc:
            self.set_status(tr("QGIS could not store the credentials: {detail}")
                            .format(detail=exc), False)
            return None
        connection = Connection(self.url(), authcfg)
        connection.save()
        self.connection = connection
        log.info(f"connection saved: {connection.url} as {outcome.username} ({outcome.role})")
        return connection

    def accept(self) -> None:
        self.buttonBox.button(QDialogButtonBox.Ok).setEnabled(False)
        try:
            connection = self.save_connection()
        finally:
            self.buttonBox.button(QDialogButtonBox.Ok).setEnabled(True)
        if connection is not None:
            super().accept()

    def reject(self) -> None:
        self._remove_temp()
        super().reject()

    def done(self, result: int) -> None:
        if result != QDialog.Accepted:
            self._remove_temp()
        super().done(result)
