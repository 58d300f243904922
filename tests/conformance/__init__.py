"""Conformance of the simulators to the official OpenAPI documents vendored under ``specs/``.

- ``openapi_check.SpecChecker``: ``violations(method, path, status, body)`` against one document,
  Stripe strictly, HubSpot/Zendesk with ``null_anywhere=True`` (see its docstring for why);
- ``trim``: vendor only the implemented operations of a large document (``python
  tests/conformance/trim.py --help``), with its source, version and licence recorded;
- ``recorder.Recorder``: wraps a simulator class's ``handle()`` and validates every answer;
- ``stripe``: the billing tests' autouse fixture built from the three above.
"""
