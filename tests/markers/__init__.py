"""Tests of markers."""
