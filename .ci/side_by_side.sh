#!/usr/bin/env bash
# parley's wheel installed next to OpenAI's Agents SDK (import name `agents`) and Django
# Channels (`channels`) in a fresh virtualenv: all three must import, and a bot folder with
# its own tools/ package must not shadow parley's. Run by .ci/run, outside the unit tests.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$PYTHON" -m venv "$work/venv"
pip="$work/venv/bin/pip"
"$pip" install -qq --upgrade pip
"$pip" wheel -qq --no-deps . -w "$work/dist"
"$pip" install -qq "$work"/dist/parley_bot-*.whl openai-agents channels

# Only one top-level import name comes from parley's wheel.
"$work/venv/bin/python" - "$work"/dist/parley_bot-*.whl <<'PY'
import sys
import zipfile

names = {n.split("/")[0] for n in zipfile.ZipFile(sys.argv[1]).namelist()}
top = sorted(n for n in names if not n.endswith((".dist-info", ".data")))
assert top == ["parley_bot"], f"parley's wheel installs more than one import name: {top}"
PY

# A bot folder whose own tools/ package would break any import of a top-level `tools`.
bot="$work/bot"
mkdir -p "$bot/tools"
echo 'raise ImportError("the bot folder tools/ was imported in place of parley_bot.tools")' \
    > "$bot/tools/__init__.py"
cd "$bot"
"$work/venv/bin/python" - <<'PY'
import sys

sys.path.insert(0, ".")  # as `python -m` or a bot's own script would have it

import agents
import channels
import channels.layers
import parley_bot
import parley_bot.agents.bot
import parley_bot.channels.cli
import parley_bot.tools

assert hasattr(agents, "Agent") and hasattr(agents, "Runner"), agents.__file__
assert "site-packages/channels" in channels.__file__, channels.__file__
assert parley_bot.tools.__file__.startswith(parley_bot.__path__[0]), parley_bot.tools.__file__
print(f"side by side: agents {agents.__file__}\n              channels {channels.__file__}\n"
      f"              parley_bot {parley_bot.__version__} {parley_bot.__file__}")
PY
"$work/venv/bin/parley" --version
"$work/venv/bin/parley" init demo >/dev/null && "$work/venv/bin/parley" check -f demo/flows.yaml
"$work/venv/bin/parley" init --example shop >/dev/null && "$work/venv/bin/parley" check -f shop/flows.yaml
