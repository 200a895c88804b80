"""Rate-limit checks used as dependencies by the API, the pages and the auth layer."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request

from chirp.ratelimit.limiter import RateLimiter, Verdict
from chirp.ratelimit.middleware import client_ip, limit_headers


def _limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


def _keep_tightest(request: Request, verdict: Verdict) -> None:
    current: Verdict | None = getattr(request.state, "ratelimit", None)
    if current is None or verdict.remaining < current.remaining:
        request.state.ratelimit = verdict


def _refuse(verdict: Verdict) -> HTTPException:
    headers = {k.decode(): v.decode() for k, v in limit_headers(verdict)}
    return HTTPException(status_code=429, detail="Too many requests", headers=headers)


async def enforce(request: Request, rule: str, key: str) -> None:
    """Count a hit under ``rule`` for ``key``; answer 429 once the window is used up."""
    verdict = await _limiter(request).hit(rule, key)
    _keep_tightest(request, verdict)
    if not verdict.allowed:
        raise _refuse(verdict)


async def enforce_account(request: Request, user_id: int) -> None:
    """Apply the general per-account limit to an authenticated API call or form post."""
    request.state.user_id = user_id
    await enforce(request, "api", f"acct:{user_id}")


async def enforce_posting(request: Request) -> None:
    """Dependency: the per-account limit on new posts (needs the user resolved first)."""
    user_id = getattr(request.state, "user_id", None)
    if user_id is not None:
        await enforce(request, "post", f"acct:{user_id}")


def per_ip(rule: str) -> Callable[[Request], Coroutine[Any, Any, None]]:
    """Dependency: a stricter per-IP limit for one action (e.g. sign-up)."""

    async def dependency(request: Request) -> None:
        await enforce(request, rule, f"ip:{client_ip(request.scope)}")

    return dependency


async def login_blocked(request: Request, login: str) -> bool:
    """Whether password guessing against this account has used up its window."""
    verdict = await _limiter(request).peek("login_account", login.strip().lower())
    return not verdict.allowed


async def count_failed_login(request: Request, login: str) -> None:
    """Count a failed password for an account (only failures count, so owners aren't locked out
    by their own successful logins)."""
    await _limiter(request).hit("login_account", login.strip().lower())
