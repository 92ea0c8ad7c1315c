"""Named domain errors: each code names one entity, and the API answers it in the one error
body (issue 10, "Named errors")."""

from __future__ import annotations

import importlib
import pkgutil

import huntaze
from huntaze.kit.errors import DomainError


def _all_error_classes() -> list[type[DomainError]]:
    for info in pkgutil.walk_packages(huntaze.__path__, "huntaze."):
        if info.name.endswith(".errors"):
            importlib.import_module(info.name)
    found: list[type[DomainError]] = []
    todo = list(DomainError.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.error_code:
            found.append(cls)
    return found


def test_every_domain_error_has_its_own_code() -> None:
    classes = _all_error_classes()
    names = {cls.__name__ for cls in classes}
    assert {"FanNotFound", "InboxMessageNotFound", "MessageNotFound", "TokenNotFound"} <= names
    codes = [cls.error_code for cls in classes]
    assert len(codes) == len(set(codes)), sorted(codes)
    for cls in classes:
        err = cls()
        assert err.body()["error"]["code"] == cls.error_code
        assert err.status in (400, 404, 409, 422)


def test_the_two_messages_answer_two_codes(client, tenant) -> None:  # type: ignore[no-untyped-def]
    h = tenant["headers"]
    outbox = client.get("/api/messages/msg_0000000000000000000000nothing", headers=h)
    inbox = client.post("/api/crm/messages/cmsg_000000000000000000000nothing/read", headers=h)
    assert (outbox.status_code, inbox.status_code) == (404, 404)
    assert outbox.json()["error"]["code"] == "message_not_found"
    assert inbox.json()["error"]["code"] == "inbox_message_not_found"
    assert outbox.json()["error"]["message"] != inbox.json()["error"]["message"]
