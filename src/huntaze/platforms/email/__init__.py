"""Email: an SMTP channel (:class:`EmailChannel`) and a loopback fake SMTP server for tests."""

from huntaze.platforms.email.channel import EmailChannel
from huntaze.platforms.email.smtp_url import SmtpTarget, parse_smtp_url

__all__ = ["EmailChannel", "SmtpTarget", "parse_smtp_url"]
