"""parley: business chatbots and agents for Slack, WhatsApp and the web.

One import package, `parley_bot`, whose subpackages are the repository's top-level folders
(`agents`, `channels`, `tools`, `knowledge`; symbolic links here, real folders in the
wheel). Installing parley therefore adds a single import name, which neither OpenAI's
Agents SDK (`agents`) nor Django Channels (`channels`) nor a bot's own `tools/` folder
can collide with.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("parley-bot")
except PackageNotFoundError:  # a source checkout that was never installed
    __version__ = "0.0.0+unknown"
