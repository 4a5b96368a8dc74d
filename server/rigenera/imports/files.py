"""File safety for imports: what may be opened, and how, before GDAL reads a byte of it.

`open_source(path, file_name=...)` is the one door of every import (CLI, API, built-in
sources): the engine's `read_file` calls it and opens `SafeSource.gdal_path` with pyogrio.

    with open_source(path, file_name="siti.zip") as src:   # may raise UnsafeFile
        with gdal_errors(src):                             # GDAL failures -> UnsafeFile
            table = pyogrio.read_arrow(src.gdal_path, ...)
        # src.sha256, src.format, src.encoding, src.notes, src.layers

What it guarantees (each refusal is an `UnsafeFile` naming `file` and the reason,
413 for size, 415 for type, 422 otherwise; errors.py):
- a known extension (.gpkg, .zip with a Shapefile, .geojson/.json, .csv/.txt/.tsv, .xlsx)
  whose content matches it (magic bytes: SQLite header, `PK`, `{`, text without NUL);
- the size limit, checked while the SHA-256 of the bytes is computed in one pass;
- GeoPackage: not truncated (the SQLite header's page size and page count);
- zip (Shapefile) and XLSX (a zip too): no absolute or `..` member names, no symlinks,
  no encrypted members, no nested archives, no overlapping members, at most
  `max_members`; unpacked total <= `max_unpacked_bytes`; no member (of more than
  1 MiB) nor the whole inflating more than `max_ratio` times (DEFLATE's own maximum is
  ~1032: only padding-like content goes beyond 500). Every CRC is verified;
- a zip holds exactly one Shapefile (.shp + .shx + .dbf, .prj and .cpg optional; macOS
  `__MACOSX/` and `._*` ignored), extracted under flat names into a private temporary
  folder (0700) with a byte count, its .shp/.shx/.dbf headers checked against their
  sizes (truncation); .cpg is kept beside it, so GDAL decodes the DBF with it;
- text: GeoJSON must be UTF-8 (RFC 7946; a BOM is tolerated). A CSV that is not valid
  UTF-8 is read as Windows-1252 (what Excel in Italian saves as "CSV"; Latin-1's letters
  are the same bytes), transcoded to a UTF-8 copy, with a note in the report; bytes
  Windows-1252 does not define, or UTF-16 (Excel's "Unicode text"), are refused saying
  how to save the file. A truncated GeoJSON (not ending with `}`) is refused.
The temporary folder is removed by `SafeSource.close()` (a context manager).
"""

from __future__ import annotations

import codecs
import hashlib
import itertools
import lzma
import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from rigenera.errors import FileTooLarge, UnsafeFile, UnsupportedFile

MIB = 1024 * 1024
CHUNK = MIB
RATIO_FLOOR = MIB  # smaller members may compress as they like: they cannot hurt
PROBE_GEOJSON_MAX = 16 * MIB  # GDAL parses a whole GeoJSON to list it: larger ones only once
FORMATS = {".gpkg": "gpkg", ".zip": "shapefile", ".geojson": "geojson", ".json": "geojson",
           ".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx"}
_HINTS = {  # known, but not importable as they are
    ".shp": "uno Shapefile va caricato come .zip con .shp, .shx, .dbf (e .prj) / upload a "
            "Shapefile as a .zip holding its .shp, .shx, .dbf (and .prj)",
    ".xls": "salvare il foglio come .xlsx / save the sheet as .xlsx",
    ".xlsm": "salvare il foglio come .xlsx (senza macro) / save the sheet as .xlsx",
    ".ods": "salvare il foglio come .xlsx / save the sheet as .xlsx",
    ".kmz": "esportare in GeoPackage / export to GeoPackage",
    ".kml": "esportare in GeoPackage / export to GeoPackage",
}
_ARCHIVES = (".zip", ".gz", ".tgz", ".tar", ".7z", ".rar", ".bz2", ".xz", ".kmz", ".gpkg",
             ".xlsx", ".jar")
_SQLITE = b"SQLite format 3\x00"
_GPKG_IDS = (b"GPKG", b"GP10", b"GP11", b"\x00\x00\x00\x00")
_ZIP = b"PK\x03\x04"
_BINARY = {_ZIP: "ZIP/XLSX", _SQLITE: "SQLite/GeoPackage", b"%PDF": "PDF",
           b"\xd0\xcf\x11\xe0": "Excel .xls/OLE", b"\x1f\x8b": "gzip", b"PK\x05\x06": "ZIP"}
