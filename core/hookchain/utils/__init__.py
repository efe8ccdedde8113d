"""Helpers under LangChain's module paths (as ``langchain_core.utils``)."""
