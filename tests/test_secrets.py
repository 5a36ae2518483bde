"""The secrets scan: with a known password, AES key and Supabase service key, every CLI command (enumerated from
the parser, so a new command is covered without editing this file) is run on malformed URLs, an unreachable
host and a wrong password; nothing it prints or logs may contain a secret, raw, URL-encoded or base64. The
report and ``copy`` are scanned on a working URL that carries ``?password=``; key-parsing errors and the
``encrypt seal`` follow-up are checked here too.

Everything runs in-process through ``main(argv)`` against the session's embedded server: refused connections
(127.0.0.1:1) and a 1 s connect timeout keep the few hundred runs to seconds.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import psycopg
import pytest
from psycopg import sql

from okai_insight.cli import build_parser, main
from okai_insight.embedded import EmbeddedServer

PASSWORD = "S3cr3t-pa55-XYZ"
#: A password that URL-encoding changes, so the encoded and the decoded forms are both looked for.
ODD_PASSWORD = "Odd p@ss/w:rd?S3cr3t#2"
AES_KEY = base64.b64encode(bytes(range(101, 133))).decode()
_JWT_PARTS = ({"alg": "HS256", "typ": "JWT"}, {"role": "service_role", "iss": "supabase", "ref": "secretsscan"})
#: A Supabase service role key (a JWT; the signature is made up).
SERVICE_KEY = (
    ".".join(base64.urlsafe_b64encode(json.dumps(p).encode()).decode().rstrip("=") for p in _JWT_PARTS)
    + ".c2lnbmF0dXJlLW9mLXRoZS1zZXJ2aWNlLXJvbGUta2V5"
)
ROLE = "okai_secrets_scan"
ROLE_REAL_PASSWORD = "Real-R0le-pa55-QRS"

#: A command's positional choice that must not run here (it would start a server in the temp directory).
SKIP_CHOICES = {("server", "start")}


def _forms(secret: str) -> set[str]:
    raw = secret.encode()
    out = {secret, quote(secret, safe=""), quote_plus(secret), quote(secret)}
    out |= {base64.b64encode(raw).decode().rstrip("="), base64.urlsafe_b64encode(raw).decode().rstrip("=")}
    return out


def _secret_forms() -> dict[str, str]:
    forms = {f: "password" for f in _forms(PASSWORD)}
    forms |= {f: "odd password" for f in _forms(ODD_PASSWORD)}
    forms |= {f: "role password" for f in _forms(ROLE_REAL_PASSWORD)}
    forms |= {AES_KEY: "AES key", AES_KEY.rstrip("="): "AES key", bytes(range(101, 133)).hex(): "AES key (hex)"}
    forms |= {SERVICE_KEY: "service key", SERVICE_KEY.rsplit(".", 1)[-1]: "service key signature"}
    return forms


def leaks(text: str) -> list[str]:
    """Which secrets ``text`` shows (empty when it is clean)."""
    return sorted({name for form, name in _secret_forms().items() if form in text})


def test_the_scanner_sees_every_form():
    assert leaks("nothing here") == []
    assert leaks(f"x {quote(ODD_PASSWORD, safe='')} y") == ["odd password"]
    assert leaks(base64.b64encode(PASSWORD.encode()).decode()) == ["password"]
    assert leaks(SERVICE_KEY) == ["service key", "service key signature"]
    assert SERVICE_KEY.startswith("eyJ") and SERVICE_KEY.count(".") == 2


# -- the URLs ---------------------------------------------------------------------------------------------------
MALFORMED = {
    "bad port": f"postgresql://u:{PASSWORD}@127.0.0.1:notaport/db",
    "bad ipv6": f"postgresql://u:{PASSWORD}@[bad/db",
    "keyword dsn": f"host=127.0.0.1 port=1 password={PASSWORD} dbname=y connect_timeout=1",
    "quoted keyword dsn": f"host=127.0.0.1 port=1 password='{PASSWORD}' dbname=y connect_timeout=1",
    "password parameter": f"postgresql://u@127.0.0.1:1/db?password={PASSWORD}&connect_timeout=1",
    "sslpassword parameter": f"postgresql://u@127.0.0.1:1/db?connect_timeout=1&sslpassword={PASSWORD}",
    "encoded odd password": f"postgresql://u:{quote(ODD_PASSWORD, safe='')}@127.0.0.1:1/db?connect_timeout=1",
    "raw odd password": f"postgresql://u:{ODD_PASSWORD}@127.0.0.1:1/db",
    "supabase rest key": f"supabase://127.0.0.1:1?scheme=http&key={SERVICE_KEY}",
    "supabase direct": f"supabase+postgresql://postgres:{PASSWORD}@127.0.0.1:1/postgres?role=service_role",
    "unreachable host": f"postgresql://u:{PASSWORD}@127.0.0.1:1/db?connect_timeout=1",
}


@pytest.fixture(scope="module")
def password_role(admin_url: str, pg_server: EmbeddedServer) -> Iterator[str]:
    """A login role that must give its password on the server's socket (a pg_hba line for this role only, placed
    first and removed afterwards); yields the socket directory."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        hba = Path(str(conn.execute("SHOW hba_file").fetchone()[0]))  # type: ignore[index]
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(ROLE)))
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(ROLE), sql.Literal(ROLE_REAL_PASSWORD))
        )
        before = hba.read_text()
        hba.write_text(f"local all {ROLE} scram-sha-256\n" + before)
        conn.execute("SELECT pg_reload_conf()")
    try:
        yield str(pg_server.data_dir)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            hba.write_text(before)
            conn.execute("SELECT pg_reload_conf()")
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(ROLE)))


