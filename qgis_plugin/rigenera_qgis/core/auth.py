"""Credentials live in QGIS's encrypted authentication database, never in settings.

We store a Basic configuration (the method every QGIS >= 3.22 has) and keep
only its id; requests and OAPIF layers name that id (``authcfg``) and QGIS
adds the header itself.
"""

from __future__ import annotations

import os
from typing import Optional

from qgis.core import QgsApplication, QgsAuthMethodConfig

PASSWORD_FILE_ENV = "QGIS_AUTH_PASSWORD_FILE"  # noqa: S105 (a variable name, not a password)


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


def authcfg_problem(authcfg: str) -> str:
    """Why QGIS cannot apply ``authcfg`` to a request ('' when nothing is known to be wrong).

    Asked after a request with it failed without an answer: QGIS refuses to send
    a request whose credentials it cannot open, and says only "network request
    update failed for authentication config". Nothing here prompts for the master
    password (headless there is nobody to ask): the manager's state is read.
    """
    if not authcfg:
        return ""
    manager = QgsApplication.authManager()
    if manager.isDisabled():
        return ("il database di autenticazione di QGIS non è disponibile / the QGIS "
                f"authentication database is unavailable: {manager.disabledMessage()}")
    if authcfg not in manager.configIds():
        return ("la configurazione non esiste in questo profilo di QGIS / no such "
                "configuration in this QGIS profile")
    if manager.masterPasswordHashInDatabase() and not manager.masterPasswordIsSet():
        password_file = _password_file()
        if password_file and not os.access(password_file, os.R_OK):
            return (f"il file {password_file} indicato da {PASSWORD_FILE_ENV} non è leggibile, "
                    "quindi il database di autenticazione di QGIS resta bloccato / the file "
                    f"{password_file} named by {PASSWORD_FILE_ENV} cannot be read, so the QGIS "
                    "authentication database stays locked")
        if password_file:
            return (f"la password principale nel file {password_file} ({PASSWORD_FILE_ENV}) "
                    "non apre il database di autenticazione di QGIS: password errata / the "
                    f"master password in {password_file} ({PASSWORD_FILE_ENV}) does not open "
                    "the QGIS authentication database: wrong password")
        return ("il database di autenticazione di QGIS è bloccato dalla password principale, "
                "che non è stata data; in modalità headless (qgis_process) impostare "
                f"{PASSWORD_FILE_ENV} con il percorso di un file che la contiene / the QGIS "
                "authentication database is locked by its master password, which was not "
                f"given; headless (qgis_process), set {PASSWORD_FILE_ENV} to a file holding it")
    config = QgsAuthMethodConfig()
    if manager.loadAuthenticationConfig(authcfg, config, False) \
            and config.method() not in manager.authMethodsKeys():
        return (f"il metodo di autenticazione {config.method()} non è disponibile in questa "
                f"installazione di QGIS / authentication method {config.method()} unavailable")
    return ""


def _password_file() -> str:
    """QGIS_AUTH_PASSWORD_FILE as QGIS was started with it: QGIS unsets the variable once
    it has read it, so a plugin loaded later finds it only in the process's initial
    environment (/proc/self/environ, Linux; elsewhere '' and a more general message)."""
    value = os.environ.get(PASSWORD_FILE_ENV, "")
    if value:
        return value
    try:
        with open("/proc/self/environ", "rb") as env:
            for item in env.read().split(b"\0"):
                name, _, found = item.partition(b"=")
                if name == PASSWORD_FILE_ENV.encode():
                    return found.decode("utf-8", "replace")
    except OSError:
        pass
    return ""
