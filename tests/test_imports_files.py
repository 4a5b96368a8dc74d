"""File safety of imports (imports/files.py): every refusal on a file built here, and the
files that must pass, read back by GDAL as they are handed to the engine.

Nothing here needs the database: these are the checks that run before any row is read.
The HTTP side (413 while receiving, the same refusals as 4xx answers, database unchanged)
is tests/test_imports_api.py.
"""

from __future__ import annotations

import codecs
import hashlib
import stat
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from rigenera.errors import FileTooLarge, UnsafeFile, UnsupportedFile
from rigenera.imports.files import FileLimits, gdal_errors, open_source

MIB = 1024 * 1024


def frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": ["Città Studi", "Bovisa"], "n": [1, 2]},
                            geometry=[shapely.Point(9.23, 45.47), shapely.Point(9.16, 45.50)],
                            crs=4326)


def temp_dirs() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("rigenera-import-*")}


def refused(path: Path, kind: type[UnsafeFile] = UnsafeFile, status: int = 422, *,
            reason: str = "", **kw) -> UnsafeFile:
    """open_source refuses `path` with `kind`/`status`, naming `file`, leaving no temp dir."""
    before = temp_dirs()
    with pytest.raises(kind) as info:
        open_source(path, **kw)
    exc = info.value
    assert exc.status == status, (exc.status, exc.description)
    assert exc.errors and exc.errors[0]["field"] in ("file", "crs"), exc.errors
    assert reason.lower() in exc.errors[0]["reason"].lower(), exc.errors
    assert " / " in exc.description  # Italian / English
    assert temp_dirs() <= before
    return exc


@pytest.fixture
def gpkg(tmp_path: Path) -> Path:
    path = tmp_path / "siti.gpkg"
    frame().to_file(path, driver="GPKG")
    return path


def shapefile_zip(tmp_path: Path, *, folder: str = "consegna/", extra: dict[str, bytes] | None
                  = None, skip: tuple[str, ...] = (), encoding: str | None = None,
                  name: str = "siti.zip") -> Path:
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir(exist_ok=True)
    frame().to_file(shp_dir / "Aree dismesse.shp", encoding=encoding)
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(shp_dir.iterdir()):
            if f.suffix not in skip:
                z.write(f, folder + f.name)
        for member, data in (extra or {}).items():
            z.writestr(member, data)
    return path


# ------------------------------------------------------------------ what passes
def test_geopackage(gpkg):
    with open_source(gpkg) as src:
        assert src.format == "gpkg" and src.path == gpkg and src.workdir is None
        assert src.sha256 == hashlib.sha256(gpkg.read_bytes()).hexdigest()
        assert src.size == gpkg.stat().st_size
        assert src.layers == [("siti", "Point")]


def test_zipped_shapefile_is_extracted_privately_and_removed(tmp_path):
    path = shapefile_zip(tmp_path, extra={"__MACOSX/consegna/._Aree dismesse.shp": b"junk",
                                          "consegna/LEGGIMI.txt": b"note"})
    with open_source(path) as src:
        assert src.format == "shapefile" and src.sha256 == hashlib.sha256(
            path.read_bytes()).hexdigest()
        workdir = src.workdir
        assert workdir is not None and stat.S_IMODE(workdir.stat().st_mode) == 0o700
        assert sorted(p.name for p in workdir.iterdir()) == [
            f"Aree_dismesse{e}" for e in (".cpg", ".dbf", ".prj", ".shp", ".shx")]
        assert src.layers == [("Aree_dismesse", "Point")]
        df = pyogrio.read_dataframe(src.gdal_path)
        assert sorted(df["name"]) == ["Bovisa", "Città Studi"] and df.crs.to_epsg() == 4326
    assert not workdir.exists()


def test_shapefile_cpg_is_honoured(tmp_path):
    path = shapefile_zip(tmp_path, encoding="cp1252")
    with open_source(path) as src:
        assert src.encoding.upper().replace("-", "") in ("CP1252", "1252", "WINDOWS1252")
        assert "Città Studi" in set(pyogrio.read_dataframe(src.gdal_path)["name"])


def test_shapefile_without_prj_is_noted(tmp_path):
    with open_source(shapefile_zip(tmp_path, skip=(".prj",))) as src:
        assert [n["code"] for n in src.notes] == ["no_prj"]


def test_geojson_with_bom(tmp_path):
    path = tmp_path / "siti.geojson"
    path.write_bytes(codecs.BOM_UTF8 + b"\n  " + frame().to_json().encode())
    with open_source(path) as src:
        assert src.format == "geojson" and src.encoding == "utf-8-sig"
        assert list(pyogrio.read_dataframe(src.gdal_path)["name"]) == ["Città Studi", "Bovisa"]


