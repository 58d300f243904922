"""Conformance of the simulators to the official OpenAPI documents vendored under ``specs/``."""
