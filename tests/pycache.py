"""The suite's processes keep compiled modules in a cache of their own under ``PYTHONDONTWRITEBYTECODE``.

With the variable set (as on CI's machines), every process the suite starts compiles and
assertion-rewrites each module of every pytest plugin installed, ours included, from source again:
langsmith, schemathesis and hypothesis alone are about 450 modules, seconds of CPU for each inner
pytest that runs cold. The variable asks that the checkout get no ``__pycache__``; a cache under
the temporary folder (``PYTHONPYCACHEPREFIX``) honours that and is shared by every process of the
run and the next. A compiled file is trusted by its source's mtime in whole seconds and its size,
and tests rewrite their projects' files between inner runs within a second: pytest's temporary
root is made unwritable in the cache (a file stands where its folder would be), so the modules of
test projects are compiled afresh every time, as before.

The suite's own process, started with the variable set, takes the same cache: its in-process inner
sessions (``pytester.runpytest_inprocess``) forget the modules each imported, so every one of them
imported ours and several plugins' lazily loaded modules again, assertion-rewriting each from source
(about 7,000 rewrites, 35 s of CPU, in ``tests/test_docs.py`` alone).
"""

from __future__ import annotations

import contextlib
import getpass
import os
import sys
import tempfile
from pathlib import Path


def use_suite_cache() -> None:
    """Before any process starts: swap the 'write no bytecode' switch for a cache outside the tree."""
    if not os.environ.get("PYTHONDONTWRITEBYTECODE") or os.environ.get("PYTHONPYCACHEPREFIX"):
        return
    prefix = Path(tempfile.gettempdir()) / f"agentops-test-pycache-{os.getuid()}"
    temp_root = Path(tempfile.gettempdir()).resolve() / f"pytest-of-{getpass.getuser()}"
    block = prefix.joinpath(*temp_root.parts[1:])
    with contextlib.suppress(OSError):
        block.parent.mkdir(parents=True, exist_ok=True)
        block.touch()
    if block.is_file():  # else (a folder there already, or no cache at all) keep compiling everything
        os.environ["PYTHONPYCACHEPREFIX"] = str(prefix)
        del os.environ["PYTHONDONTWRITEBYTECODE"]
        # Python and pytest's rewriter read both at every import: this process now caches as its children do.
        sys.pycache_prefix = str(prefix)
        sys.dont_write_bytecode = False
