"""Reusable dashboard pieces: data access, translations, tiles, maps, charts."""
