"""Roles of organisations and the OAuth2 scopes each may be granted."""

from __future__ import annotations

from enum import StrEnum

from domain.errors import Forbidden, RuleViolation


class Role(StrEnum):
    OPERATOR = "operator"
    VERIFIER = "verifier"
    PROJECT_OWNER = "project_owner"
    ENTERPRISE = "enterprise"
    BANK = "bank"
    CERTIFIER = "certifier"


class Scope(StrEnum):
    """What a token may do. A route declares the scope it needs; a token holds a subset of its role's scopes."""

    PROFILE = "profile"
    ORGANISATION_ADMIN = "organisation:admin"
    ACCOUNTS_READ = "accounts:read"
    LEDGER_WRITE = "ledger:write"
    REGISTRY_OPERATE = "registry:operate"
    PROJECTS_WRITE = "projects:write"
    VERIFICATION_WRITE = "verification:write"
    CREDITS_MANAGE = "credits:manage"
    MARKET_TRADE = "market:trade"
    PLEDGES_MANAGE = "pledges:manage"
    LABELS_CERTIFY = "labels:certify"
    LABELS_PRODUCE = "labels:produce"


_COMMON = frozenset({Scope.PROFILE, Scope.ORGANISATION_ADMIN, Scope.ACCOUNTS_READ})

ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.OPERATOR: _COMMON | {Scope.LEDGER_WRITE, Scope.REGISTRY_OPERATE},
    Role.VERIFIER: _COMMON | {Scope.VERIFICATION_WRITE},
    Role.PROJECT_OWNER: _COMMON
    | {Scope.PROJECTS_WRITE, Scope.CREDITS_MANAGE, Scope.MARKET_TRADE, Scope.LABELS_PRODUCE},
    Role.ENTERPRISE: _COMMON | {Scope.CREDITS_MANAGE, Scope.MARKET_TRADE, Scope.LABELS_PRODUCE},
    Role.BANK: _COMMON | {Scope.PLEDGES_MANAGE, Scope.MARKET_TRADE},
    Role.CERTIFIER: _COMMON | {Scope.LABELS_CERTIFY},
}


def grantable_scopes(role: Role, requested: frozenset[str] | None) -> frozenset[Scope]:
    """The scopes a token gets: all of the role's when none are asked for, else the asked ones the role holds.

    Asking for a scope the role does not hold is refused rather than silently dropped, so a client learns at once.
    """
    allowed = ROLE_SCOPES[role]
    if not requested:
        return allowed
    unknown = requested - {scope.value for scope in Scope}
    if unknown:
        raise RuleViolation(f"unknown scope(s): {', '.join(sorted(unknown))}", code="invalid_scope")
    wanted = frozenset(Scope(name) for name in requested)
    refused = wanted - allowed
    if refused:
        names = ", ".join(sorted(scope.value for scope in refused))
        raise Forbidden(f"role {role.value} cannot hold scope(s): {names}", code="invalid_scope")
    return wanted
