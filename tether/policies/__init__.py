"""Tether's policy presets: default, strict, permissive and the dev-tools overlay (YAML)."""

__all__: list[str] = []
