"""Identity use cases: organisations, users, passwords, API keys and bearer tokens."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import AuthenticationFailed, Conflict, NotFound, RuleViolation
from domain.identity.roles import Role, Scope, grantable_scopes
from services.audit import Actor, record
from services.identity.tables import ApiKey, AppUser, Organisation

_hasher = PasswordHasher()
# Verifying against this keeps an unknown username as slow as a wrong password (no user enumeration by timing).
_DUMMY_HASH = _hasher.hash("not-a-real-password")
API_KEY_PREFIX = "bsk"
JWT_ALGORITHM = "HS256"
JWT_AUDIENCE = "bashan-api"


@dataclass(frozen=True)
class Principal:
    """Who is calling: an organisation, through a user or an API key, with the scopes of the token."""

    organisation_id: uuid.UUID
    role: Role
    scopes: frozenset[Scope]
    user_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None
    subject: str = ""

    @property
    def actor(self) -> Actor:
        return Actor(self.organisation_id, self.user_id, self.api_key_id)

    @property
    def key(self) -> str:
        """A stable name of the caller, for idempotency keys and rate limits."""
        return self.subject


@dataclass(frozen=True)
class IssuedApiKey:
    record: ApiKey
    client_id: str
    secret: str

    @property
    def token(self) -> str:
        """The whole key as one string, usable as a bearer token; shown once."""
        return f"{self.client_id}.{self.secret}"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _check_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _hash_secret(secret: str) -> bytes:
    # API key secrets are 256-bit random strings, so a fast hash is safe; argon2 would slow every request.
    return hashlib.sha256(secret.encode()).digest()


async def create_organisation(session: AsyncSession, *, name: str, role: Role, actor: Actor | None) -> Organisation:
    organisation = Organisation(name=name.strip(), role=role.value)
    session.add(organisation)
    try:
        await session.flush()
    except IntegrityError as error:
        raise Conflict(f"an organisation named {name!r} exists", code="organisation_exists") from error
    await record(session, actor, "organisation.created", "organisation", organisation.id, {"role": role.value})
    return organisation


async def get_organisation(session: AsyncSession, organisation_id: uuid.UUID) -> Organisation:
    organisation = await session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("no such organisation", code="organisation_not_found")
    return organisation


async def find_organisation(session: AsyncSession, name: str) -> Organisation | None:
    result = await session.execute(select(Organisation).where(Organisation.name == name))
    return result.scalar_one_or_none()


async def create_user(
    session: AsyncSession,
    *,
    organisation_id: uuid.UUID,
    username: str,
    password: str,
    display_name: str | None = None,
    actor: Actor | None,
) -> AppUser:
    if len(password) < 10:
        raise RuleViolation("a password needs at least 10 characters", code="weak_password")
    await get_organisation(session, organisation_id)
    password_hash = await asyncio.to_thread(hash_password, password)
    user = AppUser(
        organisation_id=organisation_id,
        username=username.strip().lower(),
        display_name=display_name or username,
        password_hash=password_hash,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as error:
        raise Conflict(f"the username {username!r} is taken", code="username_taken") from error
    await record(session, actor, "user.created", "app_user", user.id, {"username": user.username})
    return user


async def list_users(session: AsyncSession, organisation_id: uuid.UUID) -> list[AppUser]:
    result = await session.execute(
        select(AppUser).where(AppUser.organisation_id == organisation_id).order_by(AppUser.username)
    )
    return list(result.scalars())


async def authenticate_password(
    session: AsyncSession, username: str, password: str, requested: frozenset[str] | None
) -> Principal:
    row = (
        await session.execute(
            select(AppUser, Organisation)
            .join(Organisation, Organisation.id == AppUser.organisation_id)
            .where(AppUser.username == username.strip().lower())
        )
    ).one_or_none()
    if row is None:
        await asyncio.to_thread(_check_password, _DUMMY_HASH, password)
        raise AuthenticationFailed("wrong username or password", code="invalid_grant")
    user, organisation = row
    if not await asyncio.to_thread(_check_password, user.password_hash, password) or not user.is_active:
        raise AuthenticationFailed("wrong username or password", code="invalid_grant")
    role = Role(organisation.role)
    return Principal(
        organisation_id=organisation.id,
        role=role,
        scopes=grantable_scopes(role, requested),
        user_id=user.id,
        subject=f"user:{user.id}",
    )


async def create_api_key(
    session: AsyncSession,
    *,
    organisation_id: uuid.UUID,
    name: str,
    scopes: frozenset[str] | None,
    actor: Actor | None,
) -> IssuedApiKey:
    organisation = await get_organisation(session, organisation_id)
    granted = grantable_scopes(Role(organisation.role), scopes)
    client_id = f"{API_KEY_PREFIX}_{secrets.token_hex(8)}"
    secret = secrets.token_urlsafe(32)
    api_key = ApiKey(
        organisation_id=organisation_id,
        created_by=actor.user_id if actor else None,
        name=name,
        client_id=client_id,
        secret_hash=_hash_secret(secret),
        scopes=sorted(scope.value for scope in granted),
    )
    session.add(api_key)
    await session.flush()
    await record(session, actor, "api_key.created", "api_key", api_key.id, {"client_id": client_id, "name": name})
    return IssuedApiKey(api_key, client_id, secret)


async def list_api_keys(session: AsyncSession, organisation_id: uuid.UUID) -> list[ApiKey]:
    result = await session.execute(
        select(ApiKey).where(ApiKey.organisation_id == organisation_id).order_by(ApiKey.created_at, ApiKey.id)
    )
    return list(result.scalars())


async def revoke_api_key(session: AsyncSession, *, api_key_id: uuid.UUID, principal: Principal) -> ApiKey:
    api_key = await session.get(ApiKey, api_key_id, with_for_update=True)
    # Another organisation's key is reported as missing: its existence is private.
    if api_key is None or api_key.organisation_id != principal.organisation_id:
        raise NotFound("no such API key", code="api_key_not_found")
    if api_key.revoked_at is None:
        api_key.revoked_at = datetime.now(UTC)
        await record(session, principal.actor, "api_key.revoked", "api_key", api_key.id, {})
    return api_key


async def authenticate_api_key(
    session: AsyncSession, client_id: str, secret: str, requested: frozenset[str] | None = None
) -> Principal:
    row = (
        await session.execute(
            select(ApiKey, Organisation)
            .join(Organisation, Organisation.id == ApiKey.organisation_id)
            .where(ApiKey.client_id == client_id)
        )
    ).one_or_none()
    if row is None:
        raise AuthenticationFailed("unknown or revoked API key", code="invalid_client")
    api_key, organisation = row
    if api_key.revoked_at is not None or not hmac.compare_digest(api_key.secret_hash, _hash_secret(secret)):
        raise AuthenticationFailed("unknown or revoked API key", code="invalid_client")
    held = frozenset(api_key.scopes)
    if requested:
        unheld = requested - held
        if unheld:
            raise AuthenticationFailed(
                f"this API key does not hold scope(s): {', '.join(sorted(unheld))}", code="invalid_scope"
            )
        held = requested
    await session.execute(update(ApiKey).where(ApiKey.id == api_key.id).values(last_used_at=func.now()))
    return Principal(
        organisation_id=organisation.id,
        role=Role(organisation.role),
        scopes=frozenset(Scope(name) for name in held),
        api_key_id=api_key.id,
        subject=f"api_key:{api_key.id}",
    )


def split_api_key(token: str) -> tuple[str, str] | None:
    """``bsk_<id>.<secret>`` into its client id and secret, or None if the token is not an API key."""
    if not token.startswith(API_KEY_PREFIX + "_") or "." not in token:
        return None
    client_id, secret = token.split(".", 1)
    return client_id, secret


def issue_access_token(principal: Principal, *, secret_key: str, minutes: int) -> tuple[str, int]:
    now = datetime.now(UTC)
    expires_in = minutes * 60
    claims = {
        "sub": principal.subject,
        "org": str(principal.organisation_id),
        "role": principal.role.value,
        "scope": " ".join(sorted(scope.value for scope in principal.scopes)),
        "aud": JWT_AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(seconds=expires_in),
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, secret_key, algorithm=JWT_ALGORITHM), expires_in


def decode_access_token(token: str, *, secret_key: str) -> Principal:
    try:
        claims = jwt.decode(
            token,
            secret_key,
            algorithms=[JWT_ALGORITHM],
            audience=JWT_AUDIENCE,
            options={"require": ["exp", "sub", "org", "role", "scope"]},
        )
        kind, _, identifier = str(claims["sub"]).partition(":")
        subject_id = uuid.UUID(identifier)
        return Principal(
            organisation_id=uuid.UUID(claims["org"]),
            role=Role(claims["role"]),
            scopes=frozenset(Scope(name) for name in str(claims["scope"]).split()),
            user_id=subject_id if kind == "user" else None,
            api_key_id=subject_id if kind == "api_key" else None,
            subject=str(claims["sub"]),
        )
    except jwt.ExpiredSignatureError as error:
        raise AuthenticationFailed("the access token has expired", code="invalid_token") from error
    except (jwt.InvalidTokenError, ValueError, KeyError) as error:
        raise AuthenticationFailed("the access token is not valid", code="invalid_token") from error


async def api_key_is_live(session: AsyncSession, api_key_id: uuid.UUID) -> bool:
    """A token minted from an API key dies with the key: revocation takes effect at once."""
    row = (await session.execute(select(ApiKey.revoked_at).where(ApiKey.id == api_key_id))).one_or_none()
    return row is not None and row.revoked_at is None