_UTF16 = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_SHAPE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
_SHAPE_CODE = 9994
_UNSAFE_NAME = re.compile(r"^[A-Za-z]:|[\x00-\x1f]")


@dataclass(frozen=True)
class FileLimits:
    """The bounds of an import file (settings.py: RIGENERA_IMPORT_*)."""

    max_bytes: int = 200 * MIB
    max_unpacked_bytes: int = 1024 * MIB
    max_ratio: int = 500
    max_members: int = 100

    @classmethod
    def from_settings(cls, settings: Any = None) -> FileLimits:
        if settings is None:
            from rigenera.settings import Settings

            settings = Settings()
        return cls(settings.import_max_bytes, settings.import_max_unpacked_bytes,
                   settings.import_max_ratio, settings.import_max_members)


@dataclass
class SafeSource:
    """A checked file, ready for GDAL. Close it (or use `with`) to remove the temporary copy."""

    file_name: str  # as the user named it (reports, messages)
    format: str  # gpkg | shapefile | geojson | csv | xlsx
    sha256: str  # of the bytes received
    size: int
    path: Path  # what GDAL opens: the file itself, the extracted .shp, a UTF-8 copy of a CSV
    gdal_path: str  # `path`, prefixed with CSV: for .txt/.tsv
    encoding: str | None = None  # utf-8, utf-8-sig, cp1252 (transcoded), a Shapefile's .cpg
    layers: list[tuple[str, str | None]] = field(default_factory=list)  # (name, geometry type)
    notes: list[dict[str, Any]] = field(default_factory=list)  # for the report's notes
    workdir: Path | None = None

    def close(self) -> None:
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def __enter__(self) -> SafeSource:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _refuse(name: str, it: str, en: str, reason: str, kind: type[UnsafeFile] = UnsafeFile,
            **body: Any) -> UnsafeFile:
    return kind(f"{name}: {it} / {en}", reason=reason, body=body or None)


def open_source(path: Path, *, file_name: str | None = None, limits: FileLimits | None = None,
                probe: bool = True) -> SafeSource:
    """Check `path` (see the module) and return how GDAL should open it.

    `file_name` is the name the user gave (an upload is spooled under another name): its
    extension decides the format. `limits` defaults to the settings (environment).
    `probe` lists the layers with pyogrio, so a file GDAL cannot open is refused here.
    """
    limits = limits or FileLimits.from_settings()
    path = Path(path)
    name = PurePosixPath((file_name or path.name).replace("\\", "/")).name or "file"
    ext = PurePosixPath(name.lower()).suffix
    fmt = FORMATS.get(ext)
    if fmt is None:
        hint = _HINTS.get(ext, "formati accettati / accepted: " + ", ".join(sorted(FORMATS)))
        raise _refuse(name, f"tipo di file non accettato ({ext or 'senza estensione'})",
                      f"file type not accepted ({ext or 'no extension'}): {hint}",
                      f"extension {ext or '(none)'} not accepted", UnsupportedFile)
    if not path.is_file():
        raise _refuse(name, "file non trovato", "file not found", "not found")
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise _too_large(name, size, limits.max_bytes)
    if size == 0:
        raise _refuse(name, "file vuoto", "empty file", "empty")
    with path.open("rb") as f:
        head = f.read(4096)
    _check_magic(name, fmt, head)
    source = SafeSource(name, fmt, "", size, path, str(path))
    try:
        if fmt in ("csv", "geojson"):
            _scan_text(source, limits)
        else:
            source.sha256 = _hash(path, limits.max_bytes, name)
        if fmt == "gpkg":
            _check_sqlite(name, head, size)
        elif fmt == "xlsx":
            with _zip(name, path) as zf:
                infos = _check_archive(name, zf, limits)
                lower = {i.filename.lower() for i in infos}
                if not {"[content_types].xml", "xl/workbook.xml"} <= lower:
                    raise _refuse(name, "non è un foglio Excel .xlsx", "not an .xlsx workbook",
                                  "no xl/workbook.xml", UnsupportedFile)
                _verify_members(name, zf, infos)
        elif fmt == "shapefile":
            _extract_shapefile(source, limits)
        source.gdal_path = f"CSV:{source.path}" if ext in (".txt", ".tsv") else str(source.path)
        if probe and (fmt != "geojson" or size <= PROBE_GEOJSON_MAX):
            source.layers = _layers(source)
    except BaseException:
        source.close()
        raise
    return source


