"""Link tokens: signed so that only this Huntaze makes them, still valid after a key
rotation, and rewriting only a campaign's messages."""

from __future__ import annotations

from cryptography.fernet import Fernet

from huntaze.kit.crypto import SecretBox
from huntaze.platforms.base import OutgoingMessage
from huntaze.tracking.links import PURPOSE, LinkRewriter, LinkSigner, allows, links_in


def _message(content: str, campaign_id: str | None) -> OutgoingMessage:
    return OutgoingMessage("msg_1", "k", "acc", "onlyfans", "u1", content, campaign_id=campaign_id)


def test_links_signed_before_a_key_rotation_still_open() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    before = LinkSigner(SecretBox([old]).subkeys(PURPOSE))
    after = LinkSigner(SecretBox([new, old]).subkeys(PURPOSE))
    stranger = LinkSigner(SecretBox([new]).subkeys(PURPOSE))
    token = before.token("msg_1", 2)
    assert after.open(token) == ("msg_1", 2)
    assert stranger.open(token) is None
    assert after.token("msg_1", 2) != token  # the newest key signs
    # the encryption key and the signing key differ: a subkey is not the key it came from
    assert SecretBox([old]).subkeys(PURPOSE)[0] != Fernet(old.encode())._signing_key


def test_only_a_campaigns_message_is_rewritten_and_the_same_on_every_attempt() -> None:
    rewrite = LinkRewriter(LinkSigner([b"k" * 32]), "https://hz.example.com/")
    text = "See https://a.example/x, and (https://b.example/y)."
    plain = _message(text, None)
    assert rewrite(plain) is plain
    first = rewrite(_message(text, "camp_1")).content
    assert first == rewrite(_message(text, "camp_1")).content
    assert links_in(first) == [
        f"https://hz.example.com/t/{LinkSigner([b'k' * 32]).token('msg_1', i)}" for i in (0, 1)
    ]
    assert first.startswith("See https://hz.example.com/t/") and first.endswith(").")


def test_a_placeholder_in_a_link_matches_its_personalised_value_only_there() -> None:
    templates = ["Hi {username}: https://shop.example/p?u={username}&ref=hz"]
    assert allows(templates, "https://shop.example/p?u=anna&ref=hz")
    assert not allows(templates, "https://evil.example/p?u=anna&ref=hz")
    assert not allows(templates, "https://shop.example/p?u=anna&ref=hz#x")
    assert not allows([], "https://shop.example/p")
