"""Collects every API router (Mastodon-compatible endpoints and OAuth)."""

from __future__ import annotations

from fastapi import APIRouter

api_router = APIRouter()