def _too_large(name: str, size: int, limit: int) -> FileTooLarge:
    return FileTooLarge(
        f"{name}: file oltre il limite di {limit // MIB} MiB / file over the {limit // MIB} MiB "
        f"limit", reason=f"larger than {limit} bytes", body={"limit": limit})


def _check_magic(name: str, fmt: str, head: bytes) -> None:
    """Content must be what the extension says (a renamed file is refused, 415)."""
    found = next((what for magic, what in _BINARY.items() if head.startswith(magic)), None)
    if fmt == "gpkg" and not head.startswith(_SQLITE):
        ok = False
    elif fmt in ("shapefile", "xlsx"):
        ok = head.startswith(_ZIP)
        if head.startswith(b"PK\x05\x06"):
            raise _refuse(name, "archivio zip vuoto", "empty zip archive", "empty zip")
    elif fmt in ("csv", "geojson"):
        if head.startswith(_UTF16):
            raise _refuse(name, "testo in UTF-16: salvarlo come UTF-8 (Excel: 'CSV UTF-8')",
                          "UTF-16 text: save it as UTF-8 (Excel: 'CSV UTF-8')", "UTF-16 text")
        ok = found is None and b"\x00" not in head
        if ok and fmt == "geojson":
            ok = head.removeprefix(codecs.BOM_UTF8).lstrip(b" \t\r\n")[:1] in (b"{", b"")
    else:
        ok = True
    if not ok:
        what = found or ("binario / binary" if b"\x00" in head else "testo / text")
        raise _refuse(name, f"il contenuto ({what}) non corrisponde all'estensione",
                      f"content ({what}) does not match the file extension",
                      f"content is not {fmt}", UnsupportedFile)


def _hash(path: Path, limit: int, name: str) -> str:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            size += len(chunk)
            if size > limit:  # grew since it was measured
                raise _too_large(name, size, limit)
            digest.update(chunk)
    return digest.hexdigest()


def _scan_text(source: SafeSource, limits: FileLimits) -> None:
    """One pass: SHA-256 and strict UTF-8; a CSV that is not UTF-8 is transcoded from cp1252."""
    name = source.file_name
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    bad: tuple[int, int, int] | None = None  # (line, byte offset, byte)
    lines = size = 0
    last = b""
    with source.path.open("rb") as f:
        while chunk := f.read(CHUNK):
            size += len(chunk)
            if size > limits.max_bytes:
                raise _too_large(name, size, limits.max_bytes)
            digest.update(chunk)
            if bad is None:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    bad = (lines + chunk.count(b"\n", 0, exc.start) + 1, size - len(chunk)
                           + exc.start, chunk[exc.start])
                lines += chunk.count(b"\n")
            if chunk.strip():
                last = chunk.rstrip()[-1:]
        if bad is None:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                bad = (lines + 1, size, 0)
    source.sha256 = digest.hexdigest()
    with source.path.open("rb") as f:
        bom = f.read(3) == codecs.BOM_UTF8
    source.encoding = "utf-8-sig" if bom else "utf-8"
    if source.format == "geojson":
        if bad is not None:
            raise _refuse(name, f"non è UTF-8 (riga {bad[0]}, byte 0x{bad[2]:02X}): salvarlo in "
                          "UTF-8", f"not UTF-8 (line {bad[0]}, byte 0x{bad[2]:02X}): save it "
                          "as UTF-8", f"invalid UTF-8 at line {bad[0]}")
        if last != b"}":
            raise _refuse(name, "GeoJSON incompleto (troncato?)", "incomplete GeoJSON "
                          "(truncated?)", "does not end with '}'")
    elif bad is not None:
        _transcode(source, bad)


