"""Runnable usage examples (README.md here); ``python -m examples.server`` serves their pages."""
