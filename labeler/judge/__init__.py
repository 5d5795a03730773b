"""The LLM judge: prompts, runs through any OpenAI-compatible endpoint, the Batch API."""
