"""The Rigenera API client: every HTTP request of the plugin goes through here.

Requests go through QGIS's own network stack (``QgsBlockingNetworkRequest``,
hence ``QgsNetworkAccessManager``), so proxies, SSL settings and the
``authcfg`` from ``QgsAuthManager`` apply exactly as for QGIS's own layers;
the password never passes through plugin code. Server refusals arrive as OGC
exception documents (``code``, ``description``, per-field ``errors`` and, for
changesets, ``problems``) and are raised as :class:`ApiError` with that text.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple
from urllib.parse import quote, urlencode

from qgis.core import QgsApplication, QgsBlockingNetworkRequest, QgsNetworkAccessManager
from qgis.PyQt.QtCore import QByteArray, QEventLoop, QTimer, QUrl
from qgis.PyQt.QtNetwork import QHttpMultiPart, QNetworkReply, QNetworkRequest

USER_AGENT = b"rigenera-qgis"


class ApiError(Exception):
    """A refusal or failure with the server's own explanation."""

    def __init__(self, status: int, code: str, description: str,
                 problems: Optional[List[Dict[str, Any]]] = None,
                 errors: Optional[List[Dict[str, Any]]] = None,
                 body: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(f"{status} {code}: {description}")
        self.status = status
        self.code = code
        self.description = description
        self.problems = problems or []
        self.errors = errors or []
        self.body = body or {}

    def message(self) -> str:
        """One line for the user: the server's description and the fields it names."""
        fields = "; ".join(f"{e.get('field')}: {e.get('reason')}" for e in self.errors
                           if isinstance(e, dict))
        return f"{self.description} ({fields})" if fields and fields not in self.description \
            else self.description


class ConnectionFailed(ApiError):
    """No answer: server down, wrong address, timeout (status 0)."""


class AuthFailed(ApiError):
    """401: wrong user name or password, or a disabled account."""


class AuthUnavailable(ApiError):
    """The saved credentials (``authcfg``) cannot be opened here, so nothing was sent:
    a locked authentication database (headless, no master password), a wrong master
    password, a configuration missing from the profile (status 0)."""


def _join(base: str, path: str) -> str:
    if path.startswith(("http://", "https://")):
        return path
    return base.rstrip("/") + "/" + path.lstrip("/")


class RigeneraClient:
    """Blocking calls to one Rigenera server with one QGIS authentication configuration."""

    def __init__(self, base_url: str, authcfg: str = "", timeout_ms: int = 60000) -> None:
        self.base_url = base_url.rstrip("/")
        self.authcfg = authcfg or ""
        self.timeout_ms = timeout_ms

    # ------------------------------------------------------------------ transport
    def request(self, method: str, path: str, body: Any = None,
                params: Optional[Dict[str, Any]] = None,
                headers: Optional[Dict[str, str]] = None) -> Tuple[int, Dict[str, str], bytes]:
        """One request; returns (status, headers, body). Raises ConnectionFailed when unanswered."""
        url = _join(self.base_url, path)
        if params:
            url += ("&" if "?" in url else "?") + urlencode(
                {k: v for k, v in params.items() if v is not None}, doseq=True)
        req = QNetworkRequest(QUrl(url))
        req.setRawHeader(b"User-Agent", USER_AGENT)
        # We show 401s ourselves: without this the server's Basic challenge makes Qt open
        # QGIS's login prompt first (errors.rigenera_error_response).
        req.setRawHeader(b"X-Requested-With", USER_AGENT)
        req.setRawHeader(b"Accept", b"application/geo+json, application/json")
        for name, value in (headers or {}).items():
            req.setRawHeader(name.encode(), value.encode())
        if hasattr(req, "setTransferTimeout"):  # Qt >= 5.15; older Qt builds lack it
            req.setTransferTimeout(self.timeout_ms)
        blocking = QgsBlockingNetworkRequest()
        if self.authcfg:
            blocking.setAuthCfg(self.authcfg)
        if method == "GET":
            code = blocking.get(req, True)
        elif method == "POST":
            req.setHeader(QNetworkRequest.ContentTypeHeader,
                          (headers or {}).get("Content-Type", "application/json"))
            data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
            code = blocking.post(req, QByteArray(data), True)
        else:
            raise ValueError(f"unsupported method {method}")
        reply = blocking.reply()
        status = reply.attribute(QNetworkRequest.HttpStatusCodeAttribute)
        content = bytes(reply.content())
        if not status:
            raise self._no_answer(url, blocking.errorMessage()
                                  if code != QgsBlockingNetworkRequest.NoError else "")
        reply_headers = {bytes(k).decode("latin-1").lower():
                         bytes(reply.rawHeader(k)).decode("latin-1")
                         for k in reply.rawHeaderList()}
        return int(status), reply_headers, content

    def _no_answer(self, url: str, detail: str) -> ApiError:
        """The error for a request that got no HTTP status back."""
        problem = ""
        if self.authcfg:
            from .auth import authcfg_problem

            problem = authcfg_problem(self.authcfg)
        if problem:  # QGIS did not send it: say why, not "unreachable"
            return AuthUnavailable(0, "AuthUnavailable",
                                   "Impossibile aprire le credenziali salvate / cannot open "
                                   f"the saved credentials (authcfg {self.authcfg}): {problem}")
        return ConnectionFailed(0, "ConnectionFailed",
                                f"Server non raggiungibile / server unreachable ({url}): {detail}"
                                if detail else f"Nessuna risposta da / no answer from {url}")

    def post_multipart(self, path: str, multipart: QHttpMultiPart,
                       headers: Optional[Dict[str, str]] = None,
                       progress: Optional[Callable[[int, int], None]] = None,
                       timeout_ms: Optional[int] = None) -> Tuple[int, Dict[str, str], bytes]:
        """POST a multipart/form-data body (a file upload); returns (status, headers, body).

        ``QgsBlockingNetworkRequest`` takes only a byte array, so this posts through
        ``QgsNetworkAccessManager`` itself, with the authcfg applied by QGIS's
        authentication manager, and waits in a local event loop (QGIS stays drawn).
        The multipart streams its file parts from disk; it must outlive the reply, so
        it is parented to it here and the caller's reference keeps it until then.
        ``progress(sent, total)`` follows the upload. Raises ConnectionFailed when
        unanswered (or after ``timeout_ms`` without any transfer).
        """
        url = _join(self.base_url, path)
        req = QNetworkRequest(QUrl(url))
        req.setRawHeader(b"User-Agent", USER_AGENT)
        req.setRawHeader(b"X-Requested-With", USER_AGENT)
        req.setRawHeader(b"Accept", b"application/json")
        for name, value in (headers or {}).items():
            req.setRawHeader(name.encode(), value.encode())
        if self.authcfg:
            from .auth import authcfg_problem

            if authcfg_problem(self.authcfg):
                raise self._no_answer(url, "")
            if not QgsApplication.authManager().updateNetworkRequest(req, self.authcfg):
                raise AuthUnavailable(0, "AuthUnavailable",
                                      "QGIS non ha applicato le credenziali salvate / QGIS could "
                                      f"not apply the saved credentials (authcfg {self.authcfg})")
        timeout = timeout_ms if timeout_ms is not None else self.timeout_ms
        if hasattr(req, "setTransferTimeout"):  # no byte moving for that long: give up
            req.setTransferTimeout(timeout)
        reply = QgsNetworkAccessManager.instance().post(req, multipart)
        multipart.setParent(reply)  # freed with the reply, never before it
        if self.authcfg:
            QgsApplication.authManager().updateNetworkReply(reply, self.authcfg)
        loop = QEventLoop()
        reply.finished.connect(loop.quit)
        if progress is not None:
            reply.uploadProgress.connect(lambda sent, total: progress(int(sent), int(total)))
        if not hasattr(req, "setTransferTimeout"):
            QTimer.singleShot(timeout, reply.abort)
        if not reply.isFinished():
            loop.exec_()
        status = reply.attribute(QNetworkRequest.HttpStatusCodeAttribute)
        content = bytes(reply.readAll())
        reply_headers = {bytes(k).decode("latin-1").lower():
                         bytes(reply.rawHeader(k)).decode("latin-1")
                         for k in reply.rawHeaderList()}
        error = reply.errorString() if reply.error() != QNetworkReply.NoError else ""
        reply.deleteLater()
        if not status:
            raise self._no_answer(url, error)
        return int(status), reply_headers, content

    def _call(self, method: str, path: str, body: Any = None,
              params: Optional[Dict[str, Any]] = None, allow_404: bool = False) -> Any:
        status, _, content = self.request(method, path, body, params)
        if status == 404 and allow_404:
            return None
        if status >= 400:
            raise self._error(status, content)
        if not content:
            return None
        try:
            return json.loads(content.decode("utf-8"))
        except ValueError as exc:
            raise ApiError(status, "BadResponse", f"Risposta non JSON dal server: {exc}") from exc

    @staticmethod
    def error_from(status: int, content: bytes) -> ApiError:
        """The ApiError of a refusal (status >= 400) from its exception document."""
        return RigeneraClient._error(status, content)

    @staticmethod
    def _error(status: int, content: bytes) -> ApiError:
        try:
            doc = json.loads(content.decode("utf-8"))
        except ValueError:
            doc = {}
        if not isinstance(doc, dict):
            doc = {}
        description = str(doc.get("description") or doc.get("detail") or
                          content[:200].decode("utf-8", "replace") or f"HTTP {status}")
        cls = AuthFailed if status == 401 else ApiError
        if status == 401 and not doc.get("description"):
            description = "Nome utente o password errati / wrong user name or password"
        return cls(status, str(doc.get("code") or f"HTTP{status}"), description,
                   problems=doc.get("problems") if isinstance(doc.get("problems"), list) else None,
                   errors=doc.get("errors") if isinstance(doc.get("errors"), list) else None,
                   body=doc)

    def get_json(self, path: str, params: Optional[Dict[str, Any]] = None) -> Any:
        return self._call("GET", path, params=params)

    def post_json(self, path: str, body: Any) -> Any:
        return self._call("POST", path, body=body)

    # ------------------------------------------------------------------ API
    def me(self) -> Dict[str, Any]:
        """Who the credentials belong to: username, role, comuni (the connection test)."""
        return self.get_json("/api/me")  # type: ignore[no-any-return]

    def model(self, collection: str) -> Dict[str, Any]:
        """Fields, labels, enumerations and constraints of a collection."""
        return self.get_json(f"/api/collections/{quote(collection)}/model")  # type: ignore[no-any-return]

    def items(self, collection: str, bbox: Optional[Tuple[float, float, float, float]] = None,
              cql: Optional[str] = None, page_size: int = 1000) -> Iterator[Dict[str, Any]]:
        """Every feature matching, following the server's ``next`` links (cursor paging)."""
        params: Dict[str, Any] = {"limit": page_size}
        if bbox is not None:
            params["bbox"] = ",".join(repr(float(v)) for v in bbox)
        if cql:
            params["filter"] = cql
            params["filter-lang"] = "cql2-text"
        path: Optional[str] = f"/ogc/collections/{quote(collection)}/items"
        while path:
            page = self._call("GET", path, params=params)
            yield from page.get("features", [])
            path = next((link["href"] for link in page.get("links", [])
                         if link.get("rel") == "next" and link.get("href")), None)
            params = {}  # the next link carries them
            if not page.get("features"):
                break

    def item(self, collection: str, fid: str) -> Optional[Dict[str, Any]]:
        """One feature, or None when it does not exist (any more)."""
        return self._call(  # type: ignore[no-any-return]
            "GET", f"/ogc/collections/{quote(collection)}/items/{quote(str(fid))}", allow_404=True)

    def changeset(self, operations: List[Dict[str, Any]],
                  comment: Optional[str] = None) -> Dict[str, Any]:
        """All operations applied atomically, or an ApiError listing every problem."""
        body: Dict[str, Any] = {"operations": operations}
        if comment:
            body["comment"] = comment
        return self.post_json("/api/changesets", body)  # type: ignore[no-any-return]

    def history(self, collection: str, fid: str) -> Dict[str, Any]:
        return self.get_json(  # type: ignore[no-any-return]
            f"/api/collections/{quote(collection)}/items/{quote(str(fid))}/history")

    def revert(self, collection: str, fid: str, version: int,
               base_version: Optional[int] = None) -> Dict[str, Any]:
        body: Dict[str, Any] = {"version": version}
        if base_version is not None:
            body["base_version"] = base_version
        return self.post_json(  # type: ignore[no-any-return]
            f"/api/collections/{quote(collection)}/items/{quote(str(fid))}/revert", body)

    def review_queue(self, collection: str = "sites", istat_code: Optional[str] = None,
                     limit: int = 500) -> Dict[str, Any]:
        """The oldest ``limit`` features waiting for review (the server's default, 50, hid
        most of Milano's 192 census sites; 500 is its maximum)."""
        return self.get_json("/api/review/queue",  # type: ignore[no-any-return]
                             {"collection": collection, "istat_code": istat_code,
                              "limit": limit})

    def review(self, collection: str, fid: str, decision: str, comment: str,
               base_version: Optional[int]) -> Dict[str, Any]:
        body: Dict[str, Any] = {"decision": decision, "comment": comment}
        if base_version is not None:
            body["base_version"] = base_version
        return self.post_json(  # type: ignore[no-any-return]
            f"/api/review/{quote(collection)}/{quote(str(fid))}", body)

    def rejections(self) -> Dict[str, Any]:
        return self.get_json("/api/review/rejections")  # type: ignore[no-any-return]

    def changes(self, collection: str, after: Optional[str] = None,
                limit: Optional[int] = None) -> Dict[str, Any]:
        """What others changed since the feed cursor ``after`` (deletions included).

        Cursors are opaque strings (``last``/``latest`` of an earlier answer); none means
        from the beginning. Working copies made before cursors were strings hold an integer,
        which the server still understands."""
        return self.get_json("/api/changes",  # type: ignore[no-any-return]
                             {"collection": collection, "after": after, "limit": limit})

    def execute(self, process_id: str, inputs: Dict[str, Any]) -> Dict[str, Any]:
        """OGC API Processes, synchronous execution: the process's JSON result."""
        return self.post_json(  # type: ignore[no-any-return]
            f"/ogc/processes/{quote(process_id)}/execution", {"inputs": inputs})
