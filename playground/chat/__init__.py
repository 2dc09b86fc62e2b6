"""Chat: conversations with a model and the rendering of its answers."""