def test_utf8_csv_and_txt(tmp_path):
    text = "nome;lon;lat\nCittà Studi;9.23;45.47\n"
    (tmp_path / "a.csv").write_text(text, encoding="utf-8")
    (tmp_path / "a.txt").write_text(text, encoding="utf-8")
    with open_source(tmp_path / "a.csv") as src:
        assert (src.format, src.encoding, src.notes, src.workdir) == ("csv", "utf-8", [], None)
    with open_source(tmp_path / "a.txt") as src:
        assert src.gdal_path == f"CSV:{tmp_path / 'a.txt'}"
        assert list(pyogrio.read_dataframe(src.gdal_path)["nome"]) == ["Città Studi"]


def test_cp1252_csv_is_transcoded_with_a_note(tmp_path):
    path = tmp_path / "comune.csv"
    raw = "nome,importo\nCittà Studi,1.234\nPiazza d’Armi,5\n".encode("cp1252")
    path.write_bytes(raw)
    with open_source(path) as src:
        assert src.encoding == "cp1252" and src.sha256 == hashlib.sha256(raw).hexdigest()
        assert src.path != path and src.path.read_text(encoding="utf-8").startswith("nome")
        assert src.notes[0]["code"] == "encoding" and "riga 2" in src.notes[0]["message"]
        assert list(pyogrio.read_dataframe(src.gdal_path)["nome"]) == ["Città Studi",
                                                                       "Piazza d’Armi"]


def test_xlsx(tmp_path):
    path = tmp_path / "progetti.xlsx"
    pyogrio.write_dataframe(pd.DataFrame({"cup": ["B41B20000010006"], "lon": [9.2]}), path,
                            driver="XLSX")
    with open_source(path) as src:
        assert src.format == "xlsx" and src.layers == [("progetti", None)]


# ------------------------------------------------------------------ type and size
@pytest.mark.parametrize("name", ["mappa.kml", "virus.exe", "README", "x.shp", "x.xls", "a.tar"])
def test_unknown_extensions_are_415(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"{}")
    exc = refused(path, UnsupportedFile, 415, reason="not accepted")
    if name.endswith(".shp"):
        assert ".zip" in exc.description
    if name.endswith(".xls"):
        assert ".xlsx" in exc.description


@pytest.mark.parametrize(("source", "as_name"), [
    ("gpkg", "finto.csv"), ("gpkg", "finto.zip"), ("gpkg", "finto.geojson"),
    ("gpkg", "finto.xlsx"), ("zip", "finto.gpkg"), ("csv", "finto.gpkg"), ("csv", "finto.zip"),
    ("html", "finto.geojson"), ("pdf", "finto.csv"), ("sqlite", "finto.gpkg")])
def test_content_that_does_not_match_the_extension_is_415(tmp_path, gpkg, source, as_name):
    data = {"gpkg": gpkg.read_bytes(), "zip": shapefile_zip(tmp_path).read_bytes(),
            "csv": b"a,b\n1,2\n", "html": b"<html><body>{}</body></html>",
            "pdf": b"%PDF-1.4\n...", "sqlite": None}[source]
    path = tmp_path / as_name
    if data is None:  # an SQLite database that is not a GeoPackage (MBTiles' application id)
        import sqlite3

        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA application_id = 0x4d504258")
            conn.execute("CREATE TABLE t (x)")
        conn.close()
    else:
        path.write_bytes(data)
    refused(path, UnsupportedFile, 415, reason="not", file_name=as_name)


def test_the_users_file_name_decides_not_the_spool_name(tmp_path, gpkg):
    spooled = tmp_path / "upload-1234.bin"
    spooled.write_bytes(gpkg.read_bytes())
    with open_source(spooled, file_name="C:\\Utenti\\anna\\siti.gpkg") as src:
        assert src.file_name == "siti.gpkg" and src.format == "gpkg"


def test_oversized_is_413(gpkg):
    exc = refused(gpkg, FileTooLarge, 413, reason="larger than",
                  limits=FileLimits(max_bytes=gpkg.stat().st_size - 1))
    assert exc.body["limit"] == gpkg.stat().st_size - 1


def test_empty_file(tmp_path):
    (tmp_path / "vuoto.csv").write_bytes(b"")
    refused(tmp_path / "vuoto.csv", reason="empty")


