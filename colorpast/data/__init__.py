"""Data: where photos come from (``sources``) and how they reach a model (``pipeline``)."""
