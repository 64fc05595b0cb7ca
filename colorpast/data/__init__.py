"""Data: where photos come from (``sources``, ``download``), how they are stored (``prepare`` into
``shards``) and how they reach the train step (``loader``: uint8 crops, nothing more)."""
