"""Sending-account settings: the URL checks and the masking the API shows them with.

The URLs an account names (``settings.relayUrl``, ``settings.smtpUrl``) are user-given hosts
the server will connect to, so they are checked when set (create and PATCH, through
:func:`validate_settings`) as well as at connect time (:mod:`huntaze.kit.netguard`), and shown
with their credentials masked (:func:`public_settings`). The account service
(:mod:`huntaze.messaging.accounts`) calls these.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from huntaze.config import Settings
from huntaze.kit.errors import ApiError
from huntaze.kit.netguard import (
    TargetPolicy,
    UnresolvableTarget,
    UnsafeTarget,
    check_address,
    check_target,
    literal_address,
)
from huntaze.kit.redact import redact_value
from huntaze.platforms.base import PermanentError
from huntaze.platforms.email.smtp_url import parse_smtp_url
from huntaze.platforms.onlyfans.relay import parse_relay_url


def url_policy(settings: Settings) -> TargetPolicy:
    """The address guard's policy from the operator's settings
    (``HUNTAZE_ALLOW_PRIVATE_URLS``, ``HUNTAZE_ALLOWED_PRIVATE_TARGETS``).

    Raises:
        ValueError: ``allowed_private_targets`` is malformed (an operator error).
    """
    return TargetPolicy.parse(settings.allow_private_urls, settings.allowed_private_targets)


#: The settings that name a host the server connects to.
URL_SETTINGS = ("relayUrl", "smtpUrl")


def _url_host_port(key: str, url: str) -> tuple[str, int]:
    """Host and port of an account URL (shape checked by the channel's own parser).

    Raises:
        PermanentError: the URL is malformed, with a reason that never repeats it.
    """
    if key == "relayUrl":
        _scheme, host, port = parse_relay_url(url)
        return host, port
    target = parse_smtp_url(url)
    return target.host, target.port


def validate_settings(values: Mapping[str, Any], policy: TargetPolicy | None) -> dict[str, Any]:
    """Check the URLs among an account's ``settings`` and return the settings as a dict.

    ``relayUrl`` must be an ``http(s)://`` URL and ``smtpUrl`` an ``smtp://`` or ``smtps://``
    URL (an empty string means "use the server's default"). Their host must be allowed by the
    address guard (:func:`huntaze.kit.netguard.check_target`): when private targets are
    refused the name is resolved now and every address checked; when the operator allows
    them, only IP literals are checked here (names are resolved at connect time, where the
    check runs again anyway). With ``policy=None`` (trusted callers: fixtures, the demo) only
    the shape is checked; channels still apply the guard at connect time.

    Raises:
        ApiError: 422 ``invalid_url`` (not a string, malformed, or the host does not resolve)
            or 422 ``unsafe_url`` (the host is or resolves to a refused address), with
            ``details: [{"field": "settings.<key>"}]``. Messages never repeat the URL.
    """
    checked = dict(values)
    for key in URL_SETTINGS:
        if key not in checked or checked[key] in (None, ""):
            continue
        field = f"settings.{key}"
        url = checked[key]
        if not isinstance(url, str):
            raise ApiError(422, "invalid_url", f"{field} must be a string", [{"field": field}])
        try:
            host, port = _url_host_port(key, url)
        except PermanentError as exc:
            raise ApiError(
                422, "invalid_url", f"{field}: {exc.reason}", [{"field": field}]
            ) from None
        if policy is None:
            continue
        try:
            if policy.allow_private:
                literal = literal_address(host)
                if literal is not None:
                    check_address(literal, host, port, policy)
            else:
                check_target(host, port, policy)
        except UnsafeTarget as exc:
            hint = (
                ""
                if not exc.overridable
                else " (the server's operator can allow private "
                "targets with HUNTAZE_ALLOW_PRIVATE_URLS)"
            )
            raise ApiError(
                422,
                "unsafe_url",
                f"{field}: host {exc.host} resolves to a {exc.rule} address, which this server "
                f"does not connect to{hint}",
                [{"field": field}],
            ) from None
        except UnresolvableTarget as exc:
            raise ApiError(
                422,
                "invalid_url",
                f"{field}: host {exc.host} does not resolve",
                [{"field": field}],
            ) from None
    return checked


def public_settings(values: Mapping[str, Any] | None) -> dict[str, Any]:
    """An account's settings as the API shows them: URL userinfo passwords, secret-looking
    query values and values under secret-looking keys replaced by ``***``
    (:func:`huntaze.kit.redact.redact_value`)."""
    shown = redact_value(dict(values or {}))
    return shown if isinstance(shown, dict) else {}


def keep_masked(new: Mapping[str, Any], old: Mapping[str, Any]) -> dict[str, Any]:
    """``new`` settings where a value sent back exactly as :func:`public_settings` showed it
    (masked) keeps the stored value, so reading an account and PATCHing its settings back
    does not replace a password with ``***``."""
    merged = dict(new)
    for key, value in new.items():
        if key in old and value != old[key] and value == public_settings({key: old[key]})[key]:
            merged[key] = old[key]
    return merged