# ------------------------------------------------------------------ archives
def zip_with(tmp_path: Path, members: list[tuple[zipfile.ZipInfo | str, bytes]],
             name: str = "a.zip") -> Path:
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in members:
            z.writestr(info, data)
    return path


@pytest.mark.parametrize("member", ["../../etc/cron.d/x.shp", "/etc/passwd", "a/../../b.dbf",
                                    "C:/Windows/x.shp", "..\\..\\x.shx", "ok/\x01.dbf"])
def test_zip_slip_is_refused(tmp_path, member):
    path = zip_with(tmp_path, [("s.shp", b"x"), (member, b"evil")])
    refused(path, reason="zip-slip")
    assert not (tmp_path.parent / "b.dbf").exists()


def test_symlink_member_is_refused(tmp_path):
    link = zipfile.ZipInfo("s.dbf")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    link.create_system = 3
    path = zip_with(tmp_path, [("s.shp", b"x"), ("s.shx", b"x"), (link, b"/etc/passwd")])
    refused(path, reason="symlink")


@pytest.mark.parametrize("inner", ["dentro.zip", "dati.gpkg", "x.tar.gz", "foglio.xlsx"])
def test_nested_archives_are_refused(tmp_path, inner):
    refused(zip_with(tmp_path, [("s.shp", b"x"), (inner, b"PK\x03\x04")]), reason="nested")


def test_too_many_members(tmp_path):
    members = [(f"f{i}.txt", b"x") for i in range(101)]
    refused(zip_with(tmp_path, members), reason="zip bomb")


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    """1 GiB of zeros in one member, written streaming: ~1 MiB on disk, never in memory."""
    path = tmp_path_factory.mktemp("bomb") / "bomba.zip"
    zero = bytes(MIB)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name in ("s.shp", "s.shx"):
            z.writestr(name, b"x")
        info = zipfile.ZipInfo("s.dbf")
        info.compress_type = zipfile.ZIP_DEFLATED
        with z.open(info, "w", force_zip64=True) as member:
            for _ in range(1024):
                member.write(zero)
    assert path.stat().st_size < 10 * MIB
    return path


def test_zip_bomb_by_ratio(bomb):
    before = temp_dirs()
    exc = refused(bomb, reason="zip bomb")
    assert "s.dbf" in exc.description
    assert temp_dirs() == before  # refused before anything was unpacked


def test_zip_bomb_by_total_size(bomb):
    """The same file under a generous ratio but a 512 MiB unpacked cap: 413."""
    exc = refused(bomb, FileTooLarge, 413, reason="unpacks to more",
                  limits=FileLimits(max_unpacked_bytes=512 * MIB, max_ratio=10_000))
    assert exc.body["limit"] == 512 * MIB


def test_xlsx_bomb(tmp_path):
    path = tmp_path / "bomba.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b" " * (64 * MIB))
    refused(path, reason="zip bomb")


def test_overlapping_members_are_refused(tmp_path):
    """Two central directory entries pointing into the same bytes (Fifield's bomb)."""
    path = zip_with(tmp_path, [("s.shp", b"a" * 5000), ("s.shx", b"b" * 5000),
                               ("s.dbf", b"c" * 5000)])
    data = bytearray(path.read_bytes())
    central = data.rfind(b"PK\x01\x02")  # the last member's central entry
    data[central + 42:central + 46] = (0).to_bytes(4, "little")  # its offset: the first's
    path.write_bytes(bytes(data))
    refused(path, reason="zip bomb")


def test_encrypted_member_is_refused(tmp_path):
    path = zip_with(tmp_path, [("s.shp", b"x"), ("s.shx", b"x"), ("s.dbf", b"x")])
    data = bytearray(path.read_bytes())
    central = data.find(b"PK\x01\x02")
    data[central + 8] |= 1
    path.write_bytes(bytes(data))
    refused(path, reason="encrypted")


