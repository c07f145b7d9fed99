"""Renderers: texts, keyboards, tables, documents and charts; they never change state."""
