"""Named, reusable selects, one module per area; they read and never commit."""
