"""Model converters: registry-installed model files to ONNX graphs, converted once and cached.

Converted weights are derived data: they live in the user's cache directory keyed by the
source file's sha256 and are never shipped with OpenLFR.
"""
