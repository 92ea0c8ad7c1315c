"""The inbox answers only the statuses its OpenAPI document lists (schemathesis's status
check): opening a conversation that is already open answers a documented 200."""

from __future__ import annotations


def test_opening_an_open_conversation_answers_a_documented_200(client, tenant) -> None:
    h = tenant["headers"]
    fan = client.post(
        "/api/crm/fans", json={"platform": "onlyfans", "platformFanId": "o1"}, headers=h
    ).json()
    documented = client.get("/openapi.json").json()["paths"]["/api/crm/conversations"]["post"]
    for expected in (201, 200):
        r = client.post("/api/crm/conversations", json={"fanId": fan["id"]}, headers=h)
        assert r.status_code == expected
        assert str(r.status_code) in documented["responses"]
    schema = documented["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/ConversationOut"}
