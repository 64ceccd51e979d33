"""Publishing: a curated dataset folder (Parquet per config), its card, and pushing it to a hub."""
