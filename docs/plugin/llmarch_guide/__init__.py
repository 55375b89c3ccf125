"""The build of the guide: a MkDocs plugin (``plugin.py``) that runs every snippet once and shows what it did."""
