"""The plugin as users get it: `make plugin`'s zip, installed into a fresh QGIS profile.

The zip is built by qgis_plugin/build.py (what `make plugin` runs), unpacked
where QGIS's "Install from ZIP" puts it (<profile>/python/plugins/), then
loaded and started by QGIS's own plugin machinery (qgis.utils) in a separate
Python process, so nothing of the source tree is importable there.
"""

from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "qgis_plugin" / "build.py"
PLUGIN_ID = "rigenera_qgis"
SYSTEM_PYTHON = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable

# Runs inside the fresh profile: QGIS_CUSTOM_CONFIG_PATH=<tmp>, no source tree on sys.path.
INSTALLED_CHECK = r'''
import json, os, sys
from pathlib import Path
from qgis.core import QgsApplication, QgsSettings
app = QgsApplication([], True)
app.initQgis()
profile = Path(QgsApplication.qgisSettingsDirPath())
plugins_dir = profile / "python" / "plugins"
# An Italian QGIS: Settings > Options > General > override system locale.
QgsSettings().setValue("locale/overrideFlag", True)
QgsSettings().setValue("locale/userLocale", "it_IT")
sys.path.insert(0, str(plugins_dir))

import qgis.utils
from qgis.gui import QgsMapCanvas
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtWidgets import QMainWindow, QToolBar


class Iface:
    """The part of QgisInterface a plugin uses when it starts; records messages."""

    def __init__(self):
        self.window = QMainWindow()
        self.canvas = QgsMapCanvas(self.window)
        self.menus, self.docks, self.messages = {}, [], []

    def mainWindow(self):
        return self.window

    def mapCanvas(self):
        return self.canvas

    def addToolBar(self, name):
        bar = QToolBar(name, self.window)
        self.window.addToolBar(bar)
        return bar

    def addPluginToWebMenu(self, menu, action):
        self.menus.setdefault(menu, []).append(action)

    def removePluginWebMenu(self, menu, action):
        self.menus[menu].remove(action)

    def addDockWidget(self, area, dock):
        self.docks.append(dock)

    def removeDockWidget(self, dock):
        self.docks.remove(dock)

    def messageBar(self):
        return self

    def pushMessage(self, *args):
        self.messages.append(args)

    def activeLayer(self):
        return None


iface = Iface()
qgis.utils.iface = iface
qgis.utils.plugin_paths = [str(plugins_dir)]
qgis.utils.updateAvailablePlugins()
out = {"profile": str(profile), "available": list(qgis.utils.available_plugins),
       "min_version": qgis.utils.pluginMetadata("rigenera_qgis", "qgisMinimumVersion")}
out["loaded"] = qgis.utils.loadPlugin("rigenera_qgis")
out["module_file"] = getattr(sys.modules.get("rigenera_qgis"), "__file__", None)
out["started"] = qgis.utils.startPlugin("rigenera_qgis")
plugin = qgis.utils.plugins.get("rigenera_qgis")
out["actions"] = {k: a.text() for k, a in plugin.actions.items()} if plugin else {}
out["toolbar"] = plugin.toolbar.windowTitle() if plugin and plugin.toolbar else None
out["version"] = plugin.version if plugin else None
out["translated"] = QCoreApplication.translate("@default", "Load layers")
provider = QgsApplication.processingRegistry().providerById("rigenera")
out["processing"] = provider is not None and provider is getattr(plugin, "provider", None)
from rigenera_qgis.core.layers import style_path
out["style"] = str(style_path("sites", "it"))
out["menu"] = [a.text() for a in iface.menus.get("&Rigenera", [])]
out["messages"] = [str(m) for m in iface.messages]
out["unloaded"] = qgis.utils.unloadPlugin("rigenera_qgis")
out["menu_after_unload"] = [a.text() for a in iface.menus.get("&Rigenera", [])]
out["toolbars_after_unload"] = [b.windowTitle() for b in iface.window.findChildren(QToolBar)]
out["after_unload"] = QCoreApplication.translate("@default", "Load layers")
out["provider_after_unload"] = QgsApplication.processingRegistry().providerById("rigenera") is not None
print("RESULT " + json.dumps(out))
app.exitQgis()
'''


