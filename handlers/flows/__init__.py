"""Conversation flows: parse, call a service, render."""
