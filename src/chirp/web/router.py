"""Collects every web page router; all of them are CSRF-protected."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from chirp.web.csrf import verify_csrf

web_router = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)
