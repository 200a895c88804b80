"""Rate-limit checks used as dependencies by the API, the pages and the auth layer."""

from __future__ import annotations

from dataclasses import dataclass

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
    headers["retry-after"] = str(verdict.retry_after)
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


async def enforce_uploads(request: Request) -> None:
    """Dependency: the per-account limit on image uploads (needs the user resolved first)."""
    user_id = getattr(request.state, "user_id", None)
    if user_id is not None:
        await enforce(request, "media", f"acct:{user_id}")


def _ip_key(request: Request) -> str:
    return f"ip:{client_ip(request.scope)}"


@dataclass(frozen=True)
class PerIp:
    """Dependency: a stricter per-IP limit for one action (e.g. logging in)."""

    rule: str

    async def __call__(self, request: Request) -> None:
        # A callable object rather than a closure: what runs per request is a method, not
        # code built once at import time, so it can be tried by mutation testing too.
        await enforce(request, self.rule, _ip_key(request))


async def failed_logins(request: Request, account: str) -> Verdict:
    """The standing of password guessing against one account (``account`` names it once,
    however it was spelt), without counting."""
    return await _limiter(request).peek("login_account", account)


async def count_failed_login(request: Request, account: str) -> None:
    """Count a failed password for an account (only failures count, so owners aren't locked out
    by their own successful logins)."""
    await _limiter(request).hit("login_account", account)


async def signup_refused(request: Request) -> Verdict | None:
    """Count a sign-up attempt from this address; return the used-up window that refuses it.

    Only sign-ups that succeed use up the ``signup`` window (see count_signup), so typos never
    lock anyone out; every attempt counts towards the much larger ``signup_attempts`` ceiling.
    """
    ip = _ip_key(request)
    attempts = await _limiter(request).hit("signup_attempts", ip)
    _keep_tightest(request, attempts)
    if not attempts.allowed:
        return attempts
    done = await _limiter(request).peek("signup", ip)
    return None if done.allowed else done


async def count_signup(request: Request) -> None:
    """Count a successful sign-up from this address."""
    await _limiter(request).hit("signup", _ip_key(request))


def refusal(verdict: Verdict) -> HTTPException:
    """The 429 answer for a used-up window, with its X-RateLimit-* headers."""
    return _refuse(verdict)
