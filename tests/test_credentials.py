"""Credentials stop at once, in every server process; failed logins are throttled (issue #9, 3).

Changes are made the way an administrator makes them: the real `rigenera` CLI (a
subprocess on the test database) or plain SQL, never through the server under test.
Each test uses accounts of its own and, where logins fail, a client address of its
own (uvicorn takes `X-Forwarded-For` from 127.0.0.1, as from a reverse proxy), so the
throttle state of one test never leaks into another.
"""

from __future__ import annotations

import base64
import itertools
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg2
import pytest

from conftest import MILANO, PASSWORD, SESTO, LiveServer, basic
from rigenera.auth import hash_password, new_token
from test_editing import GEOJSON, feature

RIGENERA = str(Path(sys.executable).parent / "rigenera")
MERGE = {"Content-Type": "application/merge-patch+json"}
_ADDRESSES = itertools.count(1)


def address() -> dict[str, str]:
    """A client address of the test's own (TEST-NET-2)."""
    n = next(_ADDRESSES)
    return {"X-Forwarded-For": f"198.51.{n // 250}.{n % 250 + 1}"}


def cli(db: str, *args: str, stdin: str | None = None) -> str:
    out = subprocess.run([RIGENERA, *args], input=stdin, env={"DATABASE_URL": db, "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def sql(db: str, statement: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    conn = psycopg2.connect(db)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def account(db: str, name: str, role: str = "coordinator", comuni: tuple[str, ...] = ()) -> str:
    sql(db, "INSERT INTO rigenera.accounts (username, role, password_hash) VALUES (%s, %s, %s)",
        (name, role, hash_password(PASSWORD)))
    for code in comuni:
        sql(db, "INSERT INTO rigenera.account_comuni VALUES (%s, %s)", (name, code))
    return name


def token_for(db: str, name: str) -> dict[str, str]:
    token, digest = new_token()
    sql(db, "INSERT INTO rigenera.tokens (username, token_hash, expires_at)"
            " VALUES (%s, %s, now() + interval '1 day')", (name, digest))
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def site(api: httpx.Client) -> str:
    """A site in Milano that the tests' accounts try to edit."""
    r = api.post("/ogc/collections/sites/items", json=feature(name="Area credenziali"),
                 headers={**GEOJSON, **basic("admin")})
    assert r.status_code == 201, r.text
    return r.headers["location"].rsplit("/", 1)[1]


def write(client: httpx.Client, site: str, auth: dict[str, str], note: str) -> httpx.Response:
    return client.patch(f"/ogc/collections/sites/items/{site}",
                        json={"properties": {"owner": note}}, headers={**MERGE, **auth})


def me(client: httpx.Client, auth: dict[str, str]) -> httpx.Response:
    return client.get("/api/me", headers=auth)


def assert_refused(client: httpx.Client, db: str, site: str, auth: dict[str, str]) -> None:
    """The very next read of /api/me and the very next write are refused; nothing written."""
    before = sql(db, "SELECT version FROM rigenera.sites WHERE id = %s", (int(site),))
    r = me(client, auth)
    assert r.status_code == 401, r.text
    r = write(client, site, auth, "dopo la revoca")
    assert r.status_code == 401, r.text
    assert r.json()["code"] == "Unauthorized"
    assert sql(db, "SELECT version FROM rigenera.sites WHERE id = %s", (int(site),)) == before


def warm(client: httpx.Client, site: str, auth: dict[str, str]) -> None:
    """Used once (the server remembers the password check), read and write both accepted."""
    assert me(client, auth).status_code == 200
    assert write(client, site, auth, "prima").status_code == 204


# ------------------------------------------------------------------------- at once, CLI
def test_token_revoked_with_the_cli_stops_at_once(api, db, site):
    account(db, "rev.cli", comuni=())
    token = cli(db, "token", "issue", "rev.cli").strip()
    auth = {"Authorization": f"Bearer {token}"}
    warm(api, site, auth)
    (tid,) = sql(db, "SELECT id FROM rigenera.tokens WHERE username = 'rev.cli'")[0]
    cli(db, "token", "revoke", str(tid))
    assert_refused(api, db, site, auth)


def test_account_disabled_with_the_cli_stops_at_once_and_enable_restores_it(api, db, site):
    account(db, "dis.cli")
    auth = {**basic("dis.cli"), **address()}
    warm(api, site, auth)
    cli(db, "user", "disable", "dis.cli")
    assert_refused(api, db, site, auth)
    cli(db, "user", "enable", "dis.cli")
    assert me(api, auth).status_code == 200


def test_password_changed_with_the_cli_stops_the_old_one_at_once(api, db, site):
    account(db, "pwd.cli")
    old = {**basic("pwd.cli"), **address()}
    warm(api, site, old)
    cli(db, "user", "passwd", "pwd.cli", "--password-stdin", stdin="una-nuova-password\n")
    assert_refused(api, db, site, old)
    new = {**basic("pwd.cli", "una-nuova-password"), **address()}
    assert me(api, new).json()["username"] == "pwd.cli"
    assert write(api, site, new, "nuova").status_code == 204


def test_comuni_and_role_changed_with_the_cli_apply_at_once(api, db, site):
    account(db, "com.cli", "technician", (MILANO,))
    auth = {**basic("com.cli"), **address()}
    warm(api, site, auth)
    cli(db, "user", "set", "com.cli", "--comuni", SESTO)
    assert me(api, auth).json()["comuni"] == [SESTO]
    assert write(api, site, auth, "fuori").status_code == 403  # Milano is no longer theirs
    cli(db, "user", "set", "com.cli", "--role", "volunteer", "--comuni", "")
    assert me(api, auth).json() == {"username": "com.cli", "role": "volunteer", "comuni": []}
    assert write(api, site, auth, "volontario").status_code == 403


# ------------------------------------------------------------------------- at once, SQL
def test_token_revoked_in_sql_stops_at_once(api, db, site):
    account(db, "rev.sql")
    auth = token_for(db, "rev.sql")
    warm(api, site, auth)
    sql(db, "UPDATE rigenera.tokens SET revoked_at = now() WHERE username = 'rev.sql'")
    assert_refused(api, db, site, auth)


def test_token_expired_stops_and_account_disabled_stops_its_tokens(api, db, site):
    account(db, "exp.sql")
    auth = token_for(db, "exp.sql")
    warm(api, site, auth)
    sql(db, "UPDATE rigenera.tokens SET created_at = now() - interval '2 days',"
            " expires_at = now() - interval '1 second' WHERE username = 'exp.sql'")
    assert_refused(api, db, site, auth)
    account(db, "exp.dis")
    auth = token_for(db, "exp.dis")
    warm(api, site, auth)
    sql(db, "UPDATE rigenera.accounts SET active = false WHERE username = 'exp.dis'")
    assert_refused(api, db, site, auth)


def test_account_disabled_in_sql_stops_at_once(api, db, site):
    account(db, "dis.sql")
    auth = {**basic("dis.sql"), **address()}
    warm(api, site, auth)
    sql(db, "UPDATE rigenera.accounts SET active = false WHERE username = 'dis.sql'")
    assert_refused(api, db, site, auth)


def test_password_changed_in_sql_stops_the_old_one_at_once(api, db, site):
    account(db, "pwd.sql")
    auth = {**basic("pwd.sql"), **address()}
    warm(api, site, auth)
    sql(db, "UPDATE rigenera.accounts SET password_hash = %s WHERE username = 'pwd.sql'",
        (hash_password("cambiata-in-sql"),))
    assert_refused(api, db, site, auth)


def test_comune_removed_in_sql_applies_at_once(api, db, site):
    account(db, "com.sql", "technician", (MILANO, SESTO))
    auth = {**basic("com.sql"), **address()}
    warm(api, site, auth)
    sql(db, "DELETE FROM rigenera.account_comuni WHERE username = 'com.sql' AND istat_code = %s",
        (MILANO,))
    assert me(api, auth).json()["comuni"] == [SESTO]
    before = sql(db, "SELECT version FROM rigenera.sites WHERE id = %s", (int(site),))
    assert write(api, site, auth, "non più mio").status_code == 403
    assert sql(db, "SELECT version FROM rigenera.sites WHERE id = %s", (int(site),)) == before


def test_role_changed_in_sql_applies_at_once(api, db, site):
    account(db, "ruolo.sql")
    auth = token_for(db, "ruolo.sql")
    warm(api, site, auth)
    sql(db, "UPDATE rigenera.accounts SET role = 'volunteer' WHERE username = 'ruolo.sql'")
    assert me(api, auth).json()["role"] == "volunteer"
    assert write(api, site, auth, "volontario").status_code == 403


def test_credentials_version_follows_every_change_that_matters(db):
    account(db, "versione", "technician", (MILANO,))

    def version() -> int:
        return sql(db, "SELECT credentials_version FROM rigenera.accounts"
                       " WHERE username = 'versione'")[0][0]

    seen = [version()]
    for statement in [
        "UPDATE rigenera.accounts SET password_hash = 'x' WHERE username = 'versione'",
        "UPDATE rigenera.accounts SET active = false WHERE username = 'versione'",
        "UPDATE rigenera.accounts SET role = 'coordinator' WHERE username = 'versione'",
        f"INSERT INTO rigenera.account_comuni VALUES ('versione', '{SESTO}')",
        f"UPDATE rigenera.account_comuni SET istat_code = '015002' WHERE istat_code = '{SESTO}'"
        " AND username = 'versione'",
        "DELETE FROM rigenera.account_comuni WHERE username = 'versione'",
    ]:
        sql(db, statement)
        seen.append(version())
        assert seen[-1] > seen[-2], statement
    sql(db, "UPDATE rigenera.accounts SET full_name = 'Nome' WHERE username = 'versione'")
    assert version() == seen[-1]  # nothing a credential grants changed


def test_bearer_last_used_is_written_at_most_once_a_minute(api, db):
    account(db, "uso.token")
    auth = token_for(db, "uso.token")

    def last_used() -> object:
        return sql(db, "SELECT last_used_at FROM rigenera.tokens WHERE username = 'uso.token'")[0][0]

    assert me(api, auth).status_code == 200
    first = last_used()
    assert first is not None
    for _ in range(5):
        assert me(api, auth).status_code == 200
    assert last_used() == first  # not a write per request
    sql(db, "UPDATE rigenera.tokens SET last_used_at = now() - interval '2 minutes'"
            " WHERE username = 'uso.token'")
    assert me(api, auth).status_code == 200
    assert last_used() > first


# ------------------------------------------------------------------- several processes
@pytest.fixture(scope="module")
def second(db, tmp_path_factory):
    """A second server process on the same database (another uvicorn worker, say)."""
    other = LiveServer(db, tmp_path_factory.mktemp("second")).start()
    with httpx.Client(base_url=other.url, timeout=60) as client:
        yield client
    other.stop()


def test_changes_hold_across_server_processes(api, second, db, site):
    account(db, "due.server")
    basic_auth = {**basic("due.server"), **address()}
    token = token_for(db, "due.server")
    for client in (api, second):
        warm(client, site, basic_auth)
        warm(client, site, token)
    cli(db, "user", "passwd", "due.server", "--password-stdin", stdin="terza-password-lunga\n")
    sql(db, "UPDATE rigenera.tokens SET revoked_at = now() WHERE username = 'due.server'")
    for client in (api, second):
        assert_refused(client, db, site, basic_auth)
        assert_refused(client, db, site, token)
    new = {**basic("due.server", "terza-password-lunga"), **address()}
    assert [me(c, new).status_code for c in (api, second)] == [200, 200]


def test_throttle_is_shared_by_server_processes(api, second, db):
    account(db, "due.throttle")
    where = address()
    for i in range(5):
        assert me(api, {**basic("due.throttle", f"sbagliata-{i}"), **where}).status_code == 401
    r = me(second, {**basic("due.throttle"), **where})  # even the right password, for now
    assert r.status_code == 429, r.text
    assert int(r.headers["retry-after"]) > 0


# ------------------------------------------------------------------------------ throttle
def test_failed_logins_are_throttled_per_account_and_address(live, api, db):
    account(db, "bersaglio")
    here, elsewhere = address(), address()
    for i in range(5):
        r = me(api, {**basic("bersaglio", f"tentativo-{i}"), **here})
        assert r.status_code == 401, r.text
    checks = live.app.state.auth.passwords.completed
    for i in range(20):
        r = me(api, {**basic("bersaglio", f"ancora-{i}"), **here})
        assert r.status_code == 429, r.text
        retry = int(r.headers["retry-after"])
        assert 0 < retry <= 60
        doc = r.json()
        assert doc["code"] == "TooManyRequests" and " / " in doc["description"]
        assert "questo indirizzo" in doc["description"] and "this address" in doc["description"]
        assert doc["errors"][0]["field"] == "Authorization"
    assert live.app.state.auth.passwords.completed == checks  # no hashing once throttled
    assert me(api, {**basic("bersaglio"), **here}).status_code == 429
    assert me(api, {**basic("bersaglio"), **elsewhere}).status_code == 200  # not locked out
    (blocked,) = sql(db, "SELECT blocked_until > now() FROM rigenera.login_throttle"
                         " WHERE key = 'pair:bersaglio ' || %s", (here["X-Forwarded-For"],))[0]
    assert blocked


@pytest.fixture(scope="module")
def strict(db, tmp_path_factory):
    """A server with small login limits (3 per account+address, 6 per address, 4 per
    account), so that reaching them takes few argon2 checks."""
    server = LiveServer(db, tmp_path_factory.mktemp("strict"),
                        login_failures_per_account_address=3, login_failures_per_address=6,
                        login_failures_per_account=4).start()
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client
    server.stop()


def test_a_successful_login_resets_the_account_counter(api, db):
    """Default limits: 5 failures per account and address. Four, then a success, three times
    over (twelve failures in a minute, never blocked); then five in a row are."""
    account(db, "distratto")
    where = address()
    for round_ in range(3):
        for i in range(4):
            r = me(api, {**basic("distratto", f"refuso-{round_}-{i}"), **where})
            assert r.status_code == 401, r.text
        assert me(api, {**basic("distratto"), **where}).status_code == 200
    for i in range(5):
        assert me(api, {**basic("distratto", f"di-nuovo-{i}"), **where}).status_code == 401
    assert me(api, {**basic("distratto", "ultima"), **where}).status_code == 429


def test_one_address_guessing_many_accounts_is_throttled(strict, db):
    where, elsewhere = address(), address()
    for i in range(6):  # one wrong password each: no account+address limit is reached
        r = me(strict, {**basic(f"nome{i:02d}", "indovina"), **where})
        assert r.status_code == 401, r.text
    account(db, "vicino")  # a real account, its password not yet checked by this server
    r = me(strict, {**basic("vicino"), **where})
    assert r.status_code == 429 and "this address" in r.json()["description"]
    assert me(strict, {**basic("vicino"), **elsewhere}).status_code == 200


def test_an_account_under_attack_stays_open_where_it_last_logged_in(api, strict, second, db):
    account(db, "assediato")
    office = address()
    assert me(api, {**basic("assediato"), **office}).status_code == 200
    for _ in range(4):  # four addresses, one guess each
        assert me(strict, {**basic("assediato", "a-caso"), **address()}).status_code == 401
    # `second` has not checked this password yet: the account-wide block applies there
    r = me(second, {**basic("assediato"), **address()})
    assert r.status_code == 429 and "this user" in r.json()["description"]
    assert me(second, {**basic("assediato"), **office}).status_code == 200


def test_blocks_back_off_and_expire(db, tmp_path_factory):
    """A server configured with short blocks: 1 s, then 2 s (doubled), then open again."""
    quick = LiveServer(db, tmp_path_factory.mktemp("quick"), login_block_seconds=1,
                       login_block_max_seconds=30).start()
    try:
        account(db, "paziente")
        where = address()
        with httpx.Client(base_url=quick.url, timeout=60) as client:
            retries = []
            for _ in range(2):
                for i in range(5):
                    assert me(client, {**basic("paziente", f"no-{i}"), **where}).status_code == 401
                r = me(client, {**basic("paziente"), **where})
                assert r.status_code == 429
                retries.append(int(r.headers["retry-after"]))
                time.sleep(retries[-1] + 0.2)
            assert retries == [1, 2]
            assert me(client, {**basic("paziente"), **where}).status_code == 200
    finally:
        quick.stop()


FLOOD = """
import base64, json, sys, httpx
from concurrent.futures import ThreadPoolExecutor
url, user = sys.argv[1], sys.argv[2]
def one(i):
    raw = base64.b64encode(f"{user}:sbagliata-{i}".encode()).decode()
    try:
        return httpx.get(url + "/api/me", headers={"Authorization": "Basic " + raw,
                         "X-Forwarded-For": "203.0.113.77"}, timeout=60).status_code
    except httpx.HTTPError as exc:
        return type(exc).__name__
print("ready", flush=True)
with ThreadPoolExecutor(16) as pool:
    print(json.dumps(list(pool.map(one, range(200)))))
"""


def test_a_flood_of_wrong_passwords_does_not_slow_public_reads(live, db):
    """200 wrong passwords, 16 at a time, from another process, while we time public reads."""
    read = "/ogc/collections/sites/items?limit=10"

    def timed(client: httpx.Client) -> float:
        t = time.perf_counter()
        assert client.get(read).status_code == 200
        return time.perf_counter() - t

    with httpx.Client(base_url=live.url, timeout=60) as client:
        for _ in range(5):
            timed(client)
        baseline = statistics.median(timed(client) for _ in range(30))
        checks = live.app.state.auth.passwords.completed
        flood = subprocess.Popen([sys.executable, "-c", FLOOD, live.url,
                                  account(db, "inondato")], stdout=subprocess.PIPE, text=True)
        assert flood.stdout is not None and flood.stdout.readline().strip() == "ready"
        during = []
        while flood.poll() is None or len(during) < 10:
            during.append(timed(client))
        answers = json.loads(flood.communicate(timeout=120)[0])
    hashed = live.app.state.auth.passwords.completed - checks
    p50 = statistics.median(during)
    counts = {a: answers.count(a) for a in set(answers)}
    assert set(counts) <= {401, 429, 503}, counts
    assert counts.get(429, 0) >= 150, counts  # most of the flood never reached argon2
    assert hashed <= 20, hashed  # a handful of checks, not one per request
    assert p50 < max(5 * baseline, 0.02) and p50 < 0.2, (baseline, p50, len(during), counts)


def test_a_full_password_pool_answers_503_at_once(db, tmp_path_factory):
    """One hashing thread and no queue: checks arriving together beyond it are refused at
    once with 503 and Retry-After, not queued; the server stays well."""
    import threading

    small = LiveServer(db, tmp_path_factory.mktemp("small"), password_workers=1,
                       password_queue=0).start()
    try:
        start, answers = threading.Barrier(12), []

        def login(n: int) -> None:
            with httpx.Client(base_url=small.url, timeout=60) as client:
                start.wait()
                r = me(client, {**basic(f"ospite{n:02d}", "qualunque"),
                                "X-Forwarded-For": f"192.0.2.{100 + n}"})
                answers.append((r.status_code, r.headers.get("retry-after"), r.json()))

        threads = [threading.Thread(target=login, args=(n,)) for n in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        statuses = sorted(a[0] for a in answers)
        assert set(statuses) <= {401, 503} and 503 in statuses and 401 in statuses, statuses
        for status, retry, doc in answers:
            if status == 503:
                assert retry == "1" and doc["code"] == "ServiceUnavailable", doc
                assert " / " in doc["description"]
        assert small.app.state.auth.passwords.completed == statuses.count(401)
    finally:
        small.stop()


# ----------------------------------------------------------------- header and credentials
def test_an_oversized_authorization_header_is_431_without_hashing(live, api):
    checks = live.app.state.auth.passwords.completed
    huge = "Basic " + base64.b64encode(b"admin:" + b"x" * 5000).decode()
    for path in ("/api/me", "/ogc/collections/sites/items?limit=1"):
        r = api.get(path, headers={"Authorization": huge})
        assert r.status_code == 431, r.text
        assert r.json()["errors"][0]["field"] == "Authorization"
        assert "4096" in r.json()["description"]
    assert live.app.state.auth.passwords.completed == checks