def test_the_role_really_needs_its_password(password_role: str):
    """The wrong-password case below is a real authentication failure, not a trust login."""
    base = f"postgresql://{ROLE}:{{}}@/postgres?host={password_role}&connect_timeout=2"
    with psycopg.connect(base.format(ROLE_REAL_PASSWORD)) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (ROLE,)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(base.format(PASSWORD))


# -- every command ----------------------------------------------------------------------------------------------
def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _takes_url(action: argparse.Action) -> bool:
    return action.dest == "url" or action.metavar == "URL"


def command_lines(url: str, scratch: Path) -> list[list[str]]:
    """One argv per command (and per choice of a positional with choices): the URL wherever a URL goes (a second
    URL argument gets an in-memory database, so the bad one is the one opened), required values filled in."""
    lines = []
    for name, parser in sorted(_subparsers().items()):
        variants: list[list[str]] = [[name]]
        urls_given = 0
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction | argparse._VersionAction):
                continue
            if not (action.required or not action.option_strings or action.dest == "data_dir" or _takes_url(action)):
                continue
            if _takes_url(action):
                values = [url if urls_given == 0 else "memory://secrets-scan-other"]
                urls_given += 1
            elif action.dest == "data_dir":
                values = [str(scratch / "no-server")]
            elif action.choices:
                values = [str(c) for c in action.choices if (name, str(c)) not in SKIP_CHOICES]
            elif action.type in (int, float):
                values = ["1"]
            else:
                values = [str(scratch / f"{action.dest}.file")]
            flag = action.option_strings[:1]
            variants = [v + flag + [value] for v in variants for value in values]
        lines += variants
    return lines


def test_every_command_is_enumerated(tmp_path: Path):
    lines = command_lines("postgresql://u:pw@h/db", tmp_path)
    names = {line[0] for line in lines}
    assert names == set(_subparsers()), "every subcommand gets at least one run"
    assert {"doctor", "copy", "report", "encrypt", "backup", "init"} <= names
    copy = next(line for line in lines if line[0] == "copy")
    assert "postgresql://u:pw@h/db" in copy and "memory://secrets-scan-other" in copy
    assert ["server", "start"] not in [line[:2] for line in lines]


