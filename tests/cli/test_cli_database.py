"""The CLI lands where the user meant: which database, which creator, said in one line.

Issue 9: a typo in ``--creator`` created a new creator; run from another directory, a new
``./huntaze.db``; a wrong or unreachable ``HUNTAZE_DATABASE_URL`` printed a 450-line
traceback; Alembic's lines were printed on every command.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
from sqlalchemy import select

from huntaze.models.tenancy import Creator
from tests.cli.cli_support import closed_port, error_lines, handle, run_cli, with_password

SAMPLE = str(resources.files("huntaze.demo") / "samples" / "patreon_members.csv")
PG = bool(os.environ.get("HUNTAZE_TEST_DATABASE_URL"))


def _creator(sessions, handle_: str) -> Creator | None:
    with sessions() as s:
        return s.scalar(select(Creator).where(Creator.handle == handle_))


def test_an_unknown_creator_is_an_error_listing_the_known_ones(
    db_url, tmp_path, make_tenant, sessions
) -> None:
    known = [make_tenant(handle=handle())["handle"] for _ in range(2)]
    typo = known[0][:-1] + ("x" if known[0][-1] != "x" else "y")
    done = run_cli(["import", SAMPLE, "--creator", typo], db_url, tmp_path)
    assert done.exit_code == 2, done.output
    (line,) = error_lines(done)
    assert line.startswith("error: ") and "Traceback" not in done.output
    assert f"no creator '{typo}'" in line and "--create-creator" in line
    assert all(h in line for h in known), line
    assert _creator(sessions, typo) is None  # nothing was created
    assert done.stdout == ""


def test_create_creator_creates_it_and_the_summary_names_creator_and_database(
    db_url, tmp_path, sessions
) -> None:
    new = handle()
    url = with_password(db_url, "hunter2") if PG else db_url
    done = run_cli(["import", SAMPLE, "--creator", new, "--create-creator"], url, tmp_path)
    assert done.exit_code == 0, done.output
    assert f"created creator '{new}'" in done.stderr
    head, counts = done.stdout.splitlines()[:2]
    assert f"-> creator {new} in " in head and counts.startswith("patreon_members: 24 inserted")
    if PG:
        assert "root:***@127.0.0.1:5432/test" in head, head
        assert "hunter2" not in done.output
    else:
        assert head.endswith(f" in sqlite:///{Path(db_url.removeprefix('sqlite:///'))}")
    assert _creator(sessions, new) is not None
    again = run_cli(["import", SAMPLE, "--creator", new, "--json"], url, tmp_path)
    assert again.exit_code == 0, again.output
    report = json.loads(again.stdout)
    assert (report["creator"], report["unchanged"]) == (new, 24)
    assert "hunter2" not in report["database"]


def test_no_creator_named(tmp_path) -> None:
    """Without --creator: the only creator, else an error naming what to do."""
    url = f"sqlite:///{tmp_path / 'one.db'}"
    assert run_cli(["db", "upgrade"], url, tmp_path).exit_code == 0
    none = run_cli(["import", SAMPLE], url, tmp_path)
    assert none.exit_code == 2 and "has no creator yet" in none.stderr
    assert "--create-creator" in none.stderr
    bare = run_cli(["import", SAMPLE, "--create-creator"], url, tmp_path)
    assert bare.exit_code == 2 and "--create-creator needs --creator" in bare.stderr
    made = run_cli(["import", SAMPLE, "--creator", "Alice", "--create-creator"], url, tmp_path)
    assert made.exit_code == 0, made.output
    only = run_cli(["import", SAMPLE], url, tmp_path)
    assert only.exit_code == 0 and "-> creator alice in" in only.stdout
    run_cli(["token", "create", "--creator", "bob", "--create-creator"], url, tmp_path)
    two = run_cli(["import", SAMPLE], url, tmp_path)
    assert two.exit_code == 2 and "known creators: alice, bob" in two.stderr
    invalid = run_cli(["import", SAMPLE, "--creator", "../x"], url, tmp_path)
    assert invalid.exit_code == 2 and "creator handle" in invalid.stderr


def test_a_missing_sqlite_file_is_not_created_by_import_or_token_commands(
    tmp_path, monkeypatch
) -> None:
    """Run from another directory with the default ``sqlite:///./huntaze.db``: refused, naming
    the absolute path; nothing is created there."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    for args in (
        ["import", SAMPLE, "--creator", "alice", "--create-creator"],
        ["token", "create", "--creator", "alice", "--create-creator"],
        ["token", "list"],
        ["token", "revoke", "tok_x"],
    ):
        done = run_cli(args, None, tmp_path)
        assert done.exit_code == 2, (args, done.output)
        (line,) = error_lines(done)
        assert f"no database at {elsewhere / 'huntaze.db'}" in line, line
        assert "not set, so the default sqlite:///./huntaze.db" in line
        assert "`huntaze db upgrade`" in line
        assert list(elsewhere.iterdir()) == [], args
    # the commands that set a database up say they did
    made = run_cli(["db", "upgrade"], None, tmp_path)
    assert made.exit_code == 0, made.output
    assert f"created a new database: sqlite:///{elsewhere / 'huntaze.db'}" in made.stderr
    assert "upgraded from revision (empty) to " in made.stderr
    again = run_cli(["db", "upgrade"], None, tmp_path)
    assert "is up to date (revision " in again.stderr and "created" not in again.stderr
    done = run_cli(["token", "create", "--creator", "alice", "--create-creator"], None, tmp_path)
    assert done.exit_code == 0, done.output


