"""Credentials live in QGIS's encrypted authentication database, never in settings.

We store a Basic configuration (the method every QGIS >= 3.22 has) and keep
only its id; requests and OAPIF layers name that id (``authcfg``) and QGIS
adds the header itself.
"""

from __future__ import annotations

from typing import Optional

from qgis.core import QgsApplication, QgsAuthMethodConfig


class CredentialsError(Exception):
    """The authentication database refused to store or read a configuration."""


def store_basic_credentials(name: str, username: str, password: str,
                            authcfg_id: Optional[str] = None) -> str:
    """Create (or update, given ``authcfg_id``) a Basic configuration; return its id."""
    manager = QgsApplication.authManager()
    if manager.isDisabled():
        raise CredentialsError("Il database di autenticazione di QGIS non è disponibile / "
                               "QGIS authentication database unavailable")
    config = QgsAuthMethodConfig()
    config.setName(name)
    config.setMethod("Basic")
    config.setConfig("username", username)
    config.setConfig("password", password)
    if authcfg_id and authcfg_id in manager.configIds():
        config.setId(authcfg_id)
        ok = manager.updateAuthenticationConfig(config)
    else:
        ok = manager.storeAuthenticationConfig(config)
        ok = ok[0] if isinstance(ok, tuple) else ok
    if not ok or not config.id():
        raise CredentialsError("Impossibile salvare le credenziali (password principale di QGIS?)"
                               " / could not store the credentials (QGIS master password?)")
    return str(config.id())


def authcfg_username(authcfg: str) -> str:
    """The user name of a configuration ('' when unknown); the password is not read."""
    if not authcfg:
        return ""
    config = QgsAuthMethodConfig()
    if not QgsApplication.authManager().loadAuthenticationConfig(authcfg, config, True):
        return ""
    return str(config.config("username", ""))
