"""The campaigns domain's named errors (docs/api.md "Errors")."""

from __future__ import annotations

from huntaze.kit.errors import Conflict, DomainError, NotFound


class CampaignNotFound(NotFound):
    """404 ``campaign_not_found``: no such campaign for this creator."""

    error_code = "campaign_not_found"
    default_message = "Campaign not found"


class InvalidTransition(Conflict):
    """409 ``invalid_transition``: the campaign's status does not allow this action;
    ``details`` give ``from`` and ``to``."""

    error_code = "invalid_transition"
    default_message = "The campaign's status does not allow this"


class CampaignNotEditable(Conflict):
    """409 ``campaign_not_editable``: only a draft or scheduled campaign is changed; a
    launched one is duplicated instead."""

    error_code = "campaign_not_editable"
    default_message = "Only a draft or scheduled campaign can be changed"


class CampaignNotFinished(Conflict):
    """409 ``campaign_not_finished``: messages of the campaign are still waiting or being
    sent; ``details`` count them."""

    error_code = "campaign_not_finished"
    default_message = "Messages of this campaign have not ended yet"


class MissingContent(DomainError):
    """422 ``missing_content``: a platform the campaign sends on has no content (neither its
    own nor ``default``)."""

    http_status = 422
    error_code = "missing_content"
    default_message = "A platform of this campaign has no content"


class AbTestNotFound(NotFound):
    """404 ``ab_test_not_found``: the campaign has no A/B test."""

    error_code = "ab_test_not_found"
    default_message = "This campaign has no A/B test"


class NoWinner(Conflict):
    """409 ``no_winner``: the A/B test has no winner yet (``details`` give the reason:
    ``not_significant``, ``samples_too_small`` or ``sample_ratio_mismatch``), or it was
    already applied."""

    error_code = "no_winner"
    default_message = "The A/B test has no winner to apply"


class TemplateNotFound(NotFound):
    """404 ``template_not_found``: no built-in template and no template of this creator has
    this id."""

    error_code = "template_not_found"
    default_message = "Template not found"
