"""Helpers of tests/test_docs.py: read the fenced code blocks of the docs and run each one.

The conventions (languages, the ``<!-- ... -->`` directives above a block) are documented at the
top of tests/test_docs.py and in docs/index.md ("Writing docs").
"""
