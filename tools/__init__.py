"""The tool registry: HTTP tools declared in flows.yaml, Python tools from a bot's `tools/`
folder, and built-ins such as hand-off to a human. Filled in by the tools issue; the turn
graph's skill kinds ('form', 'agent') are where tools plug in."""
