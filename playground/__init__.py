"""Playground: a team workbench for OpenAI-compatible LLM APIs."""
