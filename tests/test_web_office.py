"""The office room of the reserved area: home, publication, referents and the contact log.

Over real HTTP against the app on its own demo database (one account per role): every
referent route for every role, the publication workflow (a volunteer proposes, a coordinator
publishes, pub.projects.published and the OGC item follow), optimistic concurrency (a stale
form is a 409 and nothing is overwritten), refused input leaving the database unchanged,
and no public door (page, JSON twin, OGC, /api) showing a referent.
"""

from __future__ import annotations

import datetime as dt
import re
import struct
import zlib
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import httpx
import pytest

from conftest import PASSWORD, LiveServer, query

HTML = {"Accept": "text/html"}
OFFICE = ("volontario", "coord", "admin")
DEMO_NAME = "Ada Esempio"  # a demo referent with a follow-up due on the load day


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page carries a CSRF token"
    return match.group(1)


def _version(html: str) -> str:
    match = re.search(r'name="version" value="(\d+)"', html)
    assert match, "the form carries its version"
    return match.group(1)


def _today() -> dt.date:
    return dt.datetime.now(ZoneInfo("Europe/Rome")).date()


class Web:
    """A browser-like client: logged in as `user` (None: anonymous), cookies kept."""

    def __init__(self, base_url: str, user: str | None) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=60)
        self.token = ""
        if user is not None:
            form = self.client.get("/area-riservata/accedi", headers=HTML)
            r = self.client.post("/area-riservata/accedi", headers=HTML, data={
                "csrf_token": _csrf(form.text), "username": user, "password": PASSWORD,
                "next": "/area-riservata"})
            assert r.status_code == 303, r.text
            self.token = _csrf(self.client.get("/area-riservata", headers=HTML).text)

    def get(self, path: str, **kw: object) -> httpx.Response:
        return self.client.get(path, headers=HTML, **kw)  # type: ignore[arg-type]

    def post(self, path: str, data: dict[str, object]) -> httpx.Response:
        return self.client.post(path, headers=HTML,
                                data={"csrf_token": self.token or "x", **data})

    def close(self) -> None:
        self.client.close()


@pytest.fixture(scope="module")
def webs(live: LiveServer) -> Iterator[dict[str | None, Web]]:
    out: dict[str | None, Web] = {u: Web(live.url, u) for u in (*OFFICE, "tecnico")}
    out[None] = Web(live.url, None)
    yield out
    for w in out.values():
        w.close()


def _referent_id(db: str, name: str = DEMO_NAME) -> int:
    return int(query(db, "SELECT id FROM rigenera.referents WHERE full_name = %s", (name,))[0][0])


def _project_id(db: str, source_id: str) -> int:
    return int(query(db, "SELECT id FROM rigenera.projects WHERE source_id = %s",
                     (source_id,))[0][0])


def _office_tables(db: str) -> object:
    """A fingerprint of the office's tables (referents, contacts, publication)."""
    return query(db, "SELECT (SELECT md5(coalesce(string_agg(r::text, '|' ORDER BY r.id), ''))"
                     "          FROM rigenera.referents r),"
                     "       (SELECT md5(coalesce(string_agg(k::text, '|' ORDER BY k.id), ''))"
                     "          FROM rigenera.contacts k),"
                     "       (SELECT md5(coalesce(string_agg(p::text, '|' ORDER BY p.project_id),"
                     "               '')) FROM rigenera.project_publication p)")[0]


# ----------------------------------------------------------------------------- demo rows
def test_demo_referents_are_invented_and_one_follow_up_is_due_today(db: str) -> None:
    rows = query(db, "SELECT full_name, email, phone FROM rigenera.referents"
                     " WHERE source = 'Demo Rigenera (dati inventati)'")
    assert len(rows) >= 4
    assert all(e is None or e.endswith("@example.org") for _, e, _ in rows)
    assert all(p is None or p.startswith("+39 02 0000 ") for _, _, p in rows)
    due = query(db, "SELECT r.full_name FROM rigenera.contacts k JOIN rigenera.referents r"
                    " ON r.id = k.referent_id WHERE k.follow_up_on = %s AND NOT k.follow_up_done",
                    (_today(),))
    assert (DEMO_NAME,) in due
    assert query(db, "SELECT p.state FROM rigenera.project_publication p JOIN"
                     " rigenera.projects x ON x.id = p.project_id"
                     " WHERE x.source_id = 'demo-p03'") == []  # the demo's draft: no row


