"""Business rules, one module per rule area; each public function is one unit of work."""