def read_metadata(text: str) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    return dict(parser.items("general"))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """qgis_plugin/build.py, as `make plugin` runs it, into a temporary dist folder."""
    dist = tmp_path_factory.mktemp("dist")
    done = subprocess.run([SYSTEM_PYTHON, str(BUILD), "--dist", str(dist)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr + done.stdout
    zips = list(dist.glob("*.zip"))
    assert len(zips) == 1, zips
    return zips[0]


def test_zip_layout(built: Path) -> None:
    source = read_metadata((ROOT / "qgis_plugin" / PLUGIN_ID / "metadata.txt").read_text("utf-8"))
    assert built.name == f"{PLUGIN_ID}-{source['version']}.zip"
    with zipfile.ZipFile(built) as archive:
        names = archive.namelist()
        meta = read_metadata(archive.read(f"{PLUGIN_ID}/metadata.txt").decode("utf-8"))
        assert archive.testzip() is None
    assert all(name.startswith(f"{PLUGIN_ID}/") for name in names)
    files = {name[len(PLUGIN_ID) + 1:] for name in names if not name.endswith("/")}
    for needed in ("__init__.py", "plugin.py", "metadata.txt", "icon.svg",
                   "core/client.py", "core/layers.py", "gui/connect_dialog.py",
                   "gui/ui/connect_dialog.ui", "toolbelt/i18n.py",
                   "i18n/rigenera_qgis_it.qm", "i18n/rigenera_qgis_en.qm"):
        assert needed in files, needed
    for collection in ("comuni", "sites", "projects", "mobility_links", "transit_stops"):
        assert f"styles/{collection}.qml" in files and f"styles/{collection}.en.qml" in files
    assert "styles/rigenera.json" in files  # the sites' overview tiles (core/layers.py)
    # The QGIS plugin repository requires a licence file in the plugin folder: the
    # repository's own EUPL-1.2 text, byte for byte.
    with zipfile.ZipFile(built) as archive:
        shipped = archive.read(f"{PLUGIN_ID}/LICENSE")
    assert shipped == (ROOT / "LICENSE").read_bytes()
    assert shipped.startswith(b"European Union Public Licence v. 1.2")
    assert not [f for f in files if "__pycache__" in f or f.endswith((".pyc", ".ts"))
                or f.startswith("tests/") or (f.startswith("i18n/") and not f.endswith(".qm"))]
    assert meta == source
    assert meta["qgisminimumversion"] == "3.22"
    assert meta["name"] == "Rigenera"
    assert meta["icon"] in files
    for key in ("description", "about", "version", "author", "email", "homepage", "tracker",
                "repository", "category", "tags"):
        assert meta.get(key), key
    assert meta["experimental"] == "False"


def test_install_from_zip_into_a_fresh_profile(built: Path, tmp_path: Path) -> None:
    plugins = tmp_path / "profiles" / "default" / "python" / "plugins"
    plugins.mkdir(parents=True)
    with zipfile.ZipFile(built) as archive:  # what QGIS's "Install from ZIP" does
        archive.extractall(plugins)
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "QGIS_CUSTOM_CONFIG_PATH"}}
    env.update({"QT_QPA_PLATFORM": "offscreen", "QGIS_CUSTOM_CONFIG_PATH": str(tmp_path)})
    done = subprocess.run([sys.executable, "-c", INSTALLED_CHECK], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stdout[-3000:] + done.stderr[-3000:]
    out: dict[str, Any] = json.loads(lines[-1][len("RESULT "):])

    assert Path(out["profile"]).resolve() == (tmp_path / "profiles" / "default").resolve()
    assert out["available"] == [PLUGIN_ID]
    assert out["min_version"] == "3.22"
    assert out["loaded"] and out["started"], done.stderr[-3000:]
    assert Path(out["module_file"]).resolve().is_relative_to(plugins.resolve())
    assert out["messages"] == [], "no error in QGIS's message bar"
    assert out["actions"] == {"connect": "Connetti…", "load": "Carica layer", "checkout": "Modifica",
                              "sync": "Sincronizza", "history": "Cronologia",
                              "review": "Coda di revisione",
                              "import": "Importa file nel catalogo…",
                              "to_locate": "Da localizzare"}
    assert out["toolbar"] == "Rigenera"
    assert out["menu"] == list(out["actions"].values())
    assert out["translated"] == "Carica layer"
    assert out["processing"], "the Processing provider is registered"
    assert Path(out["style"]).resolve().is_relative_to(plugins.resolve())
    assert out["unloaded"]
    assert out["after_unload"] == "Load layers", "the translator is removed on unload"
    assert not out["provider_after_unload"]
    assert out["menu_after_unload"] == [] and out["toolbars_after_unload"] == []


def test_missing_lrelease_names_the_debian_package(monkeypatch: pytest.MonkeyPatch) -> None:
    import build

    monkeypatch.setattr(build.shutil, "which", lambda _name: None)
    with pytest.raises(build.BuildError, match="qttools5-dev-tools"):
        build.compile_translations()


def _messages(ts: Path) -> dict[tuple[str, str], Any]:
    root = ET.parse(ts).getroot()
    return {(ctx.findtext("name"), msg.findtext("source")): msg.find("translation")
            for ctx in root.iter("context") for msg in ctx.iter("message")}


def test_translations_are_up_to_date_and_complete(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  plugin_root: Path) -> None:
    """Every string of the code is in the .ts files, and Italian translates all of them.

    On failure: `python3 qgis_plugin/build.py --update-ts`, then translate the
    new strings in qgis_plugin/rigenera_qgis/i18n/rigenera_qgis_it.ts.
    """
    import shutil

    import build

    copy = tmp_path / PLUGIN_ID
    shutil.copytree(plugin_root, copy, ignore=shutil.ignore_patterns("__pycache__", "*.qm"))
    monkeypatch.setattr(build, "PLUGIN_DIR", copy)
    monkeypatch.setattr(build, "I18N_DIR", copy / "i18n")
    build.update_ts()  # re-extracted from the current code, into the copy

    for lang in ("it", "en"):
        name = f"{PLUGIN_ID}_{lang}.ts"
        committed, fresh = _messages(plugin_root / "i18n" / name), _messages(copy / "i18n" / name)
        missing = sorted(set(fresh) - set(committed))
        assert not missing, f"{name} lacks strings of the code (run build.py --update-ts): {missing}"
        stale = sorted(set(committed) - set(fresh))
        assert not stale, f"{name} has strings no longer in the code: {stale}"
    untranslated = build.unfinished(plugin_root / "i18n" / f"{PLUGIN_ID}_it.ts")
    assert not untranslated, f"Italian translations missing: {untranslated}"


# ---------------------------------------------------------------------------- in QGIS
@pytest.fixture
def plugin(qgis_iface: Any, qgis_new_project: Any) -> Any:
    from rigenera_qgis.plugin import RigeneraPlugin

    instance = RigeneraPlugin(qgis_iface)
    instance.initGui()
    yield instance
    instance.unload()
    qgis_iface.messageBar().clear_messages()


def test_load_layers_action(plugin: Any, qgis_iface: Any, server: Any, auth_for: Any) -> None:
    from qgis.core import Qgis, QgsProject

    from rigenera_qgis.core.connection import Connection

    plugin._connection = Connection(server.url, auth_for("tecnico"))
    plugin.actions["load"].trigger()
    plugin.actions["load"].trigger()  # twice: still one group

    groups = QgsProject.instance().layerTreeRoot().findGroups(True)
    assert len(groups) == 1 and len(groups[0].findLayers()) >= 5
    assert qgis_iface.messageBar().get_messages(Qgis.Critical) == []
    assert qgis_iface.messageBar().get_messages(Qgis.Success)


def test_a_missing_part_is_a_message_not_a_crash(plugin: Any, qgis_iface: Any,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from qgis.core import Qgis

    monkeypatch.setitem(sys.modules, "rigenera_qgis.gui.review_dock", None)  # import fails
    plugin.actions["review"].trigger()
    messages = qgis_iface.messageBar().get_messages(Qgis.Critical)
    assert len(messages) == 1 and "not available" in messages[0]
    assert not plugin.actions["review"].isChecked()
    assert plugin.review_dock is None


def test_server_down_is_a_message(plugin: Any, qgis_iface: Any) -> None:
    from qgis.core import Qgis, QgsProject

    from conftest import free_port
    from rigenera_qgis.core.connection import Connection

    plugin._connection = Connection(f"http://127.0.0.1:{free_port()}")
    plugin.actions["load"].trigger()
    warnings = qgis_iface.messageBar().get_messages(Qgis.Warning)
    assert len(warnings) == 1 and "could not be loaded" in warnings[0]
    assert QgsProject.instance().layerTreeRoot().findGroups(True) == []  # no empty group left


def test_import_and_to_locate_actions(plugin: Any, qgis_iface: Any, server: Any,
                                      auth_for: Any) -> None:
    """The import action opens the dialog on the active layer; the to-locate action
    toggles its dock, which lists the queue when shown."""
    from qgis.core import Qgis, QgsProject, QgsVectorLayer

    from rigenera_qgis.core.connection import Connection

    plugin._connection = Connection(server.url, auth_for("coord"))
    layer = QgsVectorLayer("Point?crs=EPSG:4326&field=name:string", "da importare", "memory")
    QgsProject.instance().addMapLayer(layer)
    qgis_iface.setActiveLayer(layer)
    plugin.actions["import"].trigger()
    assert plugin.import_dialog is not None and plugin.import_dialog.isVisible()
    assert plugin.import_dialog.source_layer() is layer
    assert plugin.import_dialog.collection() == "sites"

    assert plugin.actions["to_locate"].isCheckable()
    plugin.actions["to_locate"].trigger()
    dock = plugin.to_locate_dock
    assert dock is not None and plugin.actions["to_locate"].isChecked()
    dock.refresh()
    expected = server.get_json("/api/projects/to-locate?limit=100", user="coord")
    assert dock.ids() == [str(f["id"]) for f in expected["features"]]
    assert dock.total == expected["numberMatched"]
    plugin.actions["to_locate"].trigger()
    assert not dock.isVisible() and not plugin.actions["to_locate"].isChecked()
    assert qgis_iface.messageBar().get_messages(Qgis.Critical) == []
