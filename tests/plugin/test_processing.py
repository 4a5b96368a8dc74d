"""The Processing algorithm rigenera:sites_near_transit against the real server.

The server's answer must be exactly what PostGIS says (``ST_DWithin`` on
geography between rigenera.sites and rigenera.transit_stops, with the same
mode / comune / state filters), with the nearest stop and its distance; bad
input ends in a QgsProcessingException with a readable message; the algorithm
is registered the way ``qgis_process`` and the modeler find it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

from conftest import MILANO, PASSWORD, PLUGIN_SRC, RigeneraServer

ALG = "rigenera:sites_near_transit"
MODES = ["metro", "rail", "tram", "bus"]
STATES = ["abandoned", "underused", "partly_used", "regenerated"]
_KEEP: List[Any] = []


@pytest.fixture(scope="module")
def provider(qgis_processing: Any) -> Any:
    from qgis.core import QgsApplication

    from rigenera_qgis.processing import RigeneraProcessingProvider

    registry = QgsApplication.processingRegistry()
    if registry.providerById("rigenera") is None:
        # Keep the Python object alive, as the plugin does (self.provider): a collected
        # Python provider loses its algorithms.
        _KEEP.append(RigeneraProcessingProvider())
        assert registry.addProvider(_KEEP[-1])
    provider = registry.providerById("rigenera")
    assert provider is not None and provider.name() == "Rigenera"
    return provider


@pytest.fixture
def connection(server: RigeneraServer, auth_for: Any) -> Any:
    """The plugin's saved connection (the algorithm's default server and authcfg)."""
    from rigenera_qgis.core.connection import Connection

    conn = Connection(server.url, auth_for("tecnico"))
    conn.save()
    yield conn
    Connection.forget()


def expected(server: RigeneraServer, distance: float, modes: List[str],
             comuni: Optional[List[str]], states: Optional[List[str]]) -> Dict[int, float]:
    """Site id -> distance (m) to the nearest stop within ``distance``: PostGIS's answer."""
    rows = server.sql(
        """SELECT s.id, min(ST_Distance(s.geom::geography, t.geom::geography))
             FROM rigenera.sites s
             JOIN rigenera.transit_stops t
               -- The box first (the GIST index: 1 degree is over 70 km here), then exactly.
               ON t.geom && ST_Expand(s.geom, %s / 70000.0)
              AND ST_DWithin(s.geom::geography, t.geom::geography, %s)
            WHERE t.mode = ANY(%s)
              AND (%s::text[] IS NULL OR s.istat_code = ANY(%s))
              AND (%s::text[] IS NULL OR s.state = ANY(%s))
            GROUP BY s.id""", distance, distance, modes, comuni, comuni, states, states)
    return {int(i): float(d) for i, d in rows}


def run(params: Dict[str, Any]) -> Dict[str, Any]:
    import processing

    base = {"OUTPUT": "TEMPORARY_OUTPUT", "OUTPUT_POINTS": "TEMPORARY_OUTPUT"}
    return processing.run(ALG, {**base, **params})  # type: ignore[no-any-return]


def features(result: Dict[str, Any]) -> List[Any]:
    out = []
    for key in ("OUTPUT", "OUTPUT_POINTS"):
        layer = result.get(key)
        if layer is not None and not isinstance(layer, str):
            out += list(layer.getFeatures())
    return out


