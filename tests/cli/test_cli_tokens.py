"""``huntaze token create | list | revoke``, checked where the world sees them: the output,
the exit code, and what the printed tokens can do through the API."""

from __future__ import annotations

import json

from huntaze.auth.tokens import hash_token
from tests.cli.cli_support import error_lines, handle, run_cli


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _create(db_url, tmp_path, *args: str) -> tuple[str, str]:
    """Run ``token create ARGS``; return the token (stdout's last line) and stderr."""
    done = run_cli(["token", "create", *args], db_url, tmp_path)
    assert done.exit_code == 0, done.output
    return done.stdout.strip().splitlines()[-1], done.stderr


def test_token_create_needs_create_creator_for_a_new_creator(
    db_url, tmp_path, make_tenant, client
) -> None:
    known = make_tenant(handle=handle())["handle"]
    new = handle()
    done = run_cli(["token", "create", "--creator", new], db_url, tmp_path)
    assert done.exit_code == 2 and done.stdout == ""
    (line,) = error_lines(done)
    assert f"no creator '{new}'" in line and known in line and "--create-creator" in line
    secret, said = _create(db_url, tmp_path, "--creator", new, "--create-creator")
    assert secret.startswith("hz_")
    assert f"created creator '{new}'" in said
    assert f"for owner@{new}.local (owner on {new}) in " in said and "shown once" in said
    me = client.get("/api/me", headers=_bearer(secret)).json()
    assert me["role"] == "owner"


def test_changing_a_members_role_needs_change_role_and_is_said(
    db_url, tmp_path, make_tenant, client
) -> None:
    """Issue 9: ``token create --email <existing user> --role X`` silently changed that
    user's role for all their tokens."""
    owner = make_tenant()
    email = f"{handle('m')}@example.test"
    first, _ = _create(
        db_url, tmp_path, "--creator", owner["handle"], "--email", email, "--role", "chatter"
    )
    assert client.get("/api/me", headers=_bearer(first)).json()["role"] == "chatter"

    refused = run_cli(
        ["token", "create", "--creator", owner["handle"], "--email", email, "--role", "manager"],
        db_url,
        tmp_path,
    )
    assert refused.exit_code == 2 and refused.stdout == ""
    (line,) = error_lines(refused)
    assert f"{email} is a chatter on {owner['handle']}" in line
    assert "--change-role" in line
    assert client.get("/api/me", headers=_bearer(first)).json()["role"] == "chatter"

    # the same role, or none, keeps it
    kept, said = _create(db_url, tmp_path, "--creator", owner["handle"], "--email", email)
    assert f"({'chatter'} on {owner['handle']})" in said and "changed" not in said
    assert client.get("/api/me", headers=_bearer(kept)).json()["role"] == "chatter"

    second, said = _create(
        db_url,
        tmp_path,
        "--creator",
        owner["handle"],
        "--email",
        email,
        "--role",
        "manager",
        "--change-role",
    )
    assert (
        f"changed {email}'s role on {owner['handle']} from chatter to manager: all their "
        "tokens now act as manager"
    ) in said
    for token in (first, kept, second):
        assert client.get("/api/me", headers=_bearer(token)).json()["role"] == "manager"


def test_the_only_owner_cannot_be_changed_away(db_url, tmp_path, make_tenant, client) -> None:
    owner = make_tenant()
    email = f"owner@{owner['handle']}.local"
    done = run_cli(
        [
            *("token", "create", "--creator", owner["handle"], "--email", email),
            *("--role", "analyst", "--change-role"),
        ],
        db_url,
        tmp_path,
    )
    assert done.exit_code == 2
    assert error_lines(done)[0].startswith("error: last_owner: ")
    assert client.get("/api/me", headers=owner["headers"]).json()["role"] == "owner"


def test_list_and_revoke(db_url, tmp_path, make_tenant, client) -> None:
    owner = make_tenant()
    other = make_tenant()
    secret, _ = _create(
        db_url,
        tmp_path,
        "--creator",
        owner["handle"],
        "--email",
        f"{handle('c')}@example.test",
        "--role",
        "chatter",
        "--name",
        "night shift",
    )
    listed = run_cli(["token", "list", "--creator", owner["handle"], "--json"], db_url, tmp_path)
    assert listed.exit_code == 0, listed.output
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(r["name"], r["role"]) for r in rows] == [
        ("night shift", "chatter"),
        ("owner token", "owner"),
    ]
    new_id = rows[0]["id"]
    assert rows[0]["prefix"] == secret[:8] and rows[0]["revokedAt"] is None
    for text in (secret, hash_token(secret), owner["token"], hash_token(owner["token"])):
        assert text not in listed.output

    table = run_cli(["token", "list", "--creator", owner["handle"]], db_url, tmp_path)
    assert table.exit_code == 0
    header, *lines = table.stdout.splitlines()
    assert header.split()[:4] == ["ID", "NAME", "PREFIX", "USER"]
    assert len(lines) == 2 and lines[0].startswith(new_id) and "night shift" in lines[0]
    assert "2 tokens in " in table.stderr
    everyone = run_cli(["token", "list", "--json"], db_url, tmp_path)
    ids = {json.loads(line)["id"] for line in everyone.stdout.splitlines()}
    assert new_id in ids and len(ids) >= 3
    theirs = run_cli(["token", "list", "--creator", other["handle"], "--json"], db_url, tmp_path)
    assert new_id not in theirs.stdout

    assert client.get("/api/me", headers=_bearer(secret)).status_code == 200
    revoked = run_cli(["token", "revoke", new_id], db_url, tmp_path)
    assert revoked.exit_code == 0, revoked.output
    assert revoked.stdout.strip().startswith(f"revoked {new_id} (night shift, ")
    r = client.get("/api/me", headers=_bearer(secret))
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated"
    assert client.get("/api/me", headers=owner["headers"]).status_code == 200
    again = run_cli(["token", "revoke", new_id], db_url, tmp_path)
    assert again.exit_code == 0 and "was already revoked at" in again.stdout
    active = run_cli(
        ["token", "list", "--creator", owner["handle"], "--active", "--json"], db_url, tmp_path
    )
    assert new_id not in active.stdout and len(active.stdout.splitlines()) == 1
    unknown = run_cli(["token", "revoke", "tok_nope"], db_url, tmp_path)
    assert unknown.exit_code == 2 and "no token 'tok_nope'" in unknown.stderr


def test_bad_values_are_refused_before_anything_is_written(
    db_url, tmp_path, make_tenant, client
) -> None:
    owner = make_tenant()
    for args, says in (
        (["--email", "nobody.example.test"], "--email 'nobody.example.test': not an email"),
        (["--email", "a@b.test\r\nBcc: c@d.test"], "no spaces, line breaks"),
        (["--name", "x" * 256], "--name: at most 255 characters"),
        (["--name", "nul\x00"], "--name: must not contain the NUL character"),
        (["--role", "admin"], "not a role"),
    ):
        done = run_cli(["token", "create", "--creator", owner["handle"], *args], db_url, tmp_path)
        assert done.exit_code == 2, (args, done.output)
        assert says in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.output
    assert len(client.get("/api/tokens", headers=owner["headers"]).json()["items"]) == 1
