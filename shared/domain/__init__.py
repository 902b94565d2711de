"""The business core: counters, slots, bookings and their rules. Imports nothing from Azure, Graph or Jinja2."""
