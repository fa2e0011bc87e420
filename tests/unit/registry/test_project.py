from __future__ import annotations

import itertools

import pytest

from domain.errors import Forbidden, InvalidState, RuleViolation
from domain.identity.roles import Role
from domain.registry.project import (
    NEEDS_REASONS,
    PERFORMER,
    TRANSITIONS,
    Actor,
    Project,
    ProjectAction,
    ProjectState,
)

S, A = ProjectState, ProjectAction
OWNER = Actor("org-owner", Role.PROJECT_OWNER)
VERIFIER = Actor("org-verifier", Role.VERIFIER, accredited_verifier=True)
OPERATOR = Actor("org-operator", Role.OPERATOR)
ACTORS = {Role.PROJECT_OWNER: OWNER, Role.VERIFIER: VERIFIER, Role.OPERATOR: OPERATOR}

# Actions that lead to each state from draft, by the right actors.
PATH_TO: dict[ProjectState, list[ProjectAction]] = {
    S.DRAFT: [],
    S.VALIDATING: [A.SUBMIT],
    S.PUBLIC_NOTICE: [A.SUBMIT, A.VALIDATE],
    S.REGISTERED: [A.SUBMIT, A.VALIDATE, A.REGISTER],
    S.MONITORING: [A.SUBMIT, A.VALIDATE, A.REGISTER, A.START_MONITORING],
    S.VERIFYING: [A.SUBMIT, A.VALIDATE, A.REGISTER, A.START_MONITORING, A.SUBMIT_MONITORING_REPORT],
    S.ISSUED: [
        A.SUBMIT,
        A.VALIDATE,
        A.REGISTER,
        A.START_MONITORING,
        A.SUBMIT_MONITORING_REPORT,
        A.VERIFY,
        A.APPROVE_ISSUANCE,
    ],
    S.WITHDRAWN: [A.SUBMIT, A.WITHDRAW],
    S.DEREGISTERED: [A.SUBMIT, A.VALIDATE, A.REGISTER, A.DEREGISTER],
}


def act(project: Project, action: ProjectAction, reasons: tuple[str, ...] = ()) -> None:
    project.perform(
        action, ACTORS[PERFORMER[action]], reasons or (("plot 3 volumes look high",) if action in NEEDS_REASONS else ())
    )


def project_in(state: ProjectState, *, verified: bool = False) -> Project:
    project = Project("BZ-NJ-2026-001", OWNER.organisation_id)
    for action in PATH_TO[state]:
        act(project, action)
    if verified:
        act(project, A.VERIFY)
    assert project.state is state
    return project


def test_the_transition_table_is_exactly_the_documented_lifecycle() -> None:
    assert {(state.value, action.value): target.value for (state, action), target in TRANSITIONS.items()} == {
        ("draft", "submit"): "validating",
        ("validating", "return_for_corrections"): "draft",
        ("validating", "validate"): "public_notice",
        ("public_notice", "reject_registration"): "draft",
        ("public_notice", "register"): "registered",
        ("registered", "start_monitoring"): "monitoring",
        ("issued", "start_monitoring"): "monitoring",
        ("monitoring", "submit_monitoring_report"): "verifying",
        ("verifying", "request_corrections"): "monitoring",
        ("verifying", "verify"): "verifying",
        ("verifying", "approve_issuance"): "issued",
        ("draft", "withdraw"): "withdrawn",
        ("validating", "withdraw"): "withdrawn",
        ("public_notice", "withdraw"): "withdrawn",
        ("registered", "deregister"): "deregistered",
        ("monitoring", "deregister"): "deregistered",
        ("verifying", "deregister"): "deregistered",
        ("issued", "deregister"): "deregistered",
    }
    assert {action: role.value for action, role in PERFORMER.items()} == {
        A.SUBMIT: "project_owner",
        A.RETURN_FOR_CORRECTIONS: "verifier",
        A.VALIDATE: "verifier",
        A.REJECT_REGISTRATION: "operator",
        A.REGISTER: "operator",
        A.START_MONITORING: "project_owner",
        A.SUBMIT_MONITORING_REPORT: "project_owner",
        A.REQUEST_CORRECTIONS: "verifier",
        A.VERIFY: "verifier",
        A.APPROVE_ISSUANCE: "operator",
        A.WITHDRAW: "project_owner",
        A.DEREGISTER: "operator",
    }


@pytest.mark.parametrize(("state", "action"), list(TRANSITIONS))
def test_every_legal_transition_by_its_actor(state: ProjectState, action: ProjectAction) -> None:
    project = project_in(state, verified=action is A.APPROVE_ISSUANCE)
    before = len(project.history)
    transition = project.perform(action, ACTORS[PERFORMER[action]], ("reason",) if action in NEEDS_REASONS else ())
    assert project.state is TRANSITIONS[(state, action)]
    assert (transition.from_state, transition.to_state, transition.action) == (state, project.state, action)
    assert transition.role is PERFORMER[action]
    assert len(project.history) == before + 1


ILLEGAL = [pair for pair in itertools.product(ProjectState, ProjectAction) if pair not in TRANSITIONS]


