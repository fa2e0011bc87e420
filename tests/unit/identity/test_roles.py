from __future__ import annotations

import pytest

from domain.errors import Forbidden, RuleViolation
from domain.identity.roles import ROLE_SCOPES, Role, Scope, grantable_scopes


def test_every_role_can_read_its_profile_and_only_the_operator_writes_the_ledger() -> None:
    assert all(Scope.PROFILE in scopes for scopes in ROLE_SCOPES.values())
    assert [role for role, scopes in ROLE_SCOPES.items() if Scope.LEDGER_WRITE in scopes] == [Role.OPERATOR]
    assert [role for role, scopes in ROLE_SCOPES.items() if Scope.VERIFICATION_WRITE in scopes] == [Role.VERIFIER]


def test_no_request_grants_the_whole_role() -> None:
    assert grantable_scopes(Role.BANK, None) == ROLE_SCOPES[Role.BANK]
    assert grantable_scopes(Role.BANK, frozenset()) == ROLE_SCOPES[Role.BANK]


def test_a_subset_is_granted_as_asked() -> None:
    assert grantable_scopes(Role.BANK, frozenset({"profile", "pledges:manage"})) == {
        Scope.PROFILE,
        Scope.PLEDGES_MANAGE,
    }


def test_scopes_outside_the_role_or_unknown_are_refused() -> None:
    with pytest.raises(Forbidden, match="cannot hold scope"):
        grantable_scopes(Role.BANK, frozenset({"ledger:write"}))
    with pytest.raises(RuleViolation, match="unknown scope"):
        grantable_scopes(Role.BANK, frozenset({"everything"}))
