"""Thin widgets the screens compose."""
