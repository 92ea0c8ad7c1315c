"""Fans: the creator's fans, their purchases and tags, and the audience filter."""
