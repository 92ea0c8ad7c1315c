"""The campaign lifecycle (seed 004): which status each action moves a campaign to, from
which statuses. Any other move answers 409 ``invalid_transition``.

====================  ===================================  ==============
action                from                                 to
====================  ===================================  ==============
``schedule``          ``draft``, ``scheduled``             ``scheduled``
``start``/``launch``  ``draft``, ``scheduled``             ``active``
``pause``             ``active``                           ``paused``
``resume``            ``paused``                           ``active``
``complete``          ``active``, ``paused``               ``completed``
``cancel``            ``draft``, ``scheduled``, ``active``,  ``cancelled``
                      ``paused``
====================  ===================================  ==============
"""

from __future__ import annotations

from huntaze.campaigns.errors import InvalidTransition
from huntaze.models.campaigns import CampaignStatus

S = CampaignStatus
#: action -> (the statuses it may start from, the status it leads to)
MOVES: dict[str, tuple[frozenset[str], CampaignStatus]] = {
    "schedule": (frozenset({S.DRAFT, S.SCHEDULED}), S.SCHEDULED),
    "start": (frozenset({S.DRAFT, S.SCHEDULED}), S.ACTIVE),
    "pause": (frozenset({S.ACTIVE}), S.PAUSED),
    "resume": (frozenset({S.PAUSED}), S.ACTIVE),
    "complete": (frozenset({S.ACTIVE, S.PAUSED}), S.COMPLETED),
    "cancel": (frozenset({S.DRAFT, S.SCHEDULED, S.ACTIVE, S.PAUSED}), S.CANCELLED),
}
#: The statuses in which a campaign's fields may still change.
EDITABLE = frozenset({S.DRAFT, S.SCHEDULED})


def target(action: str, status: str) -> CampaignStatus:
    """The status ``action`` leads to from ``status``.

    Raises:
        InvalidTransition: 409 when ``action`` is not allowed from ``status``.
    """
    allowed, to = MOVES[action]
    if status not in allowed:
        raise InvalidTransition(
            f"A {status} campaign cannot {action}",
            [{"field": "status", "from": status, "to": str(to), "action": action}],
        )
    return to
