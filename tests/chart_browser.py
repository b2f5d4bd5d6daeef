"""The one skip marker for tests that draw with Debian's chromium (``.ci/run`` installs it)."""

from __future__ import annotations

import os
import shutil

import pytest

from core.report.export_browser import DEFAULT_BROWSER

HAS_CHROMIUM = os.path.exists(os.environ.get("BROWSER_PATH", DEFAULT_BROWSER)) or shutil.which("chromium") is not None
needs_chromium = pytest.mark.skipif(not HAS_CHROMIUM, reason="needs Debian's chromium (.ci/run installs it)")