def _transcode(source: SafeSource, bad: tuple[int, int, int]) -> None:
    """A CSV in Windows-1252 becomes a UTF-8 copy in a private folder (noted in the report)."""
    workdir = Path(tempfile.mkdtemp(prefix="rigenera-import-"))
    source.workdir = workdir
    target = workdir / (re.sub(r"[^\w.-]+", "_", PurePosixPath(source.file_name).stem)[:64]
                        + source.path.suffix.lower())
    decoder = codecs.getincrementaldecoder("cp1252")("strict")
    line = 1
    try:
        with source.path.open("rb") as f, target.open("w", encoding="utf-8", newline="") as out:
            while chunk := f.read(CHUNK):
                out.write(decoder.decode(chunk))
                line += chunk.count(b"\n")
    except UnicodeDecodeError as exc:
        raise _refuse(source.file_name, f"codifica del testo sconosciuta (né UTF-8 né "
                      f"Windows-1252, byte 0x{exc.object[exc.start]:02X}): salvarlo come 'CSV "
                      "UTF-8'", f"unknown text encoding (neither UTF-8 nor Windows-1252, byte "
                      f"0x{exc.object[exc.start]:02X}): save it as 'CSV UTF-8'",
                      "unknown text encoding") from None
    source.path = target
    source.encoding = "cp1252"
    source.notes.append({"code": "encoding", "message":
                         f"Il file non è UTF-8 (riga {bad[0]}, byte 0x{bad[2]:02X}): letto come "
                         "Windows-1252 / the file is not UTF-8: read as Windows-1252"})


