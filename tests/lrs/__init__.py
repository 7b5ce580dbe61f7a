"""Tests of the xAPI Learning Record Store."""