@pytest.fixture
def scan_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, pg_server: EmbeddedServer) -> Path:
    """Fast failures, no embedded server of the user's touched, and every secret in the environment too. (The
    session's server is started first: the commands run here must find the one they may reach running.)"""
    monkeypatch.setenv("OKAI_DATA_DIR", str(tmp_path / "okai-data"))
    monkeypatch.setenv("OKAI_CONNECT_TIMEOUT_S", "1")
    monkeypatch.setenv("OKAI_RETRY_ATTEMPTS", "1")
    monkeypatch.setenv("OKAI_ENCRYPTION_KEYS", f"scan:{AES_KEY}")
    monkeypatch.setenv("SUPABASE_KEY", SERVICE_KEY)
    monkeypatch.setenv("PGCONNECT_TIMEOUT", "1")
    for name in ("OKAI_REPLICA_URLS", "SUPABASE_URL", "SUPABASE_ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def run_everything(
    url: str,
    scratch: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> list[str]:
    """Run every command line on ``url`` (as argument and as OKAI_DATABASE_URL); return the leaks found."""
    monkeypatch.setenv("OKAI_DATABASE_URL", url)
    found = []
    caplog.set_level(logging.DEBUG)
    for argv in command_lines(url, scratch):
        caplog.clear()
        try:
            code: object = main(argv)
        except SystemExit as exc:  # argparse refusing a value
            code = exc.code
        out, err = capsys.readouterr()
        shown = leaks(out + err + caplog.text)
        if shown:
            found.append(f"{' '.join(argv[:2])} (exit {code}) shows {shown}: {(err or out).strip()[-300:]}")
    return found


@pytest.mark.parametrize("shape", sorted(MALFORMED))
def test_no_command_prints_a_secret_for_a_bad_url(
    shape: str, scan_environment: Path, monkeypatch: pytest.MonkeyPatch, capsys, caplog
):
    found = run_everything(MALFORMED[shape], scan_environment, monkeypatch, capsys, caplog)
    assert not found, f"{len(found)} runs leaked:\n" + "\n".join(found)


def test_no_command_prints_a_secret_for_a_wrong_password(
    password_role: str, make_database: Callable[[str], str], scan_environment: Path, monkeypatch, capsys, caplog
):
    database = make_database("secrets").rsplit("/", 1)[1].split("?")[0]
    url = f"postgresql://{ROLE}:{PASSWORD}@/{database}?host={password_role}&connect_timeout=1"
    found = run_everything(url, scan_environment, monkeypatch, capsys, caplog)
    assert not found, f"{len(found)} runs leaked:\n" + "\n".join(found)


def test_usage_errors_do_not_quote_a_secret(capsys):
    """argparse quotes a refused value: a URL given where a number goes must come back masked."""
    with pytest.raises(SystemExit):
        main(["tune_recall", "--target", f"postgresql://u:{PASSWORD}@h/db"])
    err = capsys.readouterr().err
    assert "invalid float value" in err and "postgresql://u:***@h/db" in err and not leaks(err)


# -- copy and the report on a working URL that carries ?password= ------------------------------------------------
def _with_password_parameter(url: str) -> str:
    return url + ("&" if "?" in url else "?") + f"password={PASSWORD}"


def test_copy_output_masks_the_password_parameter(make_database, tmp_path: Path, capsys, caplog):
    import okai_insight

    source = make_database("secretcopy")
    with okai_insight.connect(source):
        pass  # the schema, so there is something to copy
    caplog.set_level(logging.DEBUG)
    target = f"sqlite:///{tmp_path / 'copy.db'}"
    assert main(["copy", "--from", _with_password_parameter(source), "--to", target, "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert "copied and verified" in out and "password=***" in out
    assert not leaks(out + err + caplog.text)


def test_report_html_and_kept_notebook_hold_no_password(make_database, tmp_path: Path):
    import okai_insight
    from okai_insight.report import build_report

    url = make_database("secretreport")
    with okai_insight.connect(url):
        pass
    kept = tmp_path / "kept.ipynb"
    html = build_report(
        _with_password_parameter(url), tmp_path / "report.html", sample=20, queries=2, keep_notebook=kept
    ).read_text()
    assert "Health summary" in html and "password=***" in html, "the report names the database, masked"
    assert not leaks(html), "the HTML (headings, outputs, metadata) holds no password"
    assert not leaks(kept.read_text()), "nor does the executed notebook (parameters, metadata, outputs)"


@pytest.mark.parametrize("shape", ["bad ipv6", "supabase direct", "password parameter"])
def test_a_report_section_that_fails_does_not_quote_the_url(shape: str, monkeypatch):
    """In a live notebook (no HTML export to mask it afterwards) a failed section says why, masked."""
    from okai_insight.report import indexes_section

    monkeypatch.setenv("PGCONNECT_TIMEOUT", "1")
    section = indexes_section(MALFORMED[shape])
    assert section.status == "unavailable"
    assert not leaks(section.html + section.text), section.text


# -- keys -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "entries",
    [
        AES_KEY,  # no "kid:" at all
        f"good:{AES_KEY},{AES_KEY}",
        f"{AES_KEY}:{AES_KEY}",  # the key where the id goes, and as the key
        f"k1:{AES_KEY[:-4]}",  # not valid base64
        f"k1:{base64.b64encode(bytes(range(101, 117))).decode()}",  # 16 bytes: the wrong length
        f"{AES_KEY}:",
    ],
)
def test_key_errors_never_show_key_material(entries: str, monkeypatch, capsys):
    from okai_insight.errors import ConfigurationError
    from okai_insight.ops.encryption import Keyring

    with pytest.raises(ConfigurationError) as info:
        Keyring.from_env({"OKAI_ENCRYPTION_KEYS": entries})
    message = str(info.value)
    assert "OKAI_ENCRYPTION_KEYS" in message and not leaks(message), message
    short = base64.b64encode(bytes(range(101, 117))).decode()
    assert short not in message and AES_KEY[:20] not in message
    monkeypatch.setenv("OKAI_ENCRYPTION_KEYS", entries)
    # a malformed key list is a configuration error: bad input, exit 2 (docs/cli.md, Conventions)
    assert main(["encrypt", "usage", "postgresql://u@127.0.0.1:1/db?connect_timeout=1"]) == 2
    err = capsys.readouterr().err
    assert "ConfigurationError" in err and not leaks(err) and AES_KEY[:20] not in err


def _raw_pages_hold(conn: psycopg.Connection, needle: bytes) -> bool:
    pages = conn.execute(
        "SELECT get_raw_page('memories', b::int) FROM generate_series(0, "
        "pg_relation_size('memories') / current_setting('block_size')::int - 1) AS b"
    ).fetchall()
    return any(needle in bytes(p) for (p,) in pages)


def test_seal_says_plaintext_remains_and_vacuum_full_removes_it(make_database, monkeypatch, capsys):
    from tests.ops._data import populate

    url = populate(make_database("secretseal"), memories=20).url
    needle = f"the secret plan {uuid.uuid4().hex}".encode()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
        conn.execute(
            "UPDATE memories SET content = jsonb_set(content, '{text}', to_jsonb(%s::text)) "
            "WHERE id = (SELECT id FROM memories ORDER BY id LIMIT 1)",
            (needle.decode(),),
        )
        conn.execute("VACUUM memories")  # only the row version holding the needle in clear is left
        assert _raw_pages_hold(conn, needle)
    monkeypatch.setenv("OKAI_ENCRYPTION_KEYS", f"k1:{AES_KEY}")

    # A reader whose snapshot predates the seal (any long transaction) keeps the old row versions from being
    # pruned, so what the seal leaves behind is there to see, deterministically.
    with psycopg.connect(url) as reader:
        reader.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        reader.execute("SELECT count(*) FROM memories").fetchone()
        assert main(["encrypt", "seal", url]) == 0
        out = capsys.readouterr().out
        assert "sealed 20 rows" in out and "dead row versions" in out and "WAL" in out and "--vacuum-full" in out
        with psycopg.connect(url) as conn:
            clear = conn.execute("SELECT count(*) FROM memories WHERE content::text LIKE %s", (f"%{needle.decode()}%",))
            assert clear.fetchone() == (0,), "no live row holds it"
            assert _raw_pages_hold(conn, needle), "sealing alone leaves the plaintext in a dead row version"
        reader.rollback()

    assert main(["encrypt", "rotate", url, "--vacuum-full"]) == 0
    out = capsys.readouterr().out
    assert "VACUUM FULL memories done" in out and "CHECKPOINT done" in out and not leaks(out)
    with psycopg.connect(url) as conn:
        assert not _raw_pages_hold(conn, needle), "after VACUUM FULL no page of memories holds it"


# -- the redactor itself ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [*MALFORMED.values(), f"Authorization: Bearer {SERVICE_KEY}", f"sb_secret_{PASSWORD}"])
def test_redact_masks_every_shape_even_unparsable(text: str):
    from okai_insight._redact import redact

    assert leaks(text) and not leaks(redact(text)), redact(text)
    assert not leaks(redact(f'libpq: invalid URI "{text}" near ...')), "quoted inside a message too"


@pytest.mark.parametrize(
    "harmless",
    [
        "postgresql://postgres:@/okai?host=/tmp/pgdata",  # the embedded server's URL: no password
        "postgresql://localhost:5432/agents?sslmode=require",
        "sqlite:////var/lib/agent.db",
        "Index Cond: (key = 'abc'::text)",
        "SET hnsw.ef_search = 100",
    ],
)
def test_redact_leaves_text_without_secrets_alone(harmless: str):
    from okai_insight._redact import redact

    assert redact(harmless) == harmless


def test_cli_output_is_masked_even_when_written_in_pieces(capsys):
    """A secret split over several writes (print's separate pieces, a progress bar) is masked as a whole line."""
    import sys

    from okai_insight.cli._output import redacted_output as _redacted_output

    with _redacted_output():
        for piece in (
            "connecting to postgresql://u:",
            PASSWORD[:5],
            PASSWORD[5:],
            "@h/db",
            "\n",
            "tail: pass",
            "word=",
            PASSWORD,
        ):
            sys.stdout.write(piece)
    out = capsys.readouterr().out
    assert out == "connecting to postgresql://u:***@h/db\ntail: password=***", "an unfinished line is masked at flush"