def _check_sqlite(name: str, head: bytes, size: int) -> None:
    """A GeoPackage's SQLite header says how long the file must be: truncation shows."""
    if len(head) < 100:
        raise _refuse(name, "GeoPackage troncato", "truncated GeoPackage", "truncated header")
    page = int.from_bytes(head[16:18], "big")
    page = 65536 if page == 1 else page
    if page < 512 or page & (page - 1):
        raise _refuse(name, "GeoPackage corrotto (intestazione SQLite)",
                      "corrupt GeoPackage (SQLite header)", "bad page size")
    pages = int.from_bytes(head[28:32], "big")
    counted = head[24:28] == head[92:96]  # the in-header size is valid (SQLite >= 3.7.0)
    if size % page or (counted and pages and size < pages * page):
        expected = pages * page if counted and pages else (size // page + 1) * page
        raise _refuse(name, f"GeoPackage troncato ({size} byte di {expected})",
                      f"truncated GeoPackage ({size} of {expected} bytes)", "truncated")
    if head[68:72] not in _GPKG_IDS:
        raise _refuse(name, "database SQLite che non è un GeoPackage",
                      "an SQLite database that is not a GeoPackage", "not a GeoPackage",
                      UnsupportedFile)


@contextmanager
def _zip(name: str, path: Path) -> Iterator[zipfile.ZipFile]:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise _refuse(name, "archivio zip corrotto o troncato", "corrupt or truncated zip "
                      "archive", f"corrupt zip: {exc}") from None
    with zf:
        yield zf


def _bomb(name: str, what: str) -> UnsafeFile:
    return _refuse(name, f"archivio sospetto ({what}): rifiutato", f"suspicious archive "
                   f"({what}): refused", f"zip bomb: {what}")


def _check_archive(name: str, zf: zipfile.ZipFile, limits: FileLimits) -> list[zipfile.ZipInfo]:
    """Zip-slip, symlinks, encryption, nesting, overlapping members, sizes and ratios."""
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise _bomb(name, f"{len(infos)} elementi, massimo {limits.max_members} / members, "
                          f"at most {limits.max_members}")
    total = packed = 0
    for info in infos:
        member = info.filename.replace("\\", "/")
        parts = PurePosixPath(member).parts
        if member.startswith("/") or _UNSAFE_NAME.search(member) or ".." in parts:
            raise _refuse(name, f"percorso non sicuro nell'archivio: {member!r}",
                          f"unsafe path in the archive: {member!r}", f"zip-slip: {member!r}")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise _refuse(name, f"collegamento simbolico nell'archivio: {member!r}",
                          f"symbolic link in the archive: {member!r}", f"symlink: {member!r}")
        if info.flag_bits & 0x1:
            raise _refuse(name, f"elemento cifrato: {member!r}", f"encrypted member: {member!r}",
                          "encrypted member")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED,
                                      zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
            raise _refuse(name, "metodo di compressione non supportato", "unsupported "
                          "compression method", f"compression {info.compress_type}",
                          UnsupportedFile)
        if info.is_dir():
            continue
        if member.lower().endswith(_ARCHIVES) and not member.startswith("__MACOSX/"):
            raise _refuse(name, f"archivio dentro l'archivio: {member!r}",
                          f"archive inside the archive: {member!r}", "nested archive")
        total += info.file_size
        packed += info.compress_size
        if info.file_size > RATIO_FLOOR and info.file_size > limits.max_ratio * max(
                info.compress_size, 1):
            raise _bomb(name, f"{member!r} si espande {info.file_size // max(info.compress_size, 1)}"
                              f" volte / inflates {info.file_size // max(info.compress_size, 1)}"
                              " times")
        if total > limits.max_unpacked_bytes:
            raise FileTooLarge(
                f"{name}: decompresso supera {limits.max_unpacked_bytes // MIB} MiB / unpacks "
                f"to more than {limits.max_unpacked_bytes // MIB} MiB",
                reason=f"unpacks to more than {limits.max_unpacked_bytes} bytes",
                body={"limit": limits.max_unpacked_bytes})
    if total > RATIO_FLOOR and total > limits.max_ratio * max(packed, 1):
        raise _bomb(name, f"rapporto di compressione {total // max(packed, 1)} / compression "
                          f"ratio {total // max(packed, 1)}")
    ordered = sorted(infos, key=lambda i: i.header_offset)
    for a, b in itertools.pairwise(ordered):
        if a.header_offset + a.compress_size + 30 > b.header_offset:
            raise _bomb(name, "elementi sovrapposti / overlapping members")
    return infos


def _verify_members(name: str, zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> None:
    """Inflate every member (discarding it): a damaged stream or CRC is refused now, rather
    than GDAL reading part of a sheet without a word."""
    for info in infos:
        if not info.is_dir():
            _copy(name, zf, info, None)


def _copy(name: str, zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path | None) -> None:
    """Inflate one member into `target` (or nowhere), never past its declared size."""
    written = 0
    try:
        with zf.open(info) as src:
            out = target.open("wb") if target is not None else None
            try:
                while chunk := src.read(CHUNK):
                    written += len(chunk)
                    if written > info.file_size:  # zipfile stops there; never trust it alone
                        raise _bomb(name, "dimensione dichiarata falsa / false declared size")
                    if out is not None:
                        out.write(chunk)
            finally:
                if out is not None:
                    out.close()
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError,
            RuntimeError, zlib.error, lzma.LZMAError) as exc:
        if isinstance(exc, OSError) and exc.errno is not None:
            raise  # the disk (full, unwritable), not the file
        raise _refuse(name, f"elemento corrotto: {info.filename!r}", f"corrupt member: "
                      f"{info.filename!r}", f"corrupt member: {exc}") from None


def _ignored(member: str) -> bool:
    base = PurePosixPath(member).name
    return member.startswith("__MACOSX/") or base.startswith("._") or base in (
        ".DS_Store", "Thumbs.db")


def _extract_shapefile(source: SafeSource, limits: FileLimits) -> None:
    name = source.file_name
    with _zip(name, source.path) as zf:
        infos = [i for i in _check_archive(name, zf, limits)
                 if not i.is_dir() and not _ignored(i.filename)]
        shps = [i for i in infos if i.filename.lower().endswith(".shp")]
        if len(shps) != 1:
            found = ", ".join(i.filename for i in shps[:5])
            raise _refuse(name, f"lo zip deve contenere uno e un solo Shapefile (trovati "
                          f"{len(shps)}{': ' + found if found else ''})", f"the zip must "
                          f"hold exactly one Shapefile (found {len(shps)})",
                          f"{len(shps)} .shp files in the zip")
        stem = shps[0].filename[:-4]
        parts = {i.filename[len(stem):].lower(): i for i in infos
                 if i.filename.lower().startswith(stem.lower() + ".")
                 and i.filename[len(stem):].lower() in _SHAPE_PARTS}
        missing = [ext for ext in (".shx", ".dbf") if ext not in parts]
        if missing:
            raise _refuse(name, f"Shapefile incompleto: manca {', '.join(missing)}",
                          f"incomplete Shapefile: {', '.join(missing)} missing",
                          f"missing {', '.join(missing)}")
        workdir = Path(tempfile.mkdtemp(prefix="rigenera-import-"))
        source.workdir = workdir
        base = re.sub(r"[^\w-]+", "_", PurePosixPath(stem).name)[:64].strip("_") or "layer"
        for ext, info in parts.items():
            _copy(name, zf, info, workdir / (base + ext))
    source.path = workdir / (base + ".shp")
    for ext in (".shp", ".shx"):
        _check_shape_header(name, workdir / (base + ext), ext)
    _check_dbf(name, workdir / (base + ".dbf"))
    if ".cpg" in parts:
        source.encoding = (workdir / (base + ".cpg")).read_bytes()[:64].decode(
            "ascii", "replace").strip() or None
    if ".prj" not in parts:
        source.notes.append({"code": "no_prj", "message": "Shapefile senza .prj: sistema di "
                             "riferimento da indicare / Shapefile without .prj: give the CRS"})


def _check_shape_header(name: str, path: Path, ext: str) -> None:
    with path.open("rb") as f:
        head = f.read(100)
    size = path.stat().st_size
    if len(head) < 100 or int.from_bytes(head[0:4], "big") != _SHAPE_CODE:
        raise _refuse(name, f"file {ext} non valido", f"invalid {ext} file", f"bad {ext} header")
    declared = int.from_bytes(head[24:28], "big") * 2  # 16-bit words
    if size < declared:
        raise _refuse(name, f"file {ext} troncato ({size} byte di {declared})",
                      f"truncated {ext} file ({size} of {declared} bytes)", f"truncated {ext}")


def _check_dbf(name: str, path: Path) -> None:
    with path.open("rb") as f:
        head = f.read(32)
    size = path.stat().st_size
    if len(head) < 32:
        raise _refuse(name, "file .dbf non valido", "invalid .dbf file", "bad .dbf header")
    records = int.from_bytes(head[4:8], "little")
    expected = int.from_bytes(head[8:10], "little") + records * int.from_bytes(head[10:12],
                                                                                "little")
    if size < expected:
        raise _refuse(name, f"file .dbf troncato ({size} byte di {expected})",
                      f"truncated .dbf file ({size} of {expected} bytes)", "truncated .dbf")


def _layers(source: SafeSource) -> list[tuple[str, str | None]]:
    import pyogrio

    with gdal_errors(source):
        return [(str(n), None if g is None else str(g))
                for n, g in pyogrio.list_layers(source.gdal_path)]


def read_error(exc: BaseException, source: SafeSource) -> UnsafeFile | None:
    """A pyogrio/GDAL failure on a checked file as the 422 it is (None: not GDAL's).

    GDAL's message is kept (it says what is wrong: "file is not a database", "unexpected
    end of data") with our temporary paths replaced by the user's file name.
    """
    import pyogrio.errors as pe

    kinds = (pe.DataSourceError, pe.DataLayerError, pe.FeatureError, pe.GeometryError,
             pe.FieldError, pe.CRSError)
    if not isinstance(exc, kinds):
        return None
    message = (str(exc).splitlines() or [type(exc).__name__])[0]
    for raw in {str(source.path), source.gdal_path, str(source.workdir or "\0")}:
        message = message.replace(raw, source.file_name)
    message = re.sub(r"/(?:tmp|var|work)/\S+", source.file_name, message)[:300]
    if isinstance(exc, pe.CRSError):
        return UnsafeFile(f"{source.file_name}: sistema di riferimento illeggibile / unreadable "
                          f"CRS: {message}", reason=message, errors=[
                              {"field": "crs", "reason": message}])
    return _refuse(source.file_name, f"file illeggibile, corrotto o troncato ({message})",
                   f"unreadable, corrupt or truncated file ({message})", message)


@contextmanager
def gdal_errors(source: SafeSource) -> Iterator[None]:
    """Wrap pyogrio calls on `source`: GDAL's failures leave as UnsafeFile (422), never a 500."""
    try:
        yield
    except Exception as exc:
        translated = read_error(exc, source)
        if translated is None:
            raise
        raise translated from None