@pytest.mark.parametrize("params,distance,modes,comuni,states", [
    ({"DISTANCE": 500, "MODES": [0], "COMUNI": MILANO, "STATES": [0]},
     500, ["metro"], [MILANO], ["abandoned"]),
    ({"DISTANCE": 350, "MODES": [1, 3], "COMUNI": "", "STATES": [0, 2]},
     350, ["rail", "bus"], None, ["abandoned", "partly_used"]),
    ({"DISTANCE": 2500, "MODES": [], "COMUNI": f"{MILANO}, 015209", "STATES": []},
     2500, MODES, [MILANO, "015209"], None),
], ids=["metro-milano-abandoned", "rail-bus-all-comuni", "all-modes-two-comuni"])
def test_same_sites_as_postgis(provider: Any, connection: Any, server: RigeneraServer,
                               params: Dict[str, Any], distance: float, modes: List[str],
                               comuni: Optional[List[str]], states: Optional[List[str]]) -> None:
    want = expected(server, distance, modes, comuni, states)
    assert want, "the demo data must give a non-empty answer for this parameter set"
    # The filters matter: without them PostGIS finds more sites at the same distance.
    assert len(expected(server, distance, MODES, None, None)) > len(want)

    result = run(params)
    got = features(result)
    assert sorted(int(f["id"]) for f in got) == sorted(want)
    assert result["COUNT"] == len(want)
    stops = {int(r[0]): (r[1], r[2]) for r in server.sql(
        "SELECT id, name, mode FROM rigenera.transit_stops")}
    # The distance of each site to the stop named as its nearest, in one query.
    pairs = [(int(f["id"]), int(f["nearest_stop_id"])) for f in got]
    between = {(int(r[0]), int(r[1])): float(r[2]) for r in server.sql(
        "SELECT s.id, t.id, ST_Distance(s.geom::geography, t.geom::geography)"
        " FROM unnest(%s::bigint[], %s::bigint[]) AS p(sid, tid)"
        " JOIN rigenera.sites s ON s.id = p.sid JOIN rigenera.transit_stops t ON t.id = p.tid",
        [a for a, _ in pairs], [b for _, b in pairs])}
    for f in got:
        sid = int(f["id"])
        assert f["distance_m"] == pytest.approx(want[sid], abs=0.5)
        assert f["distance_m"] <= distance
        # The nearest stop named is one of the allowed modes, at that distance from the site.
        stop = int(f["nearest_stop_id"])
        assert (f["nearest_stop_name"], f["nearest_stop_mode"]) == stops[stop]
        assert f["nearest_stop_mode"] in modes
        assert between[(sid, stop)] == pytest.approx(want[sid], abs=0.5)
        if comuni:
            assert f["istat_code"] in comuni
        if states:
            assert f["state"] in states
        assert f.hasGeometry()
    # Geometries are the sites' own (same area as PostGIS says, to 1 %).
    for f in got:
        (wkt,) = server.sql("SELECT ST_AsText(geom) FROM rigenera.sites WHERE id = %s",
                            int(f["id"]))[0]
        from qgis.core import QgsGeometry

        assert f.geometry().area() == pytest.approx(QgsGeometry.fromWkt(wkt).area(), rel=0.01)


def test_point_sites_go_to_the_points_output(provider: Any, connection: Any,
                                              server: RigeneraServer, auth_for: Any) -> None:
    """A site known only by a point (as in Milano's open data) next to the tram stop."""
    from rigenera_qgis.core.client import RigeneraClient

    client = RigeneraClient(server.url, auth_for("tecnico"))
    (lon, lat) = server.sql("SELECT ST_X(geom), ST_Y(geom) FROM rigenera.transit_stops"
                            " WHERE mode = 'tram' ORDER BY id LIMIT 1")[0]
    answer = client.changeset([{"action": "create", "collection": "sites", "ref": "p", "feature": {
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [lon + 0.0005, lat]},
        "properties": {"name": "Ex edicola (test processing)", "istat_code": MILANO,
                       "state": "abandoned", "source": "test"}}}], "test processing")
    new_id, version = int(answer["applied"][0]["id"]), int(answer["applied"][0]["version"])
    try:
        result = run({"DISTANCE": 200, "MODES": [2], "COMUNI": MILANO, "STATES": [0]})
        points = [int(f["id"]) for f in result["OUTPUT_POINTS"].getFeatures()]
        polygons = [int(f["id"]) for f in result["OUTPUT"].getFeatures()]
        assert new_id in points and new_id not in polygons
        assert sorted(points + polygons) == sorted(expected(server, 200, ["tram"], [MILANO],
                                                            ["abandoned"]))
        from qgis.core import QgsWkbTypes

        assert result["OUTPUT_POINTS"].geometryType() == QgsWkbTypes.PointGeometry
        assert result["OUTPUT"].geometryType() == QgsWkbTypes.PolygonGeometry
    finally:
        client.changeset([{"action": "delete", "collection": "sites", "id": str(new_id),
                           "base_version": version}], "test processing: cleanup")


