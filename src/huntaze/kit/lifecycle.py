"""Background servers used as context managers: ``with`` starts them, leaving stops them.

A class with ``start()`` (returning the started object) and ``stop()`` inherits
:class:`StartStop` to be usable as ``with Server() as server: ...``.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self


class StartStop:
    """``__enter__`` returns :meth:`start`'s result; ``__exit__`` calls :meth:`stop` (and lets
    any exception through). Subclasses define both methods."""

    def start(self) -> Self:
        """Start serving and return ``self``."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop serving."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