@pytest.mark.parametrize(("state", "action"), ILLEGAL)
def test_every_illegal_transition_is_refused_and_changes_nothing(state: ProjectState, action: ProjectAction) -> None:
    project = project_in(state)
    history = list(project.history)
    with pytest.raises(InvalidState, match=f"cannot {action.value} project BZ-NJ-2026-001 in state {state.value}"):
        project.perform(action, ACTORS[PERFORMER[action]], ("reason",))
    assert project.state is state
    assert project.history == history


def test_illegal_transition_message_lists_what_is_allowed() -> None:
    with pytest.raises(InvalidState, match=r"allowed in monitoring: submit_monitoring_report, deregister$") as caught:
        project_in(S.MONITORING).perform(A.REGISTER, OPERATOR)
    assert caught.value.code == "invalid_state"


@pytest.mark.parametrize("state", [S.WITHDRAWN, S.DEREGISTERED])
def test_withdrawn_and_deregistered_are_final(state: ProjectState) -> None:
    project = project_in(state)
    assert project.legal_actions() == []
    for action in ProjectAction:
        with pytest.raises(InvalidState, match=r"allowed in .*: nothing \(final\)"):
            project.perform(action, ACTORS[PERFORMER[action]], ("reason",))
    assert project.state is state


def test_deregistration_stops_issuance_of_a_verified_period() -> None:
    project = project_in(S.VERIFYING, verified=True)
    act(project, A.DEREGISTER)
    with pytest.raises(InvalidState, match="cannot approve_issuance"):
        project.perform(A.APPROVE_ISSUANCE, OPERATOR)


@pytest.mark.parametrize(("state", "action"), list(TRANSITIONS))
def test_every_other_role_is_forbidden(state: ProjectState, action: ProjectAction) -> None:
    for role in Role:
        if role is PERFORMER[action]:
            continue
        project = project_in(state, verified=action is A.APPROVE_ISSUANCE)
        with pytest.raises(Forbidden, match=f"{action.value} is done by the {PERFORMER[action].value}"):
            project.perform(action, Actor("org-x", role, accredited_verifier=True), ("reason",))
        assert project.state is state


def test_another_owner_cannot_act_for_the_project() -> None:
    project = project_in(S.DRAFT)
    with pytest.raises(Forbidden, match="only the owner of project BZ-NJ-2026-001 may submit"):
        project.perform(A.SUBMIT, Actor("org-other-owner", Role.PROJECT_OWNER))


@pytest.mark.parametrize("action", [A.VALIDATE, A.RETURN_FOR_CORRECTIONS])
def test_an_unaccredited_verifier_is_refused(action: ProjectAction) -> None:
    project = project_in(S.VALIDATING)
    with pytest.raises(Forbidden, match="not accredited") as caught:
        project.perform(action, Actor("org-v2", Role.VERIFIER), ("reason",))
    assert caught.value.code == "verifier_not_accredited"


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (S.VALIDATING, A.RETURN_FOR_CORRECTIONS),
        (S.PUBLIC_NOTICE, A.REJECT_REGISTRATION),
        (S.VERIFYING, A.REQUEST_CORRECTIONS),
        (S.PUBLIC_NOTICE, A.WITHDRAW),
        (S.ISSUED, A.DEREGISTER),
    ],
)
def test_sending_back_needs_reasons(state: ProjectState, action: ProjectAction) -> None:
    project = project_in(state)
    with pytest.raises(RuleViolation, match="needs at least one reason") as caught:
        project.perform(action, ACTORS[PERFORMER[action]], ("  ",))
    assert caught.value.code == "reasons_required"
    transition = project.perform(action, ACTORS[PERFORMER[action]], (" plot 3 volume too high ", "no photos"))
    assert transition.reasons == ("plot 3 volume too high", "no photos")


def test_issuance_needs_an_approving_verification_of_this_period() -> None:
    project = project_in(S.VERIFYING)
    with pytest.raises(InvalidState, match="period 1 has no approving verification statement"):
        project.perform(A.APPROVE_ISSUANCE, OPERATOR)
    act(project, A.VERIFY)
    with pytest.raises(InvalidState, match="already verified"):
        project.perform(A.VERIFY, VERIFIER)
    act(project, A.APPROVE_ISSUANCE)
    assert (project.state, project.period) == (S.ISSUED, 1)


def test_corrections_withdraw_a_verification_and_periods_count_up() -> None:
    project = project_in(S.ISSUED)
    act(project, A.START_MONITORING)
    assert (project.state, project.period) == (S.MONITORING, 2)
    act(project, A.SUBMIT_MONITORING_REPORT)
    act(project, A.VERIFY)
    act(project, A.REQUEST_CORRECTIONS)  # a verifier may take back an approval before the operator acts
    assert (project.state, project.verified_period) == (S.MONITORING, None)
    act(project, A.SUBMIT_MONITORING_REPORT)
    with pytest.raises(InvalidState):
        project.perform(A.APPROVE_ISSUANCE, OPERATOR)
    act(project, A.VERIFY)
    act(project, A.APPROVE_ISSUANCE)
    assert (project.state, project.period) == (S.ISSUED, 2)
    assert [item.period for item in project.history if item.action is A.APPROVE_ISSUANCE] == [1, 2]