def test_bad_input_raises(provider: Any, connection: Any, server: RigeneraServer) -> None:
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException, match="015X46"):
        run({"DISTANCE": 500, "COMUNI": "015X46"})
    with pytest.raises(QgsProcessingException):
        run({"DISTANCE": 0})  # below the minimum of 1 m
    with pytest.raises(QgsProcessingException):
        run({"DISTANCE": 50000})  # above the maximum of 5 km
    # A server that does not answer: the server's/network's message, not a traceback.
    from conftest import free_port

    with pytest.raises(QgsProcessingException, match=r"(?i)raggiungibile|unreachable|refused"):
        run({"DISTANCE": 500, "SERVER_URL": f"http://127.0.0.1:{free_port()}"})


def test_server_refusal_carries_the_servers_message(provider: Any, connection: Any,
                                                    server: RigeneraServer) -> None:
    """A refusal by the server reaches the user with the server's own description."""
    import urllib.error
    import urllib.request

    from qgis.core import QgsProcessingException

    # What the server says to a POST where no process lives (asked without the plugin).
    base = f"{server.url}/nowhere"
    req = urllib.request.Request(base + "/ogc/processes/sites-near-transit/execution",
                                 data=b'{"inputs": {}}', method="POST",
                                 headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as direct:
        urllib.request.urlopen(req, timeout=30)
    description = json.loads(direct.value.read())["description"]
    assert description
    with pytest.raises(QgsProcessingException) as refused:
        run({"DISTANCE": 500, "SERVER_URL": base})
    assert description in str(refused.value)
    # A well-formed ISTAT code of no comune is no error: no sites.
    assert features(run({"DISTANCE": 500, "COMUNI": "999999"})) == []


def test_algorithm_metadata(provider: Any, connection: Any, server: RigeneraServer) -> None:
    from qgis.core import QgsApplication, QgsProcessingAlgorithm, QgsProcessingParameterDefinition

    alg = QgsApplication.processingRegistry().algorithmById(ALG)
    assert alg is not None
    assert alg.displayName() in ("Sites near public transport",
                                 "Siti vicino al trasporto pubblico")
    flags = alg.flags()
    assert not flags & QgsProcessingAlgorithm.FlagHideFromModeler
    assert not flags & QgsProcessingAlgorithm.FlagHideFromToolbox
    names = [p.name() for p in alg.parameterDefinitions()]
    assert names[:4] == ["DISTANCE", "MODES", "COMUNI", "STATES"]
    distance = alg.parameterDefinition("DISTANCE")
    assert (distance.defaultValue(), distance.minimum(), distance.maximum()) == (500, 1, 5000)
    assert len(alg.parameterDefinition("MODES").options()) == 4
    assert alg.parameterDefinition("MODES").allowMultiple()
    for name in ("SERVER_URL", "AUTHCFG"):
        definition = alg.parameterDefinition(name)
        assert definition.flags() & QgsProcessingParameterDefinition.FlagAdvanced
    # Defaults from the saved connection: runs from the modeler and qgis_process unchanged.
    fresh = alg.create()
    assert fresh.parameterDefinition("SERVER_URL").defaultValue() == server.url
    assert fresh.parameterDefinition("AUTHCFG").defaultValue() == connection.authcfg
    assert {o.name() for o in alg.outputDefinitions()} >= {"OUTPUT", "OUTPUT_POINTS", "COUNT"}


def test_in_a_model(provider: Any, connection: Any, server: RigeneraServer) -> None:
    """The algorithm as a child of a Processing model (what the modeler builds)."""
    from qgis.core import (
        QgsProcessingContext,
        QgsProcessingFeedback,
        QgsProcessingModelAlgorithm,
        QgsProcessingModelChildAlgorithm,
        QgsProcessingModelChildParameterSource,
        QgsProcessingModelOutput,
    )

    model = QgsProcessingModelAlgorithm("near transit model", "tests")
    child = QgsProcessingModelChildAlgorithm(ALG)
    child.setChildId("near")
    child.addParameterSources("DISTANCE", [QgsProcessingModelChildParameterSource.fromStaticValue(
        400)])
    child.addParameterSources("MODES", [QgsProcessingModelChildParameterSource.fromStaticValue(
        [0, 2])])
    output = QgsProcessingModelOutput("sites", "sites")
    output.setChildOutputName("OUTPUT")
    child.setModelOutputs({"sites": output})
    model.addChildAlgorithm(child)
    context, feedback = QgsProcessingContext(), QgsProcessingFeedback()
    results, ok = model.run({"near:sites": "TEMPORARY_OUTPUT"}, context, feedback)
    assert ok, feedback.textLog()
    layer = context.getMapLayer(results["near:sites"])
    want = expected(server, 400, ["metro", "tram"], None, None)
    polygons = {int(r[0]) for r in server.sql(
        "SELECT id FROM rigenera.sites WHERE ST_Dimension(geom) = 2")}
    assert sorted(int(f["id"]) for f in layer.getFeatures()) == sorted(set(want) & polygons)


HEADLESS = textwrap.dedent("""
    import json, os, sys
    from qgis.core import QgsApplication
    app = QgsApplication([], False)
    app.initQgis()
    sys.path.insert(0, "/usr/share/qgis/python/plugins")
    sys.path.insert(0, os.environ["QGIS_PLUGINPATH"])
    from processing.core.Processing import Processing
    Processing.initialize()
    import qgis.utils
    qgis.utils.plugin_paths = [os.environ["QGIS_PLUGINPATH"]]
    qgis.utils.updateAvailablePlugins()
    assert qgis.utils.loadPlugin("rigenera_qgis"), "loadPlugin failed"
    assert qgis.utils.startProcessingPlugin("rigenera_qgis"), "startProcessingPlugin failed"
    import processing
    alg = QgsApplication.processingRegistry().algorithmById("rigenera:sites_near_transit")
    assert alg is not None, "algorithm not registered"
    out = processing.run("rigenera:sites_near_transit", {
        "DISTANCE": 500, "MODES": [0], "COMUNI": "015146", "STATES": [0],
        "SERVER_URL": sys.argv[1], "OUTPUT": "TEMPORARY_OUTPUT",
        "OUTPUT_POINTS": "TEMPORARY_OUTPUT"})
    ids = sorted(int(f["id"]) for key in ("OUTPUT", "OUTPUT_POINTS")
                 for f in out[key].getFeatures())
    print(json.dumps({"ids": ids, "name": alg.displayName()}))
    os._exit(0)  # PyQGIS may crash at interpreter exit; the answer is printed
""")


def _headless_env(profile: Path) -> Dict[str, str]:
    env = dict(os.environ)
    env.update({"QT_QPA_PLATFORM": "offscreen", "QGIS_PLUGINPATH": str(PLUGIN_SRC),
                "QGIS_CUSTOM_CONFIG_PATH": str(profile)})
    return env


def test_headless_like_qgis_process(server: RigeneraServer, plugin_root: Path) -> None:
    """What qgis_process does with a plugin (metadata hasProcessingProvider=yes): import it
    from QGIS_PLUGINPATH, classFactory(None), initProcessing(); then run the algorithm in a
    fresh process with no GUI, no saved connection, the server given as a parameter."""
    meta = (plugin_root / "metadata.txt").read_text(encoding="utf-8")
    assert "hasProcessingProvider=yes" in meta
    profile = Path(tempfile.mkdtemp(prefix="rigenera-headless-"))
    try:
        done = subprocess.run([sys.executable, "-c", HEADLESS, server.url],
                              env=_headless_env(profile), capture_output=True, text=True,
                              timeout=180)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, f"exit {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    answer = json.loads(lines[-1])
    assert answer["ids"] == sorted(expected(server, 500, ["metro"], [MILANO], ["abandoned"]))


def _qgis_process() -> Optional[str]:
    """The qgis_process binary. Debian 12's /usr/bin/qgis_process is a shell wrapper that
    passes --noversioncheck from /etc/default/qgis, which qgis_process rejects ("Command
    --noversioncheck not known!"): call the real binary next to it."""
    found = shutil.which("qgis_process")
    if found and Path(found + ".bin").exists():
        return found + ".bin"
    return found


QGIS_PROCESS = _qgis_process()


@pytest.mark.skipif(QGIS_PROCESS is None, reason="qgis_process not installed (Debian package "
                    "'qgis'; python3-qgis alone does not ship it)")
def test_qgis_process(server: RigeneraServer) -> None:
    """The command line: the plugin found in QGIS_PLUGINPATH, enabled, its algorithm listed
    and run with the server as a parameter."""
    profile = Path(tempfile.mkdtemp(prefix="rigenera-qgis-process-"))
    try:
        env = _headless_env(profile)

        def qgis_process(*args: str) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
            return subprocess.run([str(QGIS_PROCESS), *args], env=env, capture_output=True,
                                  text=True, timeout=180)

        enabled = qgis_process("plugins", "enable", "rigenera_qgis")
        assert enabled.returncode == 0, enabled.stdout[-2000:] + enabled.stderr[-2000:]
        listing = qgis_process("list")
        assert "rigenera:sites_near_transit" in listing.stdout, listing.stderr[-3000:]
        ran = qgis_process("--json", "run", ALG, "--", "DISTANCE=500", "MODES=0",
                           f"COMUNI={MILANO}", "STATES=0", f"SERVER_URL={server.url}",
                           "OUTPUT=TEMPORARY_OUTPUT", "OUTPUT_POINTS=TEMPORARY_OUTPUT")
        assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-3000:]
        doc = json.loads(ran.stdout[ran.stdout.index("{"):])
        assert doc["results"]["COUNT"] == len(expected(server, 500, ["metro"], [MILANO],
                                                       ["abandoned"]))
    finally:
        shutil.rmtree(profile, ignore_errors=True)


