"""multipart/form-data uploads streamed to disk: the file part never held in memory.

`receive_upload(request, ...)` reads the request body chunk by chunk (its size is
already bounded while received by BodyLimitMiddleware, limits.py), feeds
python-multipart's streaming parser, and writes file parts into a private temporary
folder (0700) through a worker thread; small text fields are kept (bounded). The
caller authenticates first, so an anonymous body is never read. Every problem is a
400/413/415 naming the part.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any
from urllib.parse import unquote_to_bytes

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request

from rigenera.errors import FileTooLarge, InvalidParameter, UnsupportedMediaType
from rigenera.inputs import check_text

MIB = 1024 * 1024
FLUSH = MIB  # file bytes gathered before a write in the thread pool
MAX_FIELD = 1024  # a text field (collection, layer, crs, flags)
MAX_NAME = 255
_EXTENDED_NAME = re.compile(rb"filename\*\s*=\s*([A-Za-z0-9_-]*)'[^']*'([^;\s]+)")


@dataclass
class UploadedFile:
    """A file part spooled to `path`; `name` is the client's file name (no folders)."""

    name: str
    path: Path
    size: int = 0
    content_type: str | None = None


@dataclass
class Upload:
    """The parts of one multipart request: text fields and spooled files, by part name."""

    workdir: Path
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)

    def close(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)


def _bad(part: str, it: str, en: str, reason: str) -> InvalidParameter:
    return InvalidParameter(f"{part}: {it} / {en}", errors=[{"field": part, "reason": reason}])


def _file_name(raw: bytes | None) -> str:
    """The client's file name, without folders (Windows browsers send C:\\...)."""
    text = (raw or b"").decode("utf-8", "replace")
    return PurePosixPath(text.replace("\\", "/")).name[:MAX_NAME]


def _extended_name(match: re.Match[bytes]) -> bytes:
    """An RFC 5987 file name (charset'language'percent-encoded) as UTF-8 bytes."""
    raw = unquote_to_bytes(match.group(2).decode("ascii", "replace"))
    try:
        return raw.decode(match.group(1).decode("ascii") or "utf-8", "replace").encode()
    except LookupError:  # a charset Python does not know: read it as UTF-8
        return raw.decode("utf-8", "replace").encode()


def _spool_path(workdir: Path, index: int, name: str) -> Path:
    """Where a part is spooled: a folder per part, the user's name made safe (GDAL looks at
    the extension, a layer or mapping is named after the file)."""
    safe = re.sub(r"[^\w.\- ]+", "_", name).strip(". ")[:120] or "file"
    folder = workdir / f"part{index}"
    folder.mkdir(mode=0o700)
    return folder / safe