def test_truncated_and_corrupt_zips(tmp_path):
    good = shapefile_zip(tmp_path)
    data = good.read_bytes()
    cut = tmp_path / "troncato.zip"
    cut.write_bytes(data[: len(data) // 2])
    refused(cut, reason="corrupt zip")
    broken = bytearray(data)
    info = zipfile.ZipFile(good).getinfo("consegna/Aree dismesse.dbf")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start + 2, start + info.compress_size - 2):
        broken[i] ^= 0x5A
    bad = tmp_path / "corrotto.zip"
    bad.write_bytes(bytes(broken))
    refused(bad, reason="corrupt member")


def test_shapefile_sets(tmp_path):
    two = shapefile_zip(tmp_path, extra={"altro/b.shp": b"x", "altro/b.shx": b"x",
                                         "altro/b.dbf": b"x"})
    refused(two, reason="2 .shp")
    refused(shapefile_zip(tmp_path, skip=(".dbf",), name="nodbf.zip"), reason="missing .dbf")
    refused(zip_with(tmp_path, [("leggimi.txt", b"x")], "vuoto.zip"), reason="0 .shp")


def test_truncated_shapefile_inside_a_good_zip(tmp_path):
    frame().to_file(tmp_path / "s.shp")
    path = zip_with(tmp_path, [(f"s{e}", (tmp_path / f"s{e}").read_bytes()[:-10]
                                if e == ".shp" else (tmp_path / f"s{e}").read_bytes())
                               for e in (".shp", ".shx", ".dbf", ".prj")], "t.zip")
    refused(path, reason="truncated .shp")
    path = zip_with(tmp_path, [(f"s{e}", (tmp_path / f"s{e}").read_bytes()[:-20]
                                if e == ".dbf" else (tmp_path / f"s{e}").read_bytes())
                               for e in (".shp", ".shx", ".dbf")], "t2.zip")
    refused(path, reason="truncated .dbf")


# ------------------------------------------------------------------ damaged content
def test_truncated_geopackage(tmp_path, gpkg):
    data = gpkg.read_bytes()
    for n, size in enumerate((len(data) // 2, 4096 * 2, len(data) - 1000, 50)):
        path = tmp_path / f"t{n}.gpkg"
        path.write_bytes(data[:size])
        refused(path, reason="truncated")


def test_corrupt_geopackage_is_a_clear_422(tmp_path, gpkg):
    """The header is intact, the schema page is garbage: GDAL's refusal, translated."""
    data = bytearray(gpkg.read_bytes())
    data[100:4096] = bytes(range(256)) * 15 + bytes(range(156))
    path = tmp_path / "rotto.gpkg"
    path.write_bytes(bytes(data))
    exc = refused(path, reason="")
    assert str(tmp_path) not in exc.description and "rotto.gpkg" in exc.description


def test_corrupt_and_truncated_xlsx(tmp_path):
    path = tmp_path / "p.xlsx"
    pyogrio.write_dataframe(pd.DataFrame({"cup": ["X"] * 2000}), path, driver="XLSX")
    data = path.read_bytes()
    (tmp_path / "cut.xlsx").write_bytes(data[:-200])
    refused(tmp_path / "cut.xlsx", reason="corrupt zip")
    info = zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    broken = bytearray(data)
    broken[start + 10:start + 40] = bytes(30)
    (tmp_path / "bad.xlsx").write_bytes(bytes(broken))
    refused(tmp_path / "bad.xlsx", reason="corrupt member")
    notbook = zip_with(tmp_path, [("a.txt", b"x")], "nb.xlsx")
    refused(notbook, UnsupportedFile, 415, reason="workbook")


def test_text_encodings(tmp_path):
    path = tmp_path / "x.geojson"
    path.write_bytes(b'{"type": "FeatureCollection", "features": [{"type": "Feature", '
                     b'"properties": {"nome": "Citt\xe0"}, "geometry": null}]}')
    refused(path, reason="invalid utf-8 at line 1")
    path = tmp_path / "u16.csv"
    path.write_bytes("nome\nCittà\n".encode("utf-16"))
    refused(path, reason="utf-16")
    path = tmp_path / "strano.csv"
    path.write_bytes(b"nome\nA\x81B\n")  # 0x81: undefined in Windows-1252
    refused(path, reason="unknown text encoding")


def test_truncated_geojson(tmp_path):
    text = frame().to_json()
    path = tmp_path / "t.geojson"
    path.write_text(text[: len(text) // 2])
    refused(path, reason="")
    path.write_text(text[:-2] + "}")  # ends with a brace but is cut: GDAL says so
    exc = refused(path, reason="")
    assert str(tmp_path) not in exc.description


def test_gdal_errors_name_the_file_not_our_paths(tmp_path, gpkg):
    with open_source(gpkg, file_name="mio.gpkg") as src, pytest.raises(UnsafeFile) as info, \
            gdal_errors(src):
        pyogrio.read_dataframe(src.gdal_path, layer="manca")
    assert info.value.status == 422 and str(tmp_path) not in info.value.description
    assert "mio.gpkg" in info.value.description
    with open_source(gpkg) as src, pytest.raises(KeyError), gdal_errors(src):
        raise KeyError("not GDAL's: unchanged")