@pytest.mark.parametrize(
    ("url", "code", "says"),
    [
        ("not a url", 2, "HUNTAZE_DATABASE_URL is not a database URL"),
        ("nosuchdb://x/y", 2, "HUNTAZE_DATABASE_URL is not a database URL"),
        (
            "postgresql+psycopg://bob:s3cret@127.0.0.1:{port}/nope",
            1,
            "cannot use the database postgresql+psycopg://bob:***@127.0.0.1:{port}/nope: ",
        ),
    ],
)
def test_a_wrong_or_unreachable_database_url_is_one_line(tmp_path, url, code, says) -> None:
    port = closed_port()
    url, says = url.format(port=port), says.format(port=port)
    for args in (["token", "list"], ["db", "upgrade"], ["import", SAMPLE, "--creator", "a"]):
        done = run_cli(args, url, tmp_path)
        assert done.exit_code == code, (args, done.output)
        (line,) = error_lines(done)
        assert line.startswith("error: ") and says in line, line
        assert "s3cret" not in done.output and done.stdout == ""


def test_a_database_in_a_missing_directory_cannot_be_created(tmp_path) -> None:
    for args in (["db", "upgrade"], ["demo"], ["serve"]):
        done = run_cli(args, f"sqlite:///{tmp_path}/no/such/x.db", tmp_path)
        assert done.exit_code == 2, done.output
        (line,) = error_lines(done)
        assert line == (
            f"error: cannot create the database {tmp_path}/no/such/x.db: the directory "
            f"{tmp_path}/no/such does not exist"
        )
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_a_database(tmp_path) -> None:
    bad = tmp_path / "notes.db"
    bad.write_text("these are my notes, not a database\n" * 200)
    done = run_cli(["token", "list"], f"sqlite:///{bad}", tmp_path)
    assert done.exit_code == 1
    (line,) = error_lines(done)
    assert line == f"error: cannot use the database sqlite:///{bad}: file is not a database"


@pytest.mark.parametrize(
    ("name", "value"), [("HUNTAZE_IMPORT_BATCH_SIZE", "lots"), ("HUNTAZE_LOG_LEVEL", "LOUD")]
)
def test_an_invalid_setting_is_one_line(db_url, tmp_path, name, value) -> None:
    done = run_cli(["token", "list"], db_url, tmp_path, **{name: value})
    assert done.exit_code == 2
    (line,) = error_lines(done)
    assert line.startswith(f"error: invalid setting {name}: "), line


def test_bad_files_never_print_a_traceback(db_url, tmp_path, make_tenant) -> None:
    owner = make_tenant(handle=handle())
    garbage = tmp_path / "shopping.csv"
    garbage.write_text("item,quantity\napples,3\n")
    json_file = tmp_path / "fans.json"
    json_file.write_text('{"list": [{"id": 1}]}')
    for args, says in (
        (["import", str(garbage)], "format_not_detected"),
        (["import", str(json_file), "--format", "patreon_members"], "invalid_file"),
        (["import", SAMPLE, "--format", "nope"], "unknown_format"),
        (["import", SAMPLE, "--mapping", "{not json"], "invalid_mapping"),
    ):
        done = run_cli([*args, "--creator", owner["handle"]], db_url, tmp_path)
        assert done.exit_code == 2, (args, done.output)
        assert done.exception is None or isinstance(done.exception, SystemExit), done.exception
        (line,) = error_lines(done)
        assert line.startswith(f"error: {says}"), line


def _huntaze(args: list[str], url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUNTAZE_")}
    env.update(HUNTAZE_DATABASE_URL=url, HUNTAZE_SECRET_KEY_FILE=str(tmp_path / "key"))
    return subprocess.run(
        [sys.executable, "-m", "huntaze", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_alembic_speaks_only_with_verbose(tmp_path) -> None:
    """As a real process with the default log level (INFO): no migration lines on stderr
    unless ``--verbose``."""
    quiet = _huntaze(["db", "upgrade"], f"sqlite:///{tmp_path / 'quiet.db'}", tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    lines = quiet.stderr.splitlines()
    assert len(lines) == 2 and "created a new database" in lines[0], quiet.stderr
    assert "upgraded from revision (empty)" in lines[1]
    loud = _huntaze(["--verbose", "db", "upgrade"], f"sqlite:///{tmp_path / 'v.db'}", tmp_path)
    assert loud.returncode == 0, loud.stderr
    assert "Running upgrade" in loud.stderr and "Context impl SQLiteImpl" in loud.stderr


def test_an_unreachable_database_is_one_line_in_a_real_process(tmp_path) -> None:
    url = f"postgresql://huntaze:pw-{os.getpid()}@127.0.0.1:{closed_port()}/huntaze"
    done = _huntaze(["worker"], url, tmp_path)
    assert done.returncode == 1
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith(
        "error: cannot use the database postgresql+psycopg://huntaze:***@"
    )
    assert f"pw-{os.getpid()}" not in done.stderr
