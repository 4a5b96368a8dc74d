"""The plugin's metadata, read from ``metadata.txt`` (its only source).

QGIS's Plugin Manager, the plugin itself and ``qgis_plugin/build.py`` all read
the same file, so the version, the name and the URLs are written once.
"""

from __future__ import annotations

import configparser
from functools import lru_cache
from pathlib import Path
from typing import Dict

PLUGIN_DIR = Path(__file__).resolve().parent.parent
PLUGIN_ID = PLUGIN_DIR.name  # "rigenera_qgis": the folder QGIS installs
METADATA_FILE = PLUGIN_DIR / "metadata.txt"


def read_metadata(path: Path = METADATA_FILE) -> Dict[str, str]:
    """The ``[general]`` section of a metadata file as a plain dict."""
    parser = configparser.ConfigParser(interpolation=None)
    with open(path, encoding="utf-8") as handle:
        parser.read_file(handle)
    return dict(parser.items("general"))


@lru_cache(maxsize=1)
def metadata() -> Dict[str, str]:
    return read_metadata()


def plugin_version() -> str:
    return metadata()["version"]


def plugin_name() -> str:
    return metadata()["name"]
