"""Tests of the pure rules package."""