# ------------------------------------------------- qgis_process with saved credentials
SAVED_PROFILE = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, sys.argv[3])
    from qgis.PyQt.QtCore import QCoreApplication
    # The names qgis_process reads its settings under (QGIS/QGIS3.ini of the profile).
    QCoreApplication.setOrganizationName("QGIS")
    QCoreApplication.setOrganizationDomain("qgis.org")
    QCoreApplication.setApplicationName("QGIS3")
    from qgis.core import QgsApplication
    app = QgsApplication([], False)
    app.initQgis()
    assert QgsApplication.authManager().setMasterPassword(sys.argv[2], True)
    from rigenera_qgis.core.auth import store_basic_credentials
    from rigenera_qgis.core.connection import Connection
    authcfg = store_basic_credentials("Rigenera", "tecnico", sys.argv[4])
    Connection(sys.argv[1], authcfg).save()
    print(authcfg)
    os._exit(0)
""")


class SavedProfile:
    """A QGIS profile as a technician leaves it: the plugin enabled, a connection saved in
    the settings, its Basic credentials in the auth DB behind a master password."""

    def __init__(self, root: Path, url: str, master: str) -> None:
        self.root, self.master = root, master
        self.env = _headless_env(root / "profile")
        made = subprocess.run([sys.executable, "-c", SAVED_PROFILE, url, master,
                               str(PLUGIN_SRC), PASSWORD],
                              env=self.env, capture_output=True, text=True, timeout=120)
        assert made.returncode == 0, made.stdout[-2000:] + made.stderr[-3000:]
        self.authcfg = made.stdout.strip().splitlines()[-1]
        enabled = self.qgis_process("plugins", "enable", "rigenera_qgis")
        assert enabled.returncode == 0, enabled.stdout[-2000:] + enabled.stderr[-2000:]

    def qgis_process(self, *args: str, password: Optional[str] = None
                     ) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
        env = dict(self.env)
        env.pop("QGIS_AUTH_PASSWORD_FILE", None)
        if password is not None:
            path = self.root / "master-password"
            path.write_text(password, encoding="utf-8")
            env["QGIS_AUTH_PASSWORD_FILE"] = str(path)
        return subprocess.run([str(QGIS_PROCESS), *args], env=env, capture_output=True,
                              text=True, timeout=180, stdin=subprocess.DEVNULL)

    def run_near_transit(self, *extra: str, password: Optional[str] = None
                         ) -> Tuple[int, Dict[str, Any], str]:
        """qgis_process run with the saved connection (no server or authcfg given)."""
        ran = self.qgis_process("--json", "run", ALG, "--", "DISTANCE=500", "MODES=0",
                                f"COMUNI={MILANO}", "STATES=0", "OUTPUT=TEMPORARY_OUTPUT",
                                "OUTPUT_POINTS=TEMPORARY_OUTPUT", *extra, password=password)
        text = ran.stdout
        doc = json.loads(text[text.index("{"):]) if "{" in text else {}
        return ran.returncode, doc, text + ran.stderr


@pytest.fixture
def saved_profile(server: RigeneraServer) -> Iterator[SavedProfile]:
    root = Path(tempfile.mkdtemp(prefix="rigenera-saved-profile-"))
    try:
        yield SavedProfile(root, server.url, "master-del-tecnico")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_the_process_is_public(server: RigeneraServer) -> None:
    """The server answers sites-near-transit without credentials (why it may run anonymously)."""
    import urllib.request

    req = urllib.request.Request(server.url + "/ogc/processes/sites-near-transit/execution",
                                 data=json.dumps({"inputs": {"distance_m": 500,
                                                             "modes": ["metro"]}}).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as answer:
        assert answer.status == 200
        assert json.loads(answer.read())["type"] == "FeatureCollection"


@pytest.mark.skipif(QGIS_PROCESS is None, reason="qgis_process not installed")
def test_qgis_process_with_locked_credentials_runs_anonymously(
        server: RigeneraServer, saved_profile: SavedProfile) -> None:
    """Headless, no master password: the saved credentials cannot be opened. The public
    algorithm still answers, exactly, and a warning says why the credentials were unused."""
    want = len(expected(server, 500, ["metro"], [MILANO], ["abandoned"]))
    code, doc, text = saved_profile.run_near_transit()
    assert code == 0, text[-3000:]
    assert doc["results"]["COUNT"] == want
    warnings = " ".join(doc["log"].get("warning") or [])
    assert f"authcfg {saved_profile.authcfg}" in warnings
    assert "QGIS_AUTH_PASSWORD_FILE" in warnings and "bloccato" in warnings
    assert "raggiungibile" not in text and "unreachable" not in text
    # With the master password given, the same run uses the credentials: no warning.
    code, doc, text = saved_profile.run_near_transit(password=saved_profile.master)
    assert code == 0, text[-3000:]
    assert doc["results"]["COUNT"] == want and not doc["log"].get("warning")


@pytest.mark.skipif(QGIS_PROCESS is None, reason="qgis_process not installed")
def test_qgis_process_with_a_wrong_master_password_says_so(
        server: RigeneraServer, saved_profile: SavedProfile) -> None:
    code, doc, text = saved_profile.run_near_transit(password="not-the-master-password")
    assert code == 0, text[-3000:]
    warnings = " ".join(doc["log"].get("warning") or [])
    assert "password errata" in warnings and "wrong password" in warnings
    assert "raggiungibile" not in text and "unreachable" not in text


@pytest.mark.skipif(QGIS_PROCESS is None, reason="qgis_process not installed")
def test_qgis_process_with_the_server_down_says_unreachable(
        server: RigeneraServer, saved_profile: SavedProfile) -> None:
    from conftest import free_port

    down = f"http://127.0.0.1:{free_port()}"
    code, _, text = saved_profile.run_near_transit(f"SERVER_URL={down}",
                                                   f"AUTHCFG={saved_profile.authcfg}",
                                                   password=saved_profile.master)
    assert code != 0
    assert "server unreachable" in text and down in text
    assert "credenziali" not in text
