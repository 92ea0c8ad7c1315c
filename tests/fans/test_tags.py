"""Tags match whatever their case: through the API, through imports, and in the demo data."""

from __future__ import annotations

import json
from importlib import resources

from sqlalchemy import text

from huntaze.demo import SAMPLES

MAPPING = {"key": "id", "username": "handle", "tags": "tags"}


def _names(client, h, **params):  # type: ignore[no-untyped-def]
    r = client.get("/api/crm/fans", params=params, headers=h)
    assert r.status_code == 200, r.text
    return sorted(f["username"] for f in r.json()["items"])


def _create(client, h, key, tags, platform="onlyfans"):  # type: ignore[no-untyped-def]
    body = {"platform": platform, "platformFanId": key, "username": f"u{key}", "tags": tags}
    r = client.post("/api/crm/fans", json=body, headers=h)
    assert r.status_code == 201, r.text
    return r.json()


def _import(client, h, csv_text, platform="fansly"):  # type: ignore[no-untyped-def]
    r = client.post(
        "/api/crm/import",
        files={"file": ("fans.csv", csv_text.encode())},
        data={"format": "generic_csv", "platform": platform, "mapping": json.dumps(MAPPING)},
        headers=h,
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_the_tag_filter_matches_any_case_and_keeps_each_spelling(client, tenant) -> None:
    h = tenant["headers"]
    _create(client, h, "1", ["VIP"])
    _create(client, h, "2", ["vip", "whale"])
    _create(client, h, "3", ["Vip"], platform="patreon")
    _create(client, h, "4", ["Straße"])
    _create(client, h, "5", ["vipx"])
    full_width = "\uff36\uff49\uff50"  # "Vip" in full-width letters, "Vip" under NFKC
    for given in ("vip", "VIP", " vIp ", full_width):
        assert _names(client, h, tag=given) == ["u1", "u2", "u3"], given
    assert _names(client, h, tag="vip", platform="onlyfans") == ["u1", "u2"]
    assert _names(client, h, tag="STRASSE") == ["u4"]
    items = client.get("/api/crm/fans", headers=h).json()["items"]
    items.sort(key=lambda f: f["username"])
    assert [f["tags"] for f in items] == [["VIP"], ["vip", "whale"], ["Vip"], ["Straße"], ["vipx"]]


def test_one_fan_holds_one_spelling_of_a_tag(client, tenant, engine) -> None:
    h = tenant["headers"]
    fan = _create(client, h, "1", ["VIP", "vip", "Vip", "b"])
    assert fan["tags"] == ["VIP", "b"]
    fan = client.put(
        f"/api/crm/fans/{fan['id']}",
        json={"platform": "onlyfans", "platformFanId": "1", "tags": ["vip", "B"]},
        headers=h,
    ).json()
    assert fan["tags"] == ["B", "vip"]  # a replace respells
    patched = client.patch(f"/api/crm/fans/{fan['id']}", json={"tags": ["ViP"]}, headers=h)
    assert patched.json()["tags"] == ["ViP"]
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT tag, tag_key FROM fan_tags WHERE fan_id = :f"), {"f": fan["id"]}
        ).all()
    assert [tuple(r) for r in rows] == [("ViP", "vip")]


def test_an_import_adds_no_second_spelling_and_keeps_the_stored_one(client, tenant) -> None:
    h = tenant["headers"]
    first = _import(client, h, "id,handle,tags\nk1,ana,VIP\nk2,bo,vip;VIP;whale\n")
    assert (first["inserted"], first["rejected"]) == (2, 0)
    again = _import(client, h, "id,handle,tags\nk1,ana,vip|Whale\nk2,bo,Vip\n")
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 1, 1)
    items = client.get("/api/crm/fans", headers=h).json()["items"]
    assert {f["username"]: f["tags"] for f in items} == {
        "ana": ["VIP", "Whale"],
        "bo": ["vip", "whale"],
    }
    assert _names(client, h, tag="vip") == ["ana", "bo"]
    assert _names(client, h, tag="WHALE") == ["ana", "bo"]
    # a fan made through the API and tagged by a file: one tag, the API's spelling
    _create(client, h, "k3", ["Fans"], platform="fansly")
    _import(client, h, "id,handle,tags\nk3,uk3,FANS\n")
    assert _names(client, h, tag="fans") == ["uk3"]
    uk3 = client.get("/api/crm/fans", params={"q": "uk3"}, headers=h).json()["items"][0]
    assert uk3["tags"] == ["Fans"]


def _sample(name: str) -> bytes:
    return (resources.files("huntaze.demo") / "samples" / name).read_bytes()


def test_the_demo_vip_tag_is_one_tag_on_every_platform(client, tenant) -> None:
    """The demo's OnlyFans list is named ``VIP`` and its generic CSV (platform fansly) says
    ``vip``: before, ``tag=vip`` found the 9 fansly fans, ``tag=VIP`` the 12 OnlyFans fans,
    and ``platform=onlyfans&tag=vip`` none."""
    h = tenant["headers"]
    for filename, fmt, platform, mapping in SAMPLES:
        if filename in ("onlyfans_fans.json", "generic_fans.csv"):
            data = {"format": fmt}
            if mapping:
                data |= {"platform": platform or "", "mapping": json.dumps(mapping)}
            r = client.post(
                "/api/crm/import",
                files={"file": (filename, _sample(filename))},
                data=data,
                headers=h,
            )
            assert r.status_code == 200, r.text

    def count(**params):  # type: ignore[no-untyped-def]
        r = client.get("/api/crm/fans", params={"limit": 500, **params}, headers=h)
        return len(r.json()["items"])

    assert count(tag="vip") == count(tag="VIP") == 21
    assert count(platform="onlyfans", tag="vip") == 12
    assert count(platform="fansly", tag="VIP") == 9
