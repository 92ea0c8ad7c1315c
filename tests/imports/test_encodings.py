"""Import files are read in their own encoding (UTF-8 with or without a BOM, UTF-16 with a
BOM, cp1252, Latin-1), the report names it, and bytes that decode in none of them are a 422
that writes nothing, never replacement characters."""

from __future__ import annotations

import codecs
import json

import pytest

from tests.imports.upload import PATREON_HEADER, fans, member, post

GENERIC = {"key": "id", "displayName": "name", "email": "email"}
CSV = "id,name,email\r\n1,jürgen,j@example.com\r\n2,Zoë “Z” Ødegaard,z@example.com\r\n"
NAMES = sorted(["jürgen", "Zoë “Z” Ødegaard"])


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (CSV.encode("cp1252"), "cp1252"),
        (CSV.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + CSV.encode("utf-8"), "utf-8-sig"),
        (codecs.BOM_UTF16_LE + CSV.encode("utf-16-le"), "utf-16-le"),
        (codecs.BOM_UTF16_BE + CSV.encode("utf-16-be"), "utf-16-be"),
    ],
    ids=["cp1252", "utf-8", "utf-8-bom", "utf-16-le-bom", "utf-16-be-bom"],
)
def test_each_encoding_is_read_and_named(client, tenant, data, encoding) -> None:
    h = tenant["headers"]
    r = post(client, h, data, mapping=GENERIC)
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["encoding"], report["inserted"], report["rejected"]) == (encoding, 2, 0)
    assert sorted(f["displayName"] for f in fans(client, h)) == NAMES


def test_latin1_text_reads_right(client, tenant) -> None:
    h = tenant["headers"]
    data = "id,name\n1,José Françoise Ñúñez\n".encode("latin-1")
    report = post(client, h, data, mapping={"key": "id", "displayName": "name"}).json()
    # cp1252 reads every Latin-1 letter the same; it is the name charset-normalizer gives
    assert report["encoding"] in ("cp1252", "latin-1") and report["inserted"] == 1
    assert fans(client, h)[0]["displayName"] == "José Françoise Ñúñez"


def test_a_patreon_export_resaved_as_utf16_imports(client, tenant) -> None:
    h = tenant["headers"]
    body = PATREON_HEADER + member("1", "Jürgen") + member("2", "李小龙")
    r = post(client, h, body.encode("utf-16"))
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["format"], report["inserted"], report["rejected"]) == ("patreon_members", 2, 0)
    assert report["encoding"] in ("utf-16-le", "utf-16-be")
    assert sorted(f["displayName"] for f in fans(client, h)) == ["Jürgen", "李小龙"]


def test_an_ascii_head_then_cp1252_later_is_read_as_cp1252(client, tenant) -> None:
    h = tenant["headers"]
    rows = "".join(f"{i},fan {i},f{i}@example.com\r\n" for i in range(3000))  # > 64 KiB
    data = ("id,name,email\r\n" + rows + "9999,jürgen,j@example.com\r\n").encode("cp1252")
    report = post(client, h, data, mapping=GENERIC).json()
    assert (report["encoding"], report["inserted"], report["rejected"]) == ("cp1252", 3001, 0)
    assert fans(client, h, q="rgen")[0]["displayName"] == "jürgen"


def test_invalid_utf8_late_in_a_utf8_file_is_a_422_that_writes_nothing(client, tenant) -> None:
    h = tenant["headers"]
    rows = "".join(f"{i},fän {i},f{i}@example.com\r\n" for i in range(3000))
    head = ("id,name,email\r\n" + rows).encode("utf-8")
    data = head + b"9999,j\xfcrgen,j@example.com\r\n"  # one cp1252 byte, line 3002
    r = post(client, h, data, mapping=GENERIC)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_file"
    assert "UTF-8" in error["message"] and "0xfc" in error["message"]
    detail = error["details"][0]
    assert (detail["line"], detail["offset"]) == (3002, len(head) + 6)
    assert fans(client, h) == []


def test_a_small_file_mixing_utf8_and_cp1252_is_a_422_not_mojibake(client, tenant) -> None:
    h = tenant["headers"]
    data = "id,name\n1,zoë\n".encode() + b"2,j\xfcrgen\n"  # the whole file is the head
    r = post(client, h, data, mapping={"key": "id", "displayName": "name"})
    assert r.status_code == 422, r.text
    detail = r.json()["error"]["details"][0]
    assert (detail["line"], detail["offset"]) == (3, len("id,name\n1,zoë\n".encode()) + 3)
    assert fans(client, h) == []


def test_text_in_no_supported_encoding_is_a_422(client, tenant) -> None:
    h = tenant["headers"]
    data = "id,name\n1,Иван Петров\n2,Мария\n".encode("cp1251")
    r = post(client, h, data, mapping={"key": "id", "displayName": "name"})
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_file" and error["details"][0]["line"] == 2
    assert fans(client, h) == []


def test_json_exports_in_utf16_or_with_a_bom_import(client, tenant) -> None:
    h = tenant["headers"]
    doc = {"list": [{"id": 7, "username": "zoe", "name": "Zoë", "subscribedOn": True}]}
    text = json.dumps(doc, ensure_ascii=False)
    for data, encoding in (
        (text.encode("utf-16"), ("utf-16-le", "utf-16-be")),
        (codecs.BOM_UTF8 + text.encode(), ("utf-8-sig",)),
    ):
        report = post(client, h, data).json()
        assert report["format"] == "onlyfans_fans" and report["encoding"] in encoding
        assert report["inserted"] + report["unchanged"] == 1 and report["rejected"] == 0
    assert [f["displayName"] for f in fans(client, h)] == ["Zoë"]
