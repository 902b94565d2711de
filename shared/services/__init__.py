"""Use cases: each public function is one thing a citizen, an agent or the system does."""
