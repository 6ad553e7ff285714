"""Build steps that make model folders in the cache directory (`slm-mesh models`)."""
