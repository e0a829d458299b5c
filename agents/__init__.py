"""The brain of a parley bot: the flows.yaml schema and loader, the LangGraph turn graph and
its nodes, model configuration and cost accounting, conversation memory."""
