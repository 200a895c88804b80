"""Tests of direct messages and conversations."""