class _Receiver:
    """python-multipart callbacks gathering one request's parts (see the module)."""

    def __init__(self, upload: Upload, file_parts: dict[str, int], field_parts: set[str]) -> None:
        self.upload = upload
        self.file_parts = file_parts  # part name -> its size limit
        self.field_parts = field_parts
        self.header_field = b""
        self.header_value = b""
        self.headers: dict[bytes, bytes] = {}
        self.current: str | None = None
        self.current_file: UploadedFile | None = None
        self.text = bytearray()
        self.pending: list[bytes] = []
        self.pending_size = 0
        self.out: IO[bytes] | None = None
        self.closed: list[tuple[IO[bytes], list[bytes]]] = []
        self.parts = 0

    def callbacks(self) -> Any:
        return {
            "on_part_begin": self.part_begin, "on_header_field": self.header_field_data,
            "on_header_value": self.header_value_data, "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished, "on_part_data": self.data,
            "on_part_end": self.part_end}

    def part_begin(self) -> None:
        self.headers, self.header_field, self.header_value = {}, b"", b""
        self.current, self.current_file = None, None
        self.text = bytearray()
        self.parts += 1
        if self.parts > 20:
            raise _bad("body", "troppe parti", "too many parts", "more than 20 parts")

    def header_field_data(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def header_value_data(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def header_end(self) -> None:
        self.headers[self.header_field.strip().lower()] = self.header_value.strip()
        self.header_field, self.header_value = b"", b""

    def headers_finished(self) -> None:
        disposition = self.headers.get(b"content-disposition", b"")
        kind, options = parse_options_header(disposition)
        extended = _EXTENDED_NAME.search(disposition)  # RFC 5987 filename*=UTF-8''...
        if extended and b"filename" not in options:
            options[b"filename"] = _extended_name(extended)
        raw_name = options.get(b"name")
        if kind != b"form-data" or raw_name is None:
            raise _bad("body", "parte senza nome", "a part without a name",
                       "Content-Disposition: form-data; name=... required")
        name = raw_name.decode("utf-8", "replace")
        if name in self.upload.files or name in self.upload.fields:
            raise _bad(name, "parte ripetuta", "repeated part", "given more than once")
        if name not in self.file_parts and name not in self.field_parts:
            raise _bad(name, "parte sconosciuta", "unknown part",
                       "unknown part; expected " + ", ".join(sorted({*self.file_parts,
                                                                       *self.field_parts})))
        self.current = name
        if b"filename" in options and name in self.file_parts:
            index = len(self.upload.files)
            shown = _file_name(options[b"filename"])
            up = UploadedFile(shown, _spool_path(self.upload.workdir, index, shown),
                              content_type=self.headers.get(b"content-type", b"").decode(
                                  "latin-1") or None)
            self.upload.files[name] = up
            self.current_file = up
            self.out = up.path.open("wb")  # an empty file: no data written yet
        elif name not in self.field_parts:
            raise _bad(name, "atteso un file", "a file was expected",
                       "must be a file part (filename=...)")

    def data(self, data: bytes, start: int, end: int) -> None:
        piece = data[start:end]
        if self.current_file is not None:
            assert self.current is not None
            self.current_file.size += len(piece)
            limit = self.file_parts[self.current]
            if self.current_file.size > limit:
                raise FileTooLarge(
                    f"{self.current_file.name or self.current}: file oltre il limite di "
                    f"{limit // MIB} MiB / file over the {limit // MIB} MiB limit",
                    reason=f"larger than {limit} bytes", body={"limit": limit},
                    errors=[{"field": self.current, "reason": f"larger than {limit} bytes"}])
            self.pending.append(piece)
            self.pending_size += len(piece)
        else:
            self.text += piece
            if len(self.text) > MAX_FIELD:
                raise _bad(self.current or "body", f"più di {MAX_FIELD} byte",
                           f"longer than {MAX_FIELD} bytes", f"longer than {MAX_FIELD} bytes")

    def part_end(self) -> None:
        if self.current_file is not None:
            assert self.out is not None
            self.closed.append((self.out, self.take()))
            self.out = None
        elif self.current is not None:
            try:
                value = bytes(self.text).decode("utf-8")
            except UnicodeDecodeError:
                raise _bad(self.current, "testo non UTF-8", "text that is not UTF-8",
                           "not UTF-8") from None
            self.upload.fields[self.current] = check_text(self.current, value.strip())

    def take(self) -> list[bytes]:
        chunks, self.pending, self.pending_size = self.pending, [], 0
        return chunks

    async def flush(self) -> None:
        """Write what the parser gathered, in the thread pool (never on the event loop)."""
        jobs = self.closed
        self.closed = []
        if self.out is not None and self.pending_size >= FLUSH:
            jobs.append((self.out, self.take()))
            out = self.out
            keep_open = {id(out)}
        else:
            keep_open = set()
        if jobs:
            await run_in_threadpool(_write, jobs, keep_open)

    def close_files(self) -> None:
        for out, _ in self.closed:
            out.close()
        if self.out is not None:
            self.out.close()


def _write(jobs: list[tuple[IO[bytes], list[bytes]]], keep_open: set[int]) -> None:
    for out, chunks in jobs:
        for chunk in chunks:
            out.write(chunk)
        if id(out) not in keep_open:
            out.close()


def _boundary(content_type: str | None) -> bytes:
    kind, options = parse_options_header(content_type or "")
    if kind != b"multipart/form-data":
        raise UnsupportedMediaType(
            "Content-Type: usare multipart/form-data / use multipart/form-data",
            errors=[{"field": "Content-Type", "reason": "multipart/form-data required"}])
    boundary = options.get(b"boundary")
    if not boundary or len(boundary) > 200:
        raise _bad("Content-Type", "boundary mancante", "missing boundary",
                   "multipart boundary missing")
    return boundary


async def receive_upload(request: Request, *, file_parts: dict[str, int],
                         field_parts: set[str]) -> Upload:
    """The request's parts: files spooled (each within its limit), fields as text.

    On any problem the spooled files are removed and the error raised; on success the
    caller owns `Upload.workdir` (close() removes it).
    """
    boundary = _boundary(request.headers.get("content-type"))
    upload = Upload(Path(tempfile.mkdtemp(prefix="rigenera-upload-")))
    receiver = _Receiver(upload, file_parts, field_parts)
    parser = MultipartParser(boundary, receiver.callbacks())
    try:
        try:
            async for chunk in request.stream():
                if chunk:
                    parser.write(chunk)
                    await receiver.flush()
            parser.finalize()
        except MultipartParseError as exc:
            raise _bad("body", "multipart non valido", "malformed multipart body",
                       str(exc)[:200]) from None
        except ClientDisconnect:
            raise _bad("body", "caricamento interrotto", "upload interrupted",
                       "client disconnected") from None
        await receiver.flush()
        if receiver.current is not None and receiver.out is not None:
            raise _bad("body", "multipart incompleto", "incomplete multipart body",
                       "the last part does not end")
    except BaseException:
        receiver.close_files()
        upload.close()
        raise
    receiver.close_files()
    return upload
