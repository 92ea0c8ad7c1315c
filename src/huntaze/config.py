"""Settings, read from the environment with the ``HUNTAZE_`` prefix (pydantic-settings)."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from huntaze.kit.crypto import SecretBox


class Settings(BaseSettings):
    """Huntaze's settings.

    Attributes:
        database_url: SQLAlchemy URL. Default ``sqlite:///./huntaze.db`` (WAL on); PostgreSQL
            through ``postgresql+psycopg://user@host/db``.
        db_pool_size: database connections each process's pool keeps, opened as needed
            (default 50); up to 10 more open for a burst. Requests run in a pool of 40 threads
            and hold at most one connection each, only while a transaction is open, so 50
            covers them plus the in-process worker. Lower it when many processes share a
            PostgreSQL server's ``max_connections``: requests then wait for a connection (up to
            30 s) rather than failing.
        secret_keys: comma-separated Fernet keys (urlsafe base64, 32 bytes) for platform tokens
            at rest. The first encrypts; all decrypt, so a new key is rotated in by putting it
            first. Empty means a key derived from ``secret_key_file`` (created on first use).
        secret_key_file: where the generated key lives when ``secret_keys`` is empty.
        log_level: ``DEBUG``, ``INFO``, ``WARNING``…
        log_json: JSON log lines (for production) instead of the console renderer.
        host, port: the listen address of ``huntaze serve``.
        import_max_bytes: the largest upload ``POST /api/crm/import`` takes (bytes); bigger files
            answer 413 and go through ``huntaze import``.
        import_batch_size: rows per database batch while importing.
        smtp_url: default SMTP server for the email channel: ``smtp://user:pass@host:587``
            (STARTTLS when the server offers it), ``smtps://…`` (TLS from the start).
        email_from: default sender address of the email channel.
        onlyfans_relay_url, onlyfans_relay_secret: default OnlyFans relay (docs/relay.md) for
            a creator's account with no settings of its own.
        send_limits: JSON object of platform -> limits in the ``limits`` library's notation,
            several windows joined by ``;`` (``{"onlyfans": "10/minute;300/hour"}``).
        metrics_token: when set, ``/metrics`` wants it as a bearer token.
        lease_seconds: how long a worker holds a claimed message before another may take it.
        low_priority_max_age_seconds: a queued message older than this is served as high
            priority, so low priority is never starved.
        max_attempts: send attempts before a message fails (the seed's 3).
        max_retry_delay_seconds: the longest a retry waits, whatever a platform's
            ``Retry-After`` or the backoff asks (one hour by default).
        send_limit_guard_seconds: added to every send-rate window when counting, so the
            jitter between the moment Huntaze stamps an attempt and the moment the platform
            receives it can never put N + 1 sends in one of the platform's windows.
        allow_private_urls: let sending accounts reach private, loopback and link-local
            addresses (a relay or SMTP server on the self-hoster's own network). Off: such
            targets are refused at create, at PATCH and again at connect time.
        allowed_private_targets: comma-separated ``host:port`` pairs reachable even when
            ``allow_private_urls`` is off (``serve --demo`` puts its own loopback fakes here).
        segment_refresh_seconds: how often workers re-evaluate each dynamic segment, so its
            membership events follow the fans (one hour by default).
        public_url: the address fans reach this Huntaze at (``https://hz.example.com``):
            tracked campaign links point to ``<public_url>/t/…``. Empty means
            ``http://<host>:<port>``, which only suits a trial on one machine.
    """

    model_config = SettingsConfigDict(env_prefix="HUNTAZE_", env_file=None, extra="ignore")

    database_url: str = "sqlite:///./huntaze.db"
    db_pool_size: int = Field(default=50, ge=1, le=1000)
    secret_keys: SecretStr = SecretStr("")
    secret_key_file: str = "./huntaze.key"  # noqa: S105 - a path
    log_level: str = "INFO"
    log_json: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    import_max_bytes: int = Field(default=50 * 1024 * 1024, ge=1)
    import_batch_size: int = Field(default=10_000, ge=1, le=100_000)
    smtp_url: SecretStr = SecretStr("")
    email_from: str = ""
    onlyfans_relay_url: str = ""
    onlyfans_relay_secret: SecretStr = SecretStr("")
    send_limits: str = '{"onlyfans": "10/minute"}'
    metrics_token: SecretStr = SecretStr("")
    lease_seconds: float = Field(default=60.0, gt=0)
    low_priority_max_age_seconds: float = Field(default=600.0, gt=0)
    max_attempts: int = Field(default=3, ge=1, le=50)
    max_retry_delay_seconds: float = Field(default=3600.0, gt=0, le=7 * 86400)
    send_limit_guard_seconds: float = Field(default=0.5, ge=0, le=60)
    allow_private_urls: bool = False
    allowed_private_targets: str = ""
    segment_refresh_seconds: float = Field(default=3600.0, ge=60, le=30 * 86400)
    public_url: str = Field(
        default="", max_length=2000, pattern=r"^(|https?://[^\s/?#]+(/[^\s?#]*)?)$"
    )

    def public_base(self) -> str:
        """``public_url`` without its trailing slash, else ``http://<host>:<port>``."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read once from the environment."""
    return Settings()


def box_from_settings(settings: Settings) -> SecretBox:
    """The :class:`~huntaze.kit.crypto.SecretBox` of ``HUNTAZE_SECRET_KEYS``, else of the key
    in ``HUNTAZE_SECRET_KEY_FILE`` (created on first use); see
    :func:`huntaze.kit.crypto.load_box`.

    Raises:
        ValueError: if a key is malformed.
        OSError: if the key file cannot be read or created.
    """
    from huntaze.kit.crypto import load_box  # cryptography loads only when a box is needed

    return load_box(settings.secret_keys.get_secret_value(), settings.secret_key_file)
