"""Translations: the plugin speaks the language QGIS speaks.

Source strings are English. ``i18n/rigenera_qgis_<locale>.qm`` (compiled from
the ``.ts`` files by ``qgis_plugin/build.py``) is installed as a QTranslator
following QGIS's locale (Settings → Options → General → "Override system
locale", i.e. ``locale/overrideFlag`` + ``locale/userLocale``, else the
system's), which :func:`QgsApplication.locale` resolves.

How to write a translatable string anywhere in the plugin::

    from ..toolbelt.i18n import tr
    label.setText(tr("Synchronise"))
    tr("{n} local changes").format(n=3)

``pylupdate5`` files a call of a plain function ``tr("…")`` under the context
``@default``, so :func:`tr` translates in that context. Strings of ``.ui``
files are translated by ``uic`` in the context of their form class; both are
picked up by ``python qgis_plugin/build.py --update-ts``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from qgis.core import QgsApplication, QgsSettings
from qgis.PyQt.QtCore import QCoreApplication, QLocale, QTranslator

from .metadata import PLUGIN_DIR, PLUGIN_ID

CONTEXT = "@default"  # where pylupdate5 files tr("…") calls of a plain function
I18N_DIR = PLUGIN_DIR / "i18n"
SOURCE_LANGUAGE = "en"

_installed: Optional[QTranslator] = None
_installed_language = SOURCE_LANGUAGE


def tr(text: str, disambiguation: Optional[str] = None, n: int = -1) -> str:
    """``text`` (English) in the user's language, when the plugin has a translation."""
    return QCoreApplication.translate(CONTEXT, text, disambiguation, n)


def qgis_locale() -> str:
    """QGIS's user-interface locale, e.g. ``it_IT``, ``it`` or ``en``."""
    locale = ""
    try:
        locale = QgsApplication.locale() or ""
    except Exception:  # noqa: BLE001 (no application yet: fall back to the settings)
        locale = ""
    if (not locale or locale == "C") and QgsSettings().value("locale/overrideFlag", False,
                                                              type=bool):
        locale = str(QgsSettings().value("locale/userLocale", "") or "")
    if not locale or locale == "C":
        locale = QLocale.system().name()
    return locale or SOURCE_LANGUAGE


def qm_file(locale: str) -> Optional[Path]:
    """The compiled translation for ``locale`` (``it_IT`` → ``it_IT`` or ``it``), or None."""
    candidates = [locale, locale.split("_")[0].split("-")[0]]
    for name in candidates:
        if not name:
            continue
        path = I18N_DIR / f"{PLUGIN_ID}_{name}.qm"
        if path.is_file():
            return path
    return None


def install_translator(locale: Optional[str] = None) -> Optional[QTranslator]:
    """Install the translation for ``locale`` (default: QGIS's); returns it or None.

    English needs none (the source strings are English); a locale without a
    translation falls back to English too. Idempotent: the previous translator
    of the plugin is replaced.
    """
    global _installed, _installed_language
    remove_translator()
    locale = locale or qgis_locale()
    language = locale.split("_")[0].split("-")[0].lower()
    path = qm_file(locale)
    if language == SOURCE_LANGUAGE or path is None:
        _installed_language = SOURCE_LANGUAGE
        return None
    translator = QTranslator()
    if not translator.load(str(path)):
        _installed_language = SOURCE_LANGUAGE
        return None
    QCoreApplication.installTranslator(translator)
    _installed = translator
    _installed_language = language
    return translator


def remove_translator() -> None:
    """Uninstall the plugin's translator (plugin unload)."""
    global _installed, _installed_language
    if _installed is not None:
        QCoreApplication.removeTranslator(_installed)
        _installed = None
    _installed_language = SOURCE_LANGUAGE


def ui_language() -> str:
    """The language the plugin speaks now: ``it`` with the Italian translation, else ``en``.

    Before any translator is installed (plugin core used from a script or from
    Processing), QGIS's locale decides: ``it`` when it is Italian.
    """
    if _installed is not None:
        return _installed_language
    language = qgis_locale().split("_")[0].lower()
    return language if language == "it" else SOURCE_LANGUAGE