# --------------------------------------------------------------------- the role matrix
def _referent_gets(db: str) -> list[str]:
    rid = _referent_id(db)
    return ["/area-riservata/referenti", "/area-riservata/referenti?comune=015146&theme=housing",
            "/area-riservata/referenti?q=esempio&organisation=Milano",
            "/area-riservata/referenti/nuovo", f"/area-riservata/referenti/{rid}"]


def test_every_referent_page_for_every_role(webs: dict[str | None, Web], db: str) -> None:
    for path in _referent_gets(db):
        r = webs[None].get(path)
        assert r.status_code == 303, path
        assert r.headers["location"].startswith("/area-riservata/accedi?next="), path
        r = webs["tecnico"].get(path)
        assert r.status_code == 403, path
        assert DEMO_NAME not in r.text and "@example.org" not in r.text, path
        for user in OFFICE:
            r = webs[user].get(path)
            assert r.status_code == 200, (user, path)
            assert r.headers["cache-control"] == "private, no-store"
    # Asked as JSON (no twin: the reserved pages have none), still nothing for outsiders.
    for path in _referent_gets(db):
        path += ("&" if "?" in path else "?") + "f=json"
        for user, status in ((None, 401), ("tecnico", 403)):
            r = webs[user].client.get(path, headers={"Accept": "application/json"})
            assert r.status_code == status and DEMO_NAME not in r.text, (user, path)
    page = webs["volontario"].get(f"/area-riservata/referenti/{_referent_id(db)}").text
    assert 'href="tel:+390200000001"' in page and 'href="mailto:ada.esempio@example.org"' in page


