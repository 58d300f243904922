"""Example suite set-up: a dummy API key, since replay never sends it anywhere."""

import os

os.environ.setdefault("OPENAI_API_KEY", "sk-replay-only-not-a-real-key-000000")
