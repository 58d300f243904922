"""Framework matrix tests: a package, so its conftest is ``frameworks.conftest`` and never shadows tests/conftest.py."""