def test_referent_export_is_for_coordinators_and_admins(webs: dict[str | None, Web],
                                                        db: str) -> None:
    path = "/area-riservata/referenti/export.csv"
    assert webs[None].get(path).status_code == 401
    assert webs["tecnico"].get(path).status_code == 403
    r = webs["volontario"].get(path)
    assert r.status_code == 403 and "@example.org" not in r.text
    for user in ("coord", "admin"):
        r = webs[user].get(path, params={"comune": "015146"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        lines = r.text.lstrip("\ufeff").splitlines()
        assert lines[0].startswith("id,full_name,organisation,role,email,phone")
        want = query(db, "SELECT count(*) FROM rigenera.referents WHERE istat_code = '015146'")
        assert len(lines) - 1 == want[0][0] and any(DEMO_NAME in line for line in lines)


def test_referent_writes_refused_to_anonymous_and_technicians(webs: dict[str | None, Web],
                                                              db: str) -> None:
    rid = _referent_id(db)
    version = query(db, "SELECT version FROM rigenera.referents WHERE id = %s", (rid,))[0][0]
    contact = query(db, "SELECT id, version FROM rigenera.contacts WHERE referent_id = %s"
                        " AND follow_up_on IS NOT NULL", (rid,))[0]
    before = _office_tables(db)
    writes: list[tuple[str, dict[str, object]]] = [
        ("/area-riservata/referenti/nuovo", {"full_name": "Intruso", "email": "x@example.org"}),
        (f"/area-riservata/referenti/{rid}", {"full_name": "Cambiato", "email": "x@example.org",
                                              "version": version}),
        (f"/area-riservata/referenti/{rid}/contatti", {"outcome": "reached"}),
        (f"/area-riservata/referenti/{rid}/contatti/{contact[0]}/fatto",
         {"version": contact[1]})]
    for path, data in writes:
        assert webs[None].post(path, data).status_code in (401, 403), path
        assert webs["tecnico"].post(path, data).status_code == 403, path
    assert _office_tables(db) == before
    # Every office role writes: a contact each, logged under their own name.
    for user in OFFICE:
        r = webs[user].post(f"/area-riservata/referenti/{rid}/contatti",
                            {"outcome": "reached", "channel": "email", "notes": f"da {user}"})
        assert r.status_code == 303, user
    assert query(db, "SELECT contacted_by FROM rigenera.contacts WHERE notes LIKE 'da %%'"
                     " ORDER BY id") == [(u,) for u in OFFICE]


def test_publication_pages_for_every_role(webs: dict[str | None, Web], db: str) -> None:
    pid = _project_id(db, "demo-p03")
    for path in ("/area-riservata/pubblicazione", "/area-riservata/pubblicazione?state=draft",
                 f"/area-riservata/pubblicazione/{pid}"):
        r = webs[None].get(path)
        assert r.status_code == 303 and "/area-riservata/accedi" in r.headers["location"]
        assert webs["tecnico"].get(path).status_code == 403, path
        for user in OFFICE:
            assert webs[user].get(path).status_code == 200, (user, path)
    r = webs["tecnico"].post(f"/area-riservata/pubblicazione/{pid}",
                             {"action": "propose", "version": "0"})
    assert r.status_code == 403


def test_the_technician_home_shows_no_referent(webs: dict[str | None, Web]) -> None:
    r = webs["tecnico"].get("/area-riservata")
    assert r.status_code == 200
    assert DEMO_NAME not in r.text and "/area-riservata/referenti" not in r.text
    assert "/area-riservata/pubblicazione" not in r.text


def test_no_public_door_shows_a_referent(live: LiveServer, db: str) -> None:
    """Anonymous: public pages, JSON twins, OGC collections and items, the API's lists."""
    rid = _referent_id(db)
    names = [r[0] for r in query(db, "SELECT full_name FROM rigenera.referents")]
    with httpx.Client(base_url=live.url, timeout=60) as anon:
        collections = anon.get("/ogc/collections", params={"f": "json"}).json()
        ids = [c["id"] for c in collections["collections"]]
        assert not [i for i in ids if "referent" in i or "contact" in i]
        urls = ["/", "/?f=json", "/ogc/collections?f=json", "/api/deadlines/overdue",
                "/api/deadlines/overdue?f=csv", "/api/deadlines/upcoming",
                f"/area-riservata/referenti/{rid}?f=json", "/area-riservata/referenti/export.csv",
                "/api/exports/referents?format=csv", "/ogc/collections/referents/items",
                "/api/referents", f"/api/referents/{rid}", "/api/openapi.json"]
        urls += [f"/ogc/collections/{c}/items?f=json&limit=1000" for c in ids]
        for url in urls:
            r = anon.get(url)
            assert r.status_code < 500, url
            for name in names:
                assert name not in r.text, (url, name)
            assert "@example.org" not in r.text and "0000 0001" not in r.text, url
        spec = anon.get("/api/openapi.json").json()
        assert not [p for p in spec["paths"] if "referent" in p or "contatt" in p]


# ----------------------------------------------------------------------------- the home
def test_home_shows_the_follow_up_due_today_and_the_waiting_work(
        webs: dict[str | None, Web], db: str) -> None:
    for user in OFFICE:
        page = webs[user].get("/area-riservata").text
        due = page.split('id="follow-ups-title"')[1].split("</section>")[0]
        assert DEMO_NAME in due and "Bruno Fittizio" in due  # due today; overdue
        assert "Carla Immaginaria" not in due  # in 30 days
        assert "Scuola di quartiere diffusa" in page  # the demo's draft
    assert 'id="proposals-title"' in webs["coord"].get("/area-riservata").text
    assert 'id="proposals-title"' not in webs["volontario"].get("/area-riservata").text


# ---------------------------------------------------------------------- publication
def _publication(db: str, pid: int) -> tuple[object, ...] | None:
    rows = query(db, "SELECT state, public_text, proposed_by, published_by, version"
                     " FROM rigenera.project_publication WHERE project_id = %s", (pid,))
    return rows[0] if rows else None


def _published(db: str, pid: int) -> bool:
    return bool(query(db, "SELECT published FROM pub.projects WHERE id = %s", (pid,))[0][0])


def test_volunteer_proposes_coordinator_publishes_and_the_public_follows(
        webs: dict[str | None, Web], db: str, live: LiveServer) -> None:
    pid = _project_id(db, "demo-p03")
    path = f"/area-riservata/pubblicazione/{pid}"
    vol, coord = webs["volontario"], webs["coord"]
    assert not _published(db, pid)
    with httpx.Client(base_url=live.url, timeout=60) as anon:
        item = anon.get(f"/ogc/collections/projects/items/{pid}", params={"f": "json"}).json()
        assert item["properties"]["published"] is False

        # A volunteer cannot publish: 403, nothing written.
        before = _office_tables(db)
        r = vol.post(path, {"action": "publish", "version": _version(vol.get(path).text),
                            "public_text": "Subito online"})
        assert r.status_code == 403
        assert _office_tables(db) == before and not _published(db, pid)

        text = "Una scuola aperta al quartiere anche il pomeriggio e il sabato."
        r = vol.post(path, {"action": "propose", "version": _version(vol.get(path).text),
                            "public_text": text})
        assert r.status_code == 303, r.text
        state, stored, proposed_by, published_by, _ = _publication(db, pid)  # type: ignore[misc]
        assert (state, stored, proposed_by, published_by) == ("proposed", text, "volontario",
                                                                None)
        assert not _published(db, pid)
        assert "Scuola di quartiere diffusa" in coord.get("/area-riservata").text.split(
            'id="proposals-title"')[1].split("</section>")[0]

        # A volunteer may not return it to draft either.
        r = vol.post(path, {"action": "draft", "version": _version(vol.get(path).text)})
        assert r.status_code == 403 and _publication(db, pid)[0] == "proposed"  # type: ignore[index]

        r = coord.post(path, {"action": "publish", "version": _version(coord.get(path).text),
                              "public_text": text})
        assert r.status_code == 303
        state, _, proposed_by, published_by, _ = _publication(db, pid)  # type: ignore[misc]
        assert (state, proposed_by, published_by) == ("published", "volontario", "coord")
        assert _published(db, pid)
        item = anon.get(f"/ogc/collections/projects/items/{pid}", params={"f": "json"}).json()
        assert item["properties"]["published"] is True

        # Published: a volunteer's change is refused; the coordinator returns it to draft.
        r = vol.post(path, {"action": "save", "version": _version(vol.get(path).text),
                            "public_text": "cambiato"})
        assert r.status_code == 403 and _publication(db, pid)[1] == text  # type: ignore[index]
        r = coord.post(path, {"action": "draft", "version": _version(coord.get(path).text),
                              "public_text": text})
        assert r.status_code == 303 and not _published(db, pid)
        item = anon.get(f"/ogc/collections/projects/items/{pid}", params={"f": "json"}).json()
        assert item["properties"]["published"] is False


def test_a_stale_publication_form_is_a_409_and_nothing_is_overwritten(
        webs: dict[str | None, Web], db: str) -> None:
    pid = _project_id(db, "demo-p05")
    path = f"/area-riservata/pubblicazione/{pid}"
    admin, coord = webs["admin"], webs["coord"]
    stale = _version(admin.get(path).text)
    r = coord.post(path, {"action": "save", "version": _version(coord.get(path).text),
                          "public_text": "Il testo del coordinatore"})
    assert r.status_code == 303
    before = _publication(db, pid)
    r = admin.post(path, {"action": "draft", "version": stale, "public_text": "Il mio testo"})
    assert r.status_code == 409
    assert "Conflitto" in r.text and "Il mio testo" in r.text
    assert "Il testo del coordinatore" in r.text  # what is stored now is shown
    assert _publication(db, pid) == before


def test_a_draft_without_a_row_at_version_0_is_also_guarded(webs: dict[str | None, Web],
                                                            db: str) -> None:
    """Two people on a project never published: the second first write is a 409."""
    pid = _project_id(db, "demo-p06")
    query(db, "DELETE FROM rigenera.project_publication WHERE project_id = %s"
              " RETURNING project_id", (pid,))
    path = f"/area-riservata/pubblicazione/{pid}"
    assert _version(webs["volontario"].get(path).text) == "0"
    r = webs["admin"].post(path, {"action": "save", "version": "0", "public_text": "primo"})
    assert r.status_code == 303
    r = webs["volontario"].post(path, {"action": "propose", "version": "0",
                                       "public_text": "secondo"})
    assert r.status_code == 409
    assert _publication(db, pid)[:2] == ("draft", "primo")  # type: ignore[index]
    query(db, "UPDATE rigenera.project_publication SET state = 'published',"
              " published_at = now() WHERE project_id = %s RETURNING project_id", (pid,))


def test_public_text_over_2000_characters_is_refused(webs: dict[str | None, Web],
                                                     db: str) -> None:
    pid = _project_id(db, "demo-p04")
    path = f"/area-riservata/pubblicazione/{pid}"
    before = _office_tables(db)
    r = webs["coord"].post(path, {"action": "save", "version": _version(
        webs["coord"].get(path).text), "public_text": "x" * 2001})
    assert r.status_code == 422 and 'id="public_text-error"' in r.text
    assert _office_tables(db) == before


def test_bulk_publish_is_for_coordinators_and_skips_stale_rows(webs: dict[str | None, Web],
                                                               db: str) -> None:
    p1, p2 = _project_id(db, "demo-p01"), _project_id(db, "demo-p02")
    query(db, "UPDATE rigenera.project_publication SET state = 'draft'"
              " WHERE project_id IN (%s, %s) RETURNING project_id", (p1, p2))
    versions = dict(query(db, "SELECT project_id, version FROM rigenera.project_publication"
                              " WHERE project_id IN (%s, %s)", (p1, p2)))
    picks = [f"{p1}:{versions[p1]}", f"{p2}:{int(versions[p2]) - 1}"]  # p2 seen stale
    before = _office_tables(db)
    r = webs["volontario"].post("/area-riservata/pubblicazione/pubblica", {"project": picks})
    assert r.status_code == 403 and _office_tables(db) == before
    r = webs["coord"].post("/area-riservata/pubblicazione/pubblica", {"project": picks})
    assert r.status_code == 303 and "done=1" in r.headers["location"]
    assert "skipped=1" in r.headers["location"]
    assert _published(db, p1) and not _published(db, p2)
    # Every unpublished project of a comune (the filter), at once.
    r = webs["admin"].post("/area-riservata/pubblicazione/pubblica",
                           {"scope": "filtered", "comune": "015209"})
    assert r.status_code == 303 and _published(db, p2)
    left = query(db, "SELECT count(*) FROM pub.projects WHERE NOT published"
                     " AND '015209' = ANY (istat_codes)")
    assert left == [(0,)]


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    raw = b"".join(b"\x00" + b"\x20\x80\x40" * 8 for _ in range(6))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 6, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_cover_photo_upload_becomes_a_project_photo_and_the_cover(
        webs: dict[str | None, Web], db: str) -> None:
    pid = _project_id(db, "demo-p04")
    path = f"/area-riservata/pubblicazione/{pid}"
    coord, vol = webs["coord"], webs["volontario"]
    version = _version(coord.get(path).text)
    before = _office_tables(db)
    r = vol.client.post(f"{path}/foto", headers=HTML, data={
        "csrf_token": vol.token, "version": version}, files={"file": ("a.png", _png(), "image/png")})
    assert r.status_code == 403 and _office_tables(db) == before
    r = coord.client.post(f"{path}/foto", headers=HTML, data={
        "csrf_token": coord.token, "version": version},
        files={"file": ("doc.pdf", b"%PDF-1.4\n", "application/pdf")})
    assert r.status_code == 422 and _office_tables(db) == before
    r = coord.client.post(f"{path}/foto", headers=HTML, data={
        "csrf_token": coord.token, "version": version, "title": "Il mercato"},
        files={"file": ("mercato.png", _png(), "image/png")})
    assert r.status_code == 303, r.text
    doc = query(db, "SELECT d.id, d.kind, d.media_type, d.created_by FROM rigenera.documents d"
                    " JOIN rigenera.project_publication p ON p.cover_document_id = d.id"
                    " WHERE p.project_id = %s", (pid,))
    assert len(doc) == 1 and doc[0][1:] == ("photo", "image/png", "coord")
    page = coord.get(path).text
    assert f'src="/api/documents/{doc[0][0]}/file"' in page
    assert coord.client.get(f"/api/documents/{doc[0][0]}/file").content == _png()


# ------------------------------------------------------------------------- referents
def test_create_edit_and_refuse_bad_referent_input(webs: dict[str | None, Web],
                                                   db: str) -> None:
    vol = webs["volontario"]
    bad: list[tuple[dict[str, object], str]] = [
        ({"full_name": "", "email": "a@example.org"}, "full_name"),
        ({"full_name": "Nessun Contatto"}, "email"),  # neither e-mail nor phone
        ({"full_name": "Posta Rotta", "email": "non-una-mail"}, "email"),
        ({"full_name": "Telefono Rotto", "phone": "chiamami"}, "phone"),
        ({"full_name": "Comune Ignoto", "email": "a@example.org", "istat_code": "999999"},
         "istat_code"),
        ({"full_name": "Tema Ignoto", "email": "a@example.org", "themes": ["astrologia"]},
         "themes"),
        ({"full_name": "Note Lunghe", "email": "a@example.org", "notes": "n" * 4001}, "notes"),
    ]
    before = _office_tables(db)
    for data, field in bad:
        r = vol.post("/area-riservata/referenti/nuovo", data)
        assert r.status_code == 422, (data, r.status_code)
        assert f'id="{field}-error"' in r.text, (data, field)
        assert 'name="full_name"' in r.text  # the form is shown again
    assert _office_tables(db) == before

    r = vol.post("/area-riservata/referenti/nuovo", {
        "full_name": "Elena Provvisoria", "organisation": "Comune di Rho (demo)",
        "email": "elena.provvisoria@example.org", "phone": "+39 02 0000 0099",
        "istat_code": "015182", "themes": ["housing", "green"], "active": "on"})
    assert r.status_code == 303
    rid = int(r.headers["location"].split("/")[-1].split("?")[0])
    row = query(db, "SELECT full_name, themes, active, created_by, istat_code"
                    " FROM rigenera.referents WHERE id = %s", (rid,))
    assert row == [("Elena Provvisoria", ["housing", "green"], True, "volontario", "015182")]
    listed = vol.get("/area-riservata/referenti", params={"theme": "green", "comune": "015182"})
    assert "Elena Provvisoria" in listed.text and DEMO_NAME not in listed.text

    path = f"/area-riservata/referenti/{rid}"
    stale = _version(vol.get(path).text)
    r = webs["coord"].post(path, {"full_name": "Elena Provvisoria", "email": "nuova@example.org",
                                  "version": stale, "active": "on"})
    assert r.status_code == 303
    before = _office_tables(db)
    r = vol.post(path, {"full_name": "Elena Sovrascritta", "email": "x@example.org",
                        "version": stale, "active": "on"})
    assert r.status_code == 409 and "Conflitto" in r.text and "nuova@example.org" in r.text
    r = vol.post(path, {"full_name": "Elena Provvisoria", "email": "rotta",
                        "version": _version(vol.get(path).text)})
    assert r.status_code == 422 and 'id="email-error"' in r.text
    assert _office_tables(db) == before


def test_contact_log_follow_up_on_the_home_and_marked_done(webs: dict[str | None, Web],
                                                           db: str) -> None:
    vol = webs["volontario"]
    rid = _referent_id(db, "Carla Immaginaria")
    today = _today()
    before = _office_tables(db)
    for data, field in [({"outcome": "forse"}, "outcome"), ({}, "outcome"),
                        ({"outcome": "reached", "channel": "piccione"}, "channel"),
                        ({"outcome": "reached", "contacted_on": "ieri"}, "contacted_on"),
                        ({"outcome": "call_back", "contacted_on": today.isoformat(),
                          "follow_up_on": (today - dt.timedelta(days=1)).isoformat()},
                         "follow_up_on")]:
        r = vol.post(f"/area-riservata/referenti/{rid}/contatti", data)
        assert r.status_code == 422 and f'id="{field}-error"' in r.text, (data, field)
    assert _office_tables(db) == before

    r = vol.post(f"/area-riservata/referenti/{rid}/contatti", {
        "outcome": "call_back", "channel": "phone", "notes": "Richiamare per il sopralluogo",
        "contacted_on": today.isoformat(), "follow_up_on": today.isoformat()})
    assert r.status_code == 303
    row = query(db, "SELECT id, contacted_by, version FROM rigenera.contacts WHERE referent_id = %s"
                    " AND follow_up_on = %s AND NOT follow_up_done", (rid, today))
    assert len(row) == 1 and row[0][1] == "volontario"  # who called: the current user
    home = vol.get("/area-riservata").text
    assert "Carla Immaginaria" in home.split('id="follow-ups-title"')[1].split("</section>")[0]

    done = f"/area-riservata/referenti/{rid}/contatti/{row[0][0]}/fatto"
    assert vol.post(done, {"version": row[0][2]}).status_code == 303
    assert vol.post(done, {"version": row[0][2]}).status_code == 409  # twice: stale
    home = vol.get("/area-riservata").text
    assert "Carla Immaginaria" not in home.split('id="follow-ups-title"')[1].split(
        "</section>")[0]
